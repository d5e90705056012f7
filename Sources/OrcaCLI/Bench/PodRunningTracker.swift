import Foundation
import OrcaCore

/// Fed with pod watch events; remembers when each pod was first seen running (phase `Running`
/// and every container's state `running`) and wakes whoever waits for that.
actor PodRunningTracker {
    private var runningAt: [String: ContinuousClock.Instant] = [:]
    private var lastStatus: [String: String] = [:]
    private var waiters: [String: [(since: ContinuousClock.Instant, continuation: CheckedContinuation<ContinuousClock.Instant, any Error>)]] = [:]
    private var failure: (any Error)?

    /// Whether `pod` is running with all its containers started.
    static func isRunning(_ pod: JSONValue) -> Bool {
        guard pod[path: ["status", "phase"]]?.stringValue == "Running" else { return false }
        let wanted = pod[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
        let statuses = pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []
        guard wanted > 0, statuses.count == wanted else { return false }
        return statuses.allSatisfy { $0[path: ["state", "running"]] != nil }
    }

    /// A one-line description of a pod's status, for timeout messages.
    static func describe(_ pod: JSONValue) -> String {
        let phase = pod[path: ["status", "phase"]]?.stringValue ?? "no phase"
        let states = (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []).map { s -> String in
            let state = s["state"]?.objectValue ?? [:]
            let kind = state.keys.sorted().first ?? "unknown"
            let reason = state[kind]?["reason"]?.stringValue.map { " (\($0))" } ?? ""
            return "\(s["name"]?.stringValue ?? "?"): \(kind)\(reason)"
        }
        let node = pod[path: ["spec", "nodeName"]]?.stringValue ?? "unscheduled"
        return "\(phase) on \(node)" + (states.isEmpty ? "" : ", " + states.joined(separator: ", "))
    }

    /// Records one watch event that arrived at `time`.
    func observe(_ event: JSONValue, at time: ContinuousClock.Instant) {
        guard let pod = event["object"], let name = pod[path: ["metadata", "name"]]?.stringValue else { return }
        lastStatus[name] = Self.describe(pod)
        guard runningAt[name] == nil, event["type"]?.stringValue != "DELETED", Self.isRunning(pod) else { return }
        runningAt[name] = time
        for waiter in waiters.removeValue(forKey: name) ?? [] { waiter.continuation.resume(returning: time) }
    }

    /// The instant `name` was first seen running, waiting for it if need be.
    func runningInstant(of name: String, since: ContinuousClock.Instant) async throws -> ContinuousClock.Instant {
        if let t = runningAt[name] { return t }
        if let failure { throw failure }
        return try await withCheckedThrowingContinuation { continuation in
            waiters[name, default: []].append((since, continuation))
        }
    }

    /// Fails every waiter that has waited longer than `limit` (as of `now`).
    func expireWaiters(olderThan limit: Duration, now: ContinuousClock.Instant) {
        for (name, list) in waiters {
            let (expired, kept) = (list.filter { $0.since.duration(to: now) > limit }, list.filter { $0.since.duration(to: now) <= limit })
            for waiter in expired {
                waiter.continuation.resume(throwing: OrcaError(.timeout, "pod \(name) not running after \(limit): \(lastStatus[name] ?? "never seen")"))
            }
            waiters[name] = kept.isEmpty ? nil : kept
        }
    }

    /// Fails every current and future waiter with `error` (the watch ended).
    func fail(_ error: any Error) {
        failure = error
        for (_, list) in waiters { for waiter in list { waiter.continuation.resume(throwing: error) } }
        waiters = [:]
    }
}
