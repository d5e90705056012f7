import Foundation
import OrcaClient

/// The little the taint eviction controller remembers between looks: when it first saw each
/// `NoExecute` taint that carries no `timeAdded`, and which pods have an eviction scheduled
/// (so a cancelled one can be reported).
actor TaintEvictionTracker {
    /// node name → taint (`key=value:effect`) → first seen.
    private var firstSeen: [String: [String: Date]] = [:]
    private var scheduled: Set<String> = []

    /// When each of `taints` of `node` was added: its `timeAdded`, else when it was first seen
    /// here (from `now` on). Taints the node no longer has are forgotten.
    func addedTimes(node: String, taints: [Taint], now: Date) -> [Date] {
        let known = firstSeen[node] ?? [:]
        var seen: [String: Date] = [:]
        var times: [Date] = []
        for taint in taints {
            if let added = KubernetesTime.date(taint.timeAdded) {
                times.append(added)
                continue
            }
            let id = "\(taint.key ?? "")=\(taint.value ?? ""):\(taint.effect ?? "")"
            let at = known[id] ?? seen[id] ?? now
            seen[id] = at
            times.append(at)
        }
        firstSeen[node] = seen.isEmpty ? nil : seen
        return times
    }

    /// Forgets a deleted node.
    func forget(node: String) { firstSeen[node] = nil }

    /// Notes that `pod` will be evicted later.
    func schedule(_ pod: String) { scheduled.insert(pod) }

    /// Drops a scheduled eviction; returns whether there was one.
    func cancel(_ pod: String) -> Bool { scheduled.remove(pod) != nil }
}
