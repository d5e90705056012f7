import Foundation
import NIOHTTP1
import OrcaCore

/// A node dies and its pods move: a Deployment whose pods tolerate the unreachable and
/// not-ready NoExecute taints for `tolerationSeconds` runs on every node of a `BenchCluster`;
/// the host with the most replicas is killed (`kill -9` of its agent and of all its processes:
/// conmon, runc, the containers), and node and pod watches opened before the kill timestamp
/// each step until every replacement pod runs on the other nodes.
struct FailoverBenchmark: Sendable {
    let cluster: BenchCluster
    let replicas: Int
    let tolerationSeconds: Int
    let clock = ContinuousClock()

    static let deploymentName = "failover"
    static let label = "app=failover"

    var client: BenchAPIClient { cluster.client }
    var podsPath: String { "/api/v1/namespaces/\(cluster.namespace)/pods" }
    var deploymentsPath: String { "/apis/apps/v1/namespaces/\(cluster.namespace)/deployments" }

    /// What one failover measured; instants are on this process's clock.
    struct Results: Sendable {
        var victim: String
        /// The pods that ran on the killed node.
        var doomed: [String]
        /// How old the victim's Lease renewal was when it was killed, when known.
        var heartbeatAge: Duration?
        /// From the first SIGKILL until no process of the host was left.
        var killDuration: Duration
        var unknown: Duration?
        var tainted: Duration?
        /// Kill → each doomed pod marked not Ready.
        var unready: LatencySamples
        /// Kill → each doomed pod's deletion timestamp (eviction).
        var evicted: LatencySamples
        /// Kill → each replacement pod created.
        var replacementAdded: LatencySamples
        /// Kill → each replacement pod running; `max` is the failover time.
        var replacementRunning: LatencySamples
        /// Each replacement pod's creation → running.
        var addedToRunning: LatencySamples
        /// Where the replacements run.
        var replacementNodes: [String: Int]
    }

