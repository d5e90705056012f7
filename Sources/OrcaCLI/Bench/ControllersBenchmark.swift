import Foundation
import NIOHTTP1
import OrcaCore

/// The workload controllers through Orca's API, against bare pods as the peer baseline: N bare
/// pods created directly, a Deployment of N replicas, a rolling update of it, and a Job. Totals
/// run from the first write to the end state as its status reports it; per-pod latencies are
/// taken client-side from a pod watch started before the write (ADDED event → first event with
/// `Ready=True`). Each phase removes what it made and waits until it is gone.
struct ControllersBenchmark: Sendable {
    let client: BenchAPIClient
    let namespace: String
    let clock = ContinuousClock()
    /// How long one phase may take before the run fails.
    var phaseTimeout: Duration = .seconds(600)

    static let deploymentName = "bench"
    static let jobName = "bench-job"
    static let image = "docker.io/library/busybox:1.35"
    /// The Deployment's pod label; bare pods get another so its ReplicaSets cannot adopt them.
    static let deploymentLabel = "app=bench"
    static let bareLabel = "app=bench-bare"
    /// Bare pod creates in flight at once.
    static let createConcurrency = 16

    var podsPath: String { "/api/v1/namespaces/\(namespace)/pods" }
    var deploymentsPath: String { "/apis/apps/v1/namespaces/\(namespace)/deployments" }
    var replicaSetsPath: String { "/apis/apps/v1/namespaces/\(namespace)/replicasets" }
    var jobsPath: String { "/apis/batch/v1/namespaces/\(namespace)/jobs" }

    /// What the Deployment create measured.
    struct DeploymentResults: Sendable {
        /// Each pod's ADDED → Ready; `elapsed` is create → the Deployment reporting N ready.
        var ready: LatencySamples
        /// The Deployment create → each pod's ADDED event (the controllers' share).
        var added: LatencySamples
    }

    // MARK: manifests

    /// The pod spec of the bare pods and of the Deployment's template: busybox sleeping an hour
    /// under a shell that exits on SIGTERM, so a deleted pod stops at once.
    static var podSpec: JSONValue {
        [
            "terminationGracePeriodSeconds": 1,
            "restartPolicy": "Always",
            "containers": [[
                "name": "main", "image": .string(image),
                "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
            ]],
        ]
    }

