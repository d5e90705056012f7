import Foundation
import NIOHTTP1
import OrcaCore

/// The measurements of `orca bench api` against one API server: paced creates, gets, lists of a
/// full namespace, watch delivery latency, and bulk creates (for storing many pods).
struct APIBenchmark: Sendable {
    let client: BenchAPIClient
    let clock = ContinuousClock()

    /// The namespace the objects of this run go to.
    static func configMapsPath(_ namespace: String) -> String { "/api/v1/namespaces/\(namespace)/configmaps" }

    /// A small ConfigMap named `name`.
    static func configMap(_ name: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(name), "labels": ["app": "orca-bench"]],
            "data": ["key": "value", "name": .string(name)],
        ]
    }

    /// A minimal pod that no scheduler picks up (its own scheduler name and an unsatisfiable
    /// node selector), so it stays Pending even on a cluster with nodes.
    static func pendingPod(_ name: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "labels": ["app": "orca-bench"]],
            "spec": [
                "schedulerName": "orca-bench-unscheduled",
                "nodeSelector": ["orca-bench/unschedulable": "true"],
                "containers": [["name": "main", "image": "docker.io/library/busybox:1.35", "command": ["sleep", "3600"]]],
            ],
        ]
    }

    /// Creates namespace `name`.
    func createNamespace(_ name: String) async throws {
        try await client.expect(.POST, "/api/v1/namespaces", json: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
    }

    /// POSTs `count` objects to `path`, request `i` sent at `start + i/rate` whether or not earlier
    /// ones have answered (open loop), and records each request's latency.
    func pacedCreate(_ name: String, path: String, count: Int, rate: Int, object: @escaping @Sendable (Int) -> JSONValue) async throws -> LatencySamples {
        var samples = LatencySamples(name: name)
        let start = clock.now
        let interval = Duration.seconds(1) / max(rate, 1)
        let client = self.client, clock = self.clock
        try await withThrowingTaskGroup(of: Duration.self) { group in
            for i in 0..<count {
                try await clock.sleep(until: start + interval * i)
                group.addTask {
                    let t0 = clock.now
                    try await client.expect(.POST, path, json: object(i))
                    return t0.duration(to: clock.now)
                }
            }
            for try await d in group { samples.record(d) }
        }
        samples.elapsed = start.duration(to: clock.now)
        return samples
    }

    /// Runs `count` requests with at most `concurrency` in flight (closed loop) and records each
    /// request's latency; `request(i)` performs request `i`.
    func closedLoop(_ name: String, count: Int, concurrency: Int, unit: String = "req", unitsPerSample: Int = 1,
                    request: @escaping @Sendable (Int) async throws -> Void) async throws -> LatencySamples {
        var samples = LatencySamples(name: name, unit: unit, unitsPerSample: unitsPerSample)
        let start = clock.now
        let clock = self.clock
        try await withThrowingTaskGroup(of: Duration.self) { group in
            var next = 0
            func add(_ i: Int) {
                group.addTask {
                    let t0 = clock.now
                    try await request(i)
                    return t0.duration(to: clock.now)
                }
            }
            while next < min(concurrency, count) { add(next); next += 1 }
            while let d = try await group.next() {
                samples.record(d)
                if next < count { add(next); next += 1 }
            }
        }
        samples.elapsed = start.duration(to: clock.now)
        return samples
    }

    /// Lists `path` `iterations` times, one at a time, after checking that it holds at least
    /// `expected` items (a namespace also holds its `kube-root-ca.crt`); the row names the actual count.
    func list(path: String, expected: Int, iterations: Int) async throws -> LatencySamples {
        let first = try await client.expect(.GET, path)
        let items = first["items"]?.arrayValue?.count ?? 0
        guard items >= expected else { throw OrcaError(.internalError, "list \(path) returned \(items) items, expected \(expected)") }
        let client = self.client
        return try await closedLoop("list \(items) configmaps", count: iterations, concurrency: 1, unit: "obj", unitsPerSample: items) { _ in
            let r = try await client.send(.GET, path)
            guard r.isSuccess else { throw OrcaError(.internalError, "list \(path) answered \(r.status)") }
        }
    }

    /// Watch delivery: opens a watch on `namespace`'s ConfigMaps at the current resourceVersion,
    /// creates `count` ConfigMaps one at a time (paced at `rate`), and measures for each the time
    /// from its create response to its ADDED event (events that beat the response count as 0 ms;
    /// `early` says how many did) and from sending the create to the event.
    func watchDelivery(namespace: String, count: Int, rate: Int) async throws -> (afterResponse: LatencySamples, afterSend: LatencySamples, early: Int) {
        let path = Self.configMapsPath(namespace)
        let rv = try await client.expect(.GET, path + "?limit=1")[path: ["metadata", "resourceVersion"]]?.stringValue ?? "0"
        let times = WatchTimes()
        let client = self.client, clock = self.clock
        let prefix = "w-\(BenchServer.randomHex(4))-"
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await client.watch(path + "?watch=1&resourceVersion=\(rv)&timeoutSeconds=600") { event in
                    let now = clock.now
                    guard event["type"]?.stringValue == "ADDED",
                          let name = event[path: ["object", "metadata", "name"]]?.stringValue, name.hasPrefix(prefix) else { return true }
                    return await times.arrived(name, at: now) < count
                }
            }
            group.addTask {
                let start = clock.now
                for i in 0..<count {
                    try await clock.sleep(until: start + Duration.seconds(1) / max(rate, 1) * i)
                    let name = prefix + String(i)
                    let sent = clock.now
                    try await client.expect(.POST, path, json: Self.configMap(name))
                    await times.created(name, sent: sent, answered: clock.now)
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(120))
                let arrived = await times.arrivalCount
                throw OrcaError(.timeout, "watch delivered \(arrived) of \(count) events in 120 s")
            }
            for _ in 0..<2 { _ = try await group.next() }
            group.cancelAll()
        }
        // The server notices a closed watch only when it next writes to it: give it one more event.
        try await client.expect(.POST, path, json: Self.configMap(prefix + "closed"))
        return await times.samples()
    }
}

