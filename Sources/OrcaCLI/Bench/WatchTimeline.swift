import Foundation
import OrcaCore

/// Fed with the events of one watch (nodes or pods); remembers, per object name, the instant
/// each of a set of named marks was first seen to hold (`ready`, `unknown`, `running`,
/// `deleting`, …: what `marks` reads from an event), and the object's latest state. The
/// instants are event arrival times on this process's clock, so a benchmark may poll the
/// timeline without losing precision.
actor WatchTimeline {
    /// The marks that hold for an event of `type` (`ADDED`, `MODIFIED`, `DELETED`) carrying `object`.
    typealias Marks = @Sendable (_ type: String, _ object: JSONValue) -> [String]

    private let marks: Marks
    private var first: [String: [String: ContinuousClock.Instant]] = [:]
    private var latest: [String: JSONValue] = [:]
    private var failure: (any Error)?

    init(marks: @escaping Marks) { self.marks = marks }

    /// Records one watch event that arrived at `time`.
    func observe(_ event: JSONValue, at time: ContinuousClock.Instant) {
        let type = event["type"]?.stringValue ?? ""
        if type == "ERROR" {
            fail(OrcaError(.unavailable, "watch error: \(event["object"]?.jsonString.prefix(400) ?? "")"))
            return
        }
        guard type != "BOOKMARK", let object = event["object"], let name = object[path: ["metadata", "name"]]?.stringValue else { return }
        latest[name] = object
        for mark in marks(type, object) where first[name]?[mark] == nil { first[name, default: [:]][mark] = time }
    }

    /// When `mark` was first seen for `name`, nil when not yet; throws once the watch failed.
    func instant(_ mark: String, of name: String) throws -> ContinuousClock.Instant? {
        if let t = first[name]?[mark] { return t }
        if let failure { throw failure }
        return nil
    }

    /// Every object name with `mark`, and when it was first seen.
    func instants(of mark: String) -> [String: ContinuousClock.Instant] {
        first.compactMapValues { $0[mark] }
    }

    /// The latest state of every object seen.
    func objects() -> [String: JSONValue] { latest }

    /// Throws if the watch failed.
    func check() throws {
        if let failure { throw failure }
    }

    /// Records that the watch ended or failed; later `instant` calls without an answer throw it.
    func fail(_ error: any Error) {
        if failure == nil { failure = error }
    }
}

extension WatchTimeline {
    /// Node marks: `added` (its ADDED event), `cidr` (a pod CIDR), `ready` (Ready=True),
    /// `unknown` (Ready=Unknown), `unreachable` (the `node.kubernetes.io/unreachable` NoExecute taint),
    /// `deleted`.
    static let nodeMarks: Marks = { type, node in
        var out: [String] = []
        if type == "ADDED" { out.append("added") }
        if type == "DELETED" { out.append("deleted") }
        if !(node[path: ["spec", "podCIDR"]]?.stringValue ?? "").isEmpty { out.append("cidr") }
        let ready = (node[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }?["status"]?.stringValue
        if ready == "True" { out.append("ready") }
        if ready == "Unknown" { out.append("unknown") }
        let taints = node[path: ["spec", "taints"]]?.arrayValue ?? []
        if taints.contains(where: { $0["key"]?.stringValue == "node.kubernetes.io/unreachable" && $0["effect"]?.stringValue == "NoExecute" }) {
            out.append("unreachable")
        }
        return out
    }

    /// `Ready=False, pod CIDR 10.42.3.0/24, taints […]` — for timeout messages.
    static func describeNode(_ node: JSONValue) -> String {
        let ready = (node[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }?["status"]?.stringValue
        let taints = (node[path: ["spec", "taints"]]?.arrayValue ?? []).compactMap { $0["key"]?.stringValue }
        return "Ready=\(ready ?? "none"), pod CIDR \(node[path: ["spec", "podCIDR"]]?.stringValue ?? "none"), taints \(taints)"
    }

    /// Pod marks: `added` (its ADDED event), `scheduled` (a node name), `running` (phase Running
    /// with every container running, not being deleted), `unready` (Ready=False), `deleting`
    /// (a deletion timestamp), `deleted`.
    static let podMarks: Marks = { type, pod in
        var out: [String] = []
        if type == "ADDED" { out.append("added") }
        if type == "DELETED" { out.append("deleted") }
        if !(pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty { out.append("scheduled") }
        let deleting = pod[path: ["metadata", "deletionTimestamp"]].map { !$0.isNull } ?? false
        if deleting { out.append("deleting") }
        if !deleting, type != "DELETED", PodRunningTracker.isRunning(pod) { out.append("running") }
        let ready = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }?["status"]?.stringValue
        if ready == "False" { out.append("unready") }
        return out
    }
}

/// Watches that feed `WatchTimeline`s while a benchmark runs, and polling for what they saw.
enum BenchWatch {
    /// Runs `body` while a watch of each collection feeds its timeline. Each watch starts at the
    /// collection's current resourceVersion, read before `body` starts, so it sees every change
    /// `body` causes. The watches end with `body`.
    static func with<T: Sendable>(_ client: BenchAPIClient, _ watches: [(collection: String, timeline: WatchTimeline)],
                                  _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        var versions: [String] = []
        for watch in watches {
            let list = try await client.expect(.GET, watch.collection + "?limit=1")
            versions.append(list[path: ["metadata", "resourceVersion"]]?.stringValue ?? "0")
        }
        return try await withThrowingTaskGroup(of: T?.self, returning: T.self) { group in
            for (watch, rv) in zip(watches, versions) {
                group.addTask {
                    let clock = ContinuousClock()
                    do {
                        try await client.watch(watch.collection + "?watch=1&resourceVersion=\(rv)&timeoutSeconds=3600") { event in
                            await watch.timeline.observe(event, at: clock.now)
                            return true
                        }
                        await watch.timeline.fail(OrcaError(.unavailable, "the watch of \(watch.collection) ended"))
                    } catch {
                        await watch.timeline.fail(error)
                    }
                    return nil
                }
            }
            group.addTask { try await body() }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw OrcaError(.internalError, "the benchmark ended without a result")
        }
    }

    /// Calls `check` every `interval` until it returns a value; throws `what` with `progress()`
    /// after `timeout`. `check` throws to fail early (an agent exited, a watch failed).
    static func until<T: Sendable>(_ what: String, timeout: Duration, interval: Duration = .milliseconds(50),
                                   progress: @Sendable () async -> String = { "" },
                                   _ check: @Sendable () async throws -> T?) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let value = try await check() { return value }
            guard clock.now < deadline else {
                let detail = await progress()
                throw OrcaError(.timeout, "\(what): not after \(timeout)" + (detail.isEmpty ? "" : "; \(detail)"))
            }
            try await Task.sleep(for: interval)
        }
    }
}
