import OrcaClient
import Synchronization

/// Pods the scheduler bound whose binding the cache has not shown yet (the scheduler cache's
/// "assumed" pods); counted on their node so a burst of pods spreads instead of piling onto
/// the node the stale cache calls emptiest.
final class AssumedPods: Sendable {
    private let state = Mutex<[String: (node: String, pod: Pod)]>([:])

    /// Records `pod` as bound to `node`.
    func assume(_ pod: Pod, node: String) {
        var bound = pod
        bound.spec?.nodeName = node
        state.withLock { $0[SharedInformer<Pod>.key(pod)] = (node, bound) }
    }

    /// Forgets `pod` (the cache shows it bound, it is gone, or its binding failed).
    func forget(_ pod: Pod) {
        state.withLock { _ = $0.removeValue(forKey: SharedInformer<Pod>.key(pod)) }
    }

    /// Whether `pod` is assumed.
    func contains(_ pod: Pod) -> Bool {
        state.withLock { $0[SharedInformer<Pod>.key(pod)] != nil }
    }

    /// The assumed pods, bound, grouped by node.
    func byNode() -> [String: [Pod]] {
        state.withLock { Dictionary(grouping: $0.values, by: \.node).mapValues { $0.map(\.pod) } }
    }
}