/// Create-response and event-arrival instants per object name, shared by the two sides of a watch measurement.
private actor WatchTimes {
    var sentAt: [String: ContinuousClock.Instant] = [:]
    var createdAt: [String: ContinuousClock.Instant] = [:]
    var arrivedAt: [String: ContinuousClock.Instant] = [:]
    var arrivalCount: Int { arrivedAt.count }

    func created(_ name: String, sent: ContinuousClock.Instant, answered: ContinuousClock.Instant) {
        sentAt[name] = sent
        createdAt[name] = answered
    }

    /// Records the first arrival of `name`; returns how many objects have arrived.
    func arrived(_ name: String, at t: ContinuousClock.Instant) -> Int {
        if arrivedAt[name] == nil { arrivedAt[name] = t }
        return arrivedAt.count
    }

    func samples() -> (afterResponse: LatencySamples, afterSend: LatencySamples, early: Int) {
        var afterResponse = LatencySamples(name: "watch event after create response", unit: "evt")
        var afterSend = LatencySamples(name: "watch event after create sent", unit: "evt")
        var early = 0
        for (key, created) in createdAt.sorted(by: { $0.value < $1.value }) {
            guard let arrived = arrivedAt[key], let sent = sentAt[key] else { continue }
            let d = created.duration(to: arrived)
            if d < .zero { early += 1 }
            afterResponse.record(max(d, .zero))
            afterSend.record(sent.duration(to: arrived))
        }
        if let first = sentAt.values.min(), let last = arrivedAt.values.max() {
            afterResponse.elapsed = first.duration(to: last)
            afterSend.elapsed = afterResponse.elapsed
        }
        return (afterResponse, afterSend, early)
    }
}