    static func barePod(name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "labels": ["app": "bench-bare"]], "spec": podSpec]
    }

    static func deployment(replicas: Int) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(deploymentName), "labels": ["app": "bench"]],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": ["app": "bench"]],
                "template": ["metadata": ["labels": ["app": "bench"]], "spec": podSpec],
            ],
        ]
    }

    /// What `kubectl rollout restart` sends: a new template annotation, hence new pods.
    static func restartPatch(_ value: String) -> JSONValue {
        ["spec": ["template": ["metadata": ["annotations": ["kubectl.kubernetes.io/restartedAt": .string(value)]]]]]
    }

    static func job(completions: Int, parallelism: Int) -> JSONValue {
        [
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": ["name": .string(jobName)],
            "spec": [
                "completions": .int(Int64(completions)), "parallelism": .int(Int64(parallelism)),
                "template": ["spec": [
                    "terminationGracePeriodSeconds": 1,
                    "restartPolicy": "Never",
                    "containers": [["name": "main", "image": .string(image), "command": ["sh", "-c", "exit 0"]]],
                ]],
            ],
        ]
    }

    // MARK: status predicates

    static func int(_ object: JSONValue, _ path: String...) -> Int64 { object[path: path]?.intValue ?? 0 }

    /// All `replicas` pods of `generation` Ready.
    static func deploymentReady(_ d: JSONValue, replicas: Int, generation: Int64) -> Bool {
        int(d, "status", "observedGeneration") >= generation
            && int(d, "status", "readyReplicas") == replicas && int(d, "status", "updatedReplicas") == replicas
    }

    /// The rollout is complete as `kubectl rollout status` decides it.
    static func rolloutComplete(_ d: JSONValue, replicas: Int, generation: Int64) -> Bool {
        int(d, "status", "observedGeneration") >= generation && int(d, "status", "updatedReplicas") == replicas
            && int(d, "status", "replicas") == replicas && int(d, "status", "availableReplicas") == replicas
    }

    /// Whether a Job has `Complete=True`; throws when it has `Failed=True`.
    static func jobComplete(_ job: JSONValue) throws -> Bool {
        let conditions = job[path: ["status", "conditions"]]?.arrayValue ?? []
        func isTrue(_ type: String) -> JSONValue? {
            conditions.first { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
        }
        if let failed = isTrue("Failed") {
            throw OrcaError(.internalError, "job \(jobName) failed: \(failed["reason"]?.stringValue ?? "") \(failed["message"]?.stringValue ?? "")")
        }
        return isTrue("Complete") != nil
    }

    // MARK: phases

    /// Creates `count` bare pods (`createConcurrency` at once) and waits until all are Ready.
    /// The samples' `elapsed` is the first create → the last pod Ready.
    func barePods(count: Int) async throws -> LatencySamples {
        let client = self.client, path = podsPath
        return try await withPodTracker(selector: Self.bareLabel, what: "\(count) bare pods") { tracker in
            let start = clock.now
            _ = try await APIBenchmark(client: client).closedLoop("create bare pod", count: count, concurrency: Self.createConcurrency) { i in
                try await client.expect(.POST, path, json: Self.barePod(name: String(format: "bare-%04d", i)))
            }
            let last = try await tracker.waitReady(count: count)
            var samples = await tracker.addedToReady(name: "bare pods: ADDED → Ready")
            samples.elapsed = start.duration(to: last)
            return samples
        }
    }

    /// Creates the Deployment and waits until it reports all `replicas` Ready (and the watch saw them).
    func createDeployment(replicas: Int) async throws -> DeploymentResults {
        let client = self.client, path = deploymentsPath
        return try await withPodTracker(selector: Self.deploymentLabel, what: "deployment of \(replicas)",
                                        object: path + "/" + Self.deploymentName) { tracker in
            let start = clock.now
            let created = try await client.expect(.POST, path, json: Self.deployment(replicas: replicas))
            let generation = created[path: ["metadata", "generation"]]?.intValue ?? 1
            let (done, _) = try await waitFor(path, name: Self.deploymentName) {
                Self.deploymentReady($0, replicas: replicas, generation: generation)
            }
            _ = try await tracker.waitReady(count: replicas)
            var results = DeploymentResults(ready: await tracker.addedToReady(name: "deployment pods: ADDED → Ready"),
                                            added: await tracker.added(after: start, name: "deployment pods: create → pod ADDED"))
            results.ready.elapsed = start.duration(to: done)
            results.added.elapsed = results.ready.elapsed
            return results
        }
    }

    /// Patches the Deployment's template and waits until the rollout is complete. The samples are
    /// the new pods' ADDED → Ready; `elapsed` is the PATCH → rollout complete.
    func rollingUpdate(replicas: Int) async throws -> LatencySamples {
        let client = self.client, path = deploymentsPath + "/" + Self.deploymentName
        return try await withPodTracker(selector: Self.deploymentLabel, what: "rolling update of \(replicas)", object: path) { tracker in
            let start = clock.now
            let patched = try await client.expect(.PATCH, path, json: Self.restartPatch(KubernetesTime.string(Date())),
                                                  contentType: "application/strategic-merge-patch+json")
            let generation = patched[path: ["metadata", "generation"]]?.intValue ?? 2
            let (done, _) = try await waitFor(deploymentsPath, name: Self.deploymentName) {
                Self.rolloutComplete($0, replicas: replicas, generation: generation)
            }
            _ = try await tracker.waitReady(count: replicas)
            var samples = await tracker.addedToReady(name: "rolling update: new pods ADDED → Ready")
            samples.elapsed = start.duration(to: done)
            return samples
        }
    }

    /// Creates the Job and waits for `Complete=True`; returns create → complete and the Job then.
    func runJob(completions: Int, parallelism: Int) async throws -> (Duration, JSONValue) {
        let client = self.client, path = jobsPath
        return try await withPodTracker(selector: "batch.kubernetes.io/job-name=\(Self.jobName)", what: "job of \(completions) completions",
                                        object: path + "/" + Self.jobName) { _ in
            let start = clock.now
            try await client.expect(.POST, path, json: Self.job(completions: completions, parallelism: parallelism))
            let (done, job) = try await waitFor(path, name: Self.jobName) { try Self.jobComplete($0) }
            return (start.duration(to: done), job)
        }
    }

    // MARK: watching

    /// Runs `body` with a tracker fed by a watch of the pods matching `selector`, opened at the
    /// current resourceVersion before `body` starts; fails after `phaseTimeout` with the pods'
    /// progress and the status of `object` (a path) in the message.
    private func withPodTracker<T: Sendable>(selector: String, what: String, object: String? = nil,
                                             _ body: @escaping @Sendable (PodReadyTracker) async throws -> T) async throws -> T {
        let tracker = PodReadyTracker()
        let query = "labelSelector=" + Self.escape(selector)
        let rv = try await client.expect(.GET, podsPath + "?limit=1&" + query)[path: ["metadata", "resourceVersion"]]?.stringValue ?? "0"
        let client = self.client, clock = self.clock, path = podsPath, timeout = phaseTimeout
        return try await withThrowingTaskGroup(of: T?.self, returning: T.self) { group in
            group.addTask {
                do {
                    try await client.watch(path + "?watch=1&\(query)&resourceVersion=\(rv)&timeoutSeconds=3600") { event in
                        await tracker.observe(event, at: clock.now)
                        return true
                    }
                    await tracker.fail(OrcaError(.unavailable, "\(what): the pod watch ended"))
                } catch {
                    await tracker.fail(error)
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                var message = "\(what): not done after \(timeout); \(await tracker.progress())"
                if let object, let status = try? await client.expect(.GET, object)["status"] {
                    message += "; status \(status.jsonString.prefix(600))"
                }
                let error = OrcaError(.timeout, message)
                await tracker.fail(error)
                throw error
            }
            group.addTask { try await body(tracker) }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw OrcaError(.internalError, "\(what): ended without a result")
        }
    }

    /// Watches object `name` in `collection` (its current state first, then changes) until `done`
    /// holds for it; returns when that event arrived, and the object.
    func waitFor(_ collection: String, name: String, until done: (JSONValue) throws -> Bool) async throws -> (ContinuousClock.Instant, JSONValue) {
        var arrived: (ContinuousClock.Instant, JSONValue)?
        let clock = self.clock
        try await client.watch(collection + "?watch=1&fieldSelector=" + Self.escape("metadata.name=\(name)") + "&timeoutSeconds=3600") { event in
            let now = clock.now
            switch event["type"]?.stringValue {
            case "ERROR": throw OrcaError(.unavailable, "watch of \(name): \(event["object"]?.jsonString.prefix(400) ?? "error")")
            case "DELETED": throw OrcaError(.internalError, "\(name) was deleted while waiting for it")
            default: break
            }
            guard let object = event["object"], try done(object) else { return true }
            arrived = (now, object)
            return false
        }
        guard let arrived else { throw OrcaError(.unavailable, "the watch of \(name) ended") }
        return arrived
    }

    static func escape(_ query: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "=&+,")
        return query.addingPercentEncoding(withAllowedCharacters: allowed) ?? query
    }

    // MARK: cleanup

    /// Deletes the Deployment and the Job (background propagation, as kubectl does; absent ones
    /// are fine), waits until they and their ReplicaSets are gone, then deletes every pod left
    /// and waits until none is.
    func removeWorkloads(timeout: Duration = .seconds(180)) async throws {
        for (collection, name) in [(deploymentsPath, Self.deploymentName), (jobsPath, Self.jobName)] {
            let r = try await client.send(.DELETE, collection + "/" + name + "?propagationPolicy=Background")
            guard r.isSuccess || r.status == 404 else { throw OrcaError(.internalError, "delete \(name) answered \(r.status): \(r.text.prefix(400))") }
        }
        let deadline = clock.now + timeout
        for collection in [deploymentsPath, jobsPath, replicaSetsPath] {
            while true {
                let left = try await client.expect(.GET, collection)["items"]?.arrayValue?.count ?? 0
                if left == 0 { break }
                guard clock.now < deadline else { throw OrcaError(.timeout, "\(left) objects still in \(collection) \(timeout) after deletion") }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        try await PodStartupBenchmark(client: client, namespace: namespace).deleteAllPods(timeout: timeout)
    }
}