    /// The Deployment: busybox `sleep 3600` under a 1 s termination grace, tolerating the
    /// unreachable and not-ready NoExecute taints for `tolerationSeconds` (which stops the
    /// DefaultTolerationSeconds admission from adding its 300 s).
    func deployment() -> JSONValue {
        let tolerations: [JSONValue] = ["node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"].map {
            ["key": .string($0), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": .int(Int64(tolerationSeconds))]
        }
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(Self.deploymentName), "labels": ["app": "failover"]],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": ["app": "failover"]],
                "template": [
                    "metadata": ["labels": ["app": "failover"]],
                    "spec": [
                        "terminationGracePeriodSeconds": 1,
                        "tolerations": .array(tolerations),
                        "containers": [["name": "main", "image": "docker.io/library/busybox:1.35", "command": ["sleep", "3600"]]],
                    ],
                ],
            ],
        ]
    }

    /// Creates the Deployment and waits until all its replicas run (not being deleted).
    func deploy() async throws -> [JSONValue] {
        try await client.expect(.POST, deploymentsPath, json: deployment())
        let client = self.client, path = podsPath + "?labelSelector=" + ControllersBenchmark.escape(Self.label), replicas = self.replicas
        return try await BenchWatch.until("\(replicas) replicas running", timeout: .seconds(max(300, 3 * replicas)), interval: .milliseconds(500)) {
            let pods = try await client.expect(.GET, path)["items"]?.arrayValue ?? []
            let live = pods.filter { !WatchTimeline.podMarks("MODIFIED", $0).contains("deleting") }
            return live.count == replicas && live.allSatisfy(PodRunningTracker.isRunning) ? live : nil
        }
    }

    /// Kills the node running the most replicas and measures until every replacement runs.
    func killAndMeasure(pods: [JSONValue], timeout: Duration) async throws -> Results {
        var perNode: [String: [String]] = [:]
        for pod in pods {
            guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, let name = pod[path: ["metadata", "name"]]?.stringValue else { continue }
            perNode[node, default: []].append(name)
        }
        guard let (victim, doomed) = perNode.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }),
              let host = cluster.hosts.first(where: { $0.nodeName == victim }) else {
            throw OrcaError(.internalError, "no replica runs on a benchmark host: \(perNode)")
        }
        let placement = perNode.keys.sorted().map { "\($0): \(perNode[$0]!.count)" }.joined(separator: ", ")
        BenchLog.info("replicas per node: \(placement); killing \(victim) with \(doomed.count)")

        let nodes = WatchTimeline(marks: WatchTimeline.nodeMarks)
        let podTimeline = WatchTimeline(marks: WatchTimeline.podMarks)
        let client = self.client, clock = self.clock, podsPath = self.podsPath
        return try await BenchWatch.with(client, [("/api/v1/nodes", nodes), (podsPath, podTimeline)]) {
            let lease = try? await client.expect(.GET, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/\(victim)")
            let renewed = Self.microTime(lease?[path: ["spec", "renewTime"]]?.stringValue)

            let killedAt = Date()
            let start = clock.now
            await host.killAll()
            let killDuration = start.duration(to: clock.now)
            BenchLog.info("\(victim) killed (agent and all its processes, in \(BenchControllersCommand.seconds(killDuration))); waiting for \(doomed.count) replacements to run elsewhere")

            let done = try await BenchWatch.until("\(doomed.count) replacement pods running on the other nodes", timeout: timeout, interval: .milliseconds(100),
                                                  progress: { await Self.progress(nodes: nodes, pods: podTimeline, victim: victim, doomed: doomed) }) { () -> [String]? in
                try await nodes.check()
                try await podTimeline.check()
                let objects = await podTimeline.objects()
                let added = await podTimeline.instants(of: "added")
                let running = await podTimeline.instants(of: "running")
                let gone = Set(await podTimeline.instants(of: "deleting").keys).union(await podTimeline.instants(of: "deleted").keys)
                guard doomed.allSatisfy(gone.contains) else { return nil }
                let replacements = added.keys.filter { running[$0] != nil && objects[$0]?[path: ["spec", "nodeName"]]?.stringValue != victim }
                return replacements.count >= doomed.count ? replacements : nil
            }

            var results = Results(
                victim: victim, doomed: doomed,
                heartbeatAge: renewed.map { .milliseconds(Int64(killedAt.timeIntervalSince($0) * 1000)) },
                killDuration: killDuration,
                unknown: try await nodes.instant("unknown", of: victim).map { start.duration(to: $0) },
                tainted: try await nodes.instant("unreachable", of: victim).map { start.duration(to: $0) },
                unready: LatencySamples(name: "kill → doomed pod not Ready", unit: "pod"),
                evicted: LatencySamples(name: "kill → doomed pod evicted", unit: "pod"),
                replacementAdded: LatencySamples(name: "kill → replacement created", unit: "pod"),
                replacementRunning: LatencySamples(name: "kill → replacement Running", unit: "pod"),
                addedToRunning: LatencySamples(name: "replacement created → Running", unit: "pod"),
                replacementNodes: [:])
            for pod in doomed {
                if let t = try await podTimeline.instant("unready", of: pod) { results.unready.record(start.duration(to: t)) }
                let deleting = try await podTimeline.instant("deleting", of: pod)
                let deleted = try await podTimeline.instant("deleted", of: pod)
                if let evicted = deleting ?? deleted { results.evicted.record(start.duration(to: evicted)) }
            }
            let objects = await podTimeline.objects()
            let running = await podTimeline.instants(of: "running")
            // The first replacements to run, one per doomed pod (a ReplicaSet may briefly make more).
            for pod in done.sorted(by: { running[$0]! < running[$1]! }).prefix(doomed.count) {
                guard let added = try await podTimeline.instant("added", of: pod), let running = running[pod] else { continue }
                results.replacementAdded.record(start.duration(to: added))
                results.replacementRunning.record(start.duration(to: running))
                results.addedToRunning.record(added.duration(to: running))
                results.replacementNodes[objects[pod]?[path: ["spec", "nodeName"]]?.stringValue ?? "?", default: 0] += 1
            }
            return results
        }
    }

    /// Where the failover stands, for a timeout message.
    static func progress(nodes: WatchTimeline, pods: WatchTimeline, victim: String, doomed: [String]) async -> String {
        let node = await nodes.objects()[victim].map(WatchTimeline.describeNode) ?? "no event"
        let deleting = await pods.instants(of: "deleting")
        let added = await pods.instants(of: "added")
        let running = await pods.instants(of: "running")
        let objects = await pods.objects()
        let waiting = added.keys.filter { running[$0] == nil }.sorted().prefix(5)
            .map { "\($0): \(objects[$0].map(PodRunningTracker.describe) ?? "?")" }
        return "node \(victim): \(node); \(doomed.filter { deleting[$0] != nil }.count)/\(doomed.count) doomed pods evicted; "
            + "\(added.count) replacements created, \(added.keys.filter { running[$0] != nil }.count) running"
            + (waiting.isEmpty ? "" : "; not running: " + waiting.joined(separator: "; "))
    }

    /// A `metav1.MicroTime` (`2026-11-23T08:34:26.123456Z`) to the microsecond; Foundation's
    /// ISO 8601 parser may stop at milliseconds.
    static func microTime(_ text: String?) -> Date? {
        guard let text, let dot = text.firstIndex(of: "."), text.hasSuffix("Z") else { return KubernetesTime.date(text) }
        let digits = text[text.index(after: dot)..<text.index(before: text.endIndex)]
        guard let whole = KubernetesTime.date(String(text[..<dot]) + "Z"), !digits.isEmpty, digits.allSatisfy(\.isNumber),
              let fraction = Double("0." + digits) else { return KubernetesTime.date(text) }
        return whole.addingTimeInterval(fraction)
    }
}
