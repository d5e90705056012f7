import Foundation
import OrcaCore

/// Fed with the events of one pod watch that started before the pods were made; remembers, per
/// pod the watch saw created, when its ADDED event arrived and when it was first seen with the
/// `Ready` condition `True`, and wakes whoever waits for a number of them to be Ready. Pods that
/// existed before the watch (no ADDED event) are ignored.
actor PodReadyTracker {
    private var addedAt: [String: ContinuousClock.Instant] = [:]
    private var readyAt: [String: ContinuousClock.Instant] = [:]
    private var succeeded: Set<String> = []
    private var lastStatus: [String: String] = [:]
    private var waiters: [(count: Int, continuation: CheckedContinuation<ContinuousClock.Instant, any Error>)] = []
    private var failure: (any Error)?

    /// Whether `pod` has the condition `Ready` with status `True`.
    static func isReady(_ pod: JSONValue) -> Bool {
        (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    /// Records one watch event that arrived at `time`.
    func observe(_ event: JSONValue, at time: ContinuousClock.Instant) {
        guard let pod = event["object"], let name = pod[path: ["metadata", "name"]]?.stringValue else { return }
        let type = event["type"]?.stringValue
        if type == "ADDED", addedAt[name] == nil { addedAt[name] = time }
        guard addedAt[name] != nil, type != "DELETED" else { return }
        lastStatus[name] = PodRunningTracker.describe(pod)
        if pod[path: ["status", "phase"]]?.stringValue == "Succeeded" { succeeded.insert(name) }
        guard readyAt[name] == nil, Self.isReady(pod) else { return }
        readyAt[name] = time
        let (woken, kept) = (waiters.filter { $0.count <= readyAt.count }, waiters.filter { $0.count > readyAt.count })
        waiters = kept
        if !woken.isEmpty, let last = readyAt.values.max() {
            for waiter in woken { waiter.continuation.resume(returning: last) }
        }
    }

    /// Waits until `count` of the pods seen created have been Ready; returns when the last of them became Ready.
    func waitReady(count: Int) async throws -> ContinuousClock.Instant {
        if readyAt.count >= count, let last = readyAt.values.max() { return last }
        if let failure { throw failure }
        return try await withCheckedThrowingContinuation { continuation in
            waiters.append((count, continuation))
        }
    }

    /// Each Ready pod's ADDED event → first Ready event, in milliseconds.
    func addedToReady(name: String) -> LatencySamples {
        var samples = LatencySamples(name: name, unit: "pod")
        for (pod, ready) in readyAt.sorted(by: { $0.value < $1.value }) {
            if let added = addedAt[pod] { samples.record(added.duration(to: ready)) }
        }
        return samples
    }

    /// Each created pod's `start` → ADDED event (e.g. from a controller's create to its pods).
    func added(after start: ContinuousClock.Instant, name: String) -> LatencySamples {
        var samples = LatencySamples(name: name, unit: "pod")
        for added in addedAt.values.sorted() { samples.record(start.duration(to: added)) }
        return samples
    }

    /// `12 created, 9 Ready, 0 Succeeded; not Ready: a: Pending on node (…)` — for timeout messages.
    func progress() -> String {
        let waiting = addedAt.keys.filter { readyAt[$0] == nil && !succeeded.contains($0) }.sorted()
        var text = "\(addedAt.count) pods created, \(readyAt.count) Ready, \(succeeded.count) Succeeded"
        if !waiting.isEmpty {
            text += "; not Ready: " + waiting.prefix(5).map { "\($0): \(lastStatus[$0] ?? "no status")" }.joined(separator: "; ")
            if waiting.count > 5 { text += "; and \(waiting.count - 5) more" }
        }
        return text
    }

    /// Fails every current and future waiter with `error` (the watch ended, or time ran out).
    func fail(_ error: any Error) {
        if failure == nil { failure = error }
        for waiter in waiters { waiter.continuation.resume(throwing: error) }
        waiters = []
    }
}
