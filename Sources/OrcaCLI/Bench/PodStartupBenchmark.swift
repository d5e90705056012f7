import Foundation
import NIOHTTP1
import OrcaCore

/// Pod startup through Orca's API: the time from sending the create of a pod to a watch event
/// showing it running with all containers started, for a first (cold) pod, pods one at a time,
/// and a burst created concurrently.
struct PodStartupBenchmark: Sendable {
    let client: BenchAPIClient
    let namespace: String
    let clock = ContinuousClock()
    /// How long one pod may take to start before the run fails.
    var runningTimeout: Duration = .seconds(180)

    /// What one run measured.
    struct Results: Sendable {
        var cold: LatencySamples
        var sequential: LatencySamples
        var burst: LatencySamples
        /// Every pod created, for deletion.
        var names: [String]
    }

    var podsPath: String { "/api/v1/namespaces/\(namespace)/pods" }

    /// The benchmark pod: busybox sleeping an hour. The same manifest is given to `podman kube play`.
    static func manifest(name: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "labels": ["app": "orca-bench"]],
            "spec": [
                "terminationGracePeriodSeconds": 1,
                "restartPolicy": "Always",
                "containers": [["name": "main", "image": "docker.io/library/busybox:1.35", "command": ["sleep", "3600"]]],
            ],
        ]
    }

    /// Waits until some node reports `Ready=True`; returns its name.
    func waitNodeReady(timeout: Duration = .seconds(120)) async throws -> String {
        let deadline = clock.now + timeout
        var seen = "no nodes"
        while clock.now < deadline {
            let nodes = try await client.expect(.GET, "/api/v1/nodes")["items"]?.arrayValue ?? []
            for node in nodes {
                let conditions = node[path: ["status", "conditions"]]?.arrayValue ?? []
                let ready = conditions.first { $0["type"]?.stringValue == "Ready" }?["status"]?.stringValue
                if ready == "True", let name = node[path: ["metadata", "name"]]?.stringValue { return name }
                seen = "\(node[path: ["metadata", "name"]]?.stringValue ?? "?") Ready=\(ready ?? "unknown")"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw OrcaError(.timeout, "no node Ready after \(timeout) (\(seen))")
    }

    /// Runs one cold pod, `count` pods one at a time, then `burst` pods at once.
    func run(count: Int, burst: Int) async throws -> Results {
        let tracker = PodRunningTracker()
        let rv = try await client.expect(.GET, podsPath + "?limit=1")[path: ["metadata", "resourceVersion"]]?.stringValue ?? "0"
        let client = self.client, clock = self.clock, path = podsPath, timeout = runningTimeout
        return try await withThrowingTaskGroup(of: Void.self, returning: Results.self) { group in
            group.addTask {
                do {
                    try await client.watch(path + "?watch=1&resourceVersion=\(rv)&timeoutSeconds=3600") { event in
                        await tracker.observe(event, at: clock.now)
                        return true
                    }
                    await tracker.fail(OrcaError(.unavailable, "the pod watch ended"))
                } catch {
                    await tracker.fail(error)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    await tracker.expireWaiters(olderThan: timeout, now: clock.now)
                }
            }
            defer { group.cancelAll() }
            return try await measure(count: count, burst: burst, tracker: tracker)
        }
    }

    private func measure(count: Int, burst: Int, tracker: PodRunningTracker) async throws -> Results {
        let tag = BenchServer.randomHex(4)
        var results = Results(cold: LatencySamples(name: "first pod (cold)", unit: "pod"),
                              sequential: LatencySamples(name: "one at a time", unit: "pod"),
                              burst: LatencySamples(name: "burst of \(burst)", unit: "pod"), names: [])
        BenchLog.info("orca: first pod")
        let coldName = "cold-\(tag)"
        results.names.append(coldName)
        results.cold.record(try await startPod(coldName, tracker: tracker))

        BenchLog.info("orca: \(count) pods one at a time")
        let start = clock.now
        for i in 0..<count {
            let name = "seq-\(tag)-\(i)"
            results.names.append(name)
            results.sequential.record(try await startPod(name, tracker: tracker))
        }
        results.sequential.elapsed = start.duration(to: clock.now)

        BenchLog.info("orca: burst of \(burst) pods")
        let burstNames = (0..<burst).map { "burst-\(tag)-\($0)" }
        results.names += burstNames
        let burstStart = clock.now
        try await withThrowingTaskGroup(of: Duration.self) { group in
            for name in burstNames { group.addTask { try await startPod(name, tracker: tracker) } }
            for try await d in group { results.burst.record(d) }
        }
        results.burst.elapsed = burstStart.duration(to: clock.now)
        return results
    }

    /// Creates pod `name` and waits until the watch shows it running; returns create→running.
    private func startPod(_ name: String, tracker: PodRunningTracker) async throws -> Duration {
        let t0 = clock.now
        try await client.expect(.POST, podsPath, json: Self.manifest(name: name))
        let running = try await tracker.runningInstant(of: name, since: t0)
        return t0.duration(to: running)
    }

    /// Deletes every pod in the namespace (grace 1 s) and waits until none is left.
    func deleteAllPods(timeout: Duration = .seconds(180)) async throws {
        let items = try await client.expect(.GET, podsPath)["items"]?.arrayValue ?? []
        let names = items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        BenchLog.info("orca: deleting \(names.count) pods")
        let client = self.client, path = podsPath
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names {
                group.addTask {
                    let r = try await client.send(.DELETE, path + "/\(name)?gracePeriodSeconds=1")
                    guard r.isSuccess || r.status == 404 else { throw OrcaError(.internalError, "delete pod \(name) answered \(r.status)") }
                }
            }
            try await group.waitForAll()
        }
        let deadline = clock.now + timeout
        var left = names.count
        while clock.now < deadline {
            left = try await client.expect(.GET, podsPath)["items"]?.arrayValue?.count ?? 0
            if left == 0 { BenchLog.info("orca: all pods gone"); return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw OrcaError(.timeout, "\(left) pods still present \(timeout) after deletion")
    }
}
