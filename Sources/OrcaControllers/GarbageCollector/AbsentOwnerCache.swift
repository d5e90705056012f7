import Synchronization

/// Owners known not to exist (the garbage collector's `absentOwnerCache`): once one
/// dependent's live read found an owner gone, its siblings need not ask the API server
/// again. A UID never comes back, so an entry stays true; the oldest entries are forgotten
/// beyond `capacity`. Keyed by the whole reference (group, kind, namespace, name and UID),
/// as Kubernetes keys it: a reference with a wrong kind or name that finds nothing must not
/// make correct references to the same UID look dangling.
final class AbsentOwnerCache: Sendable {
    struct State {
        var keys: Set<String> = []
        var order: [String] = []
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 500) {
        self.capacity = max(1, capacity)
    }

    /// Records that `owner` does not exist in `namespace` (nil: cluster scope).
    func insert(_ owner: ObjectIdentity, namespace: String?) {
        let key = Self.key(owner, namespace: namespace)
        let capacity = self.capacity
        state.withLock { s in
            guard s.keys.insert(key).inserted else { return }
            s.order.append(key)
            if s.order.count > capacity {
                let evicted = s.order.removeFirst()
                s.keys.remove(evicted)
            }
        }
    }

    /// True when `owner` is known absent from `namespace` (nil: cluster scope).
    func contains(_ owner: ObjectIdentity, namespace: String?) -> Bool {
        let key = Self.key(owner, namespace: namespace)
        return state.withLock { $0.keys.contains(key) }
    }

    static func key(_ owner: ObjectIdentity, namespace: String?) -> String {
        let group = owner.apiVersion.contains("/") ? String(owner.apiVersion.split(separator: "/")[0]) : ""
        return "\(group)|\(owner.kind)|\(namespace ?? "")|\(owner.name)|\(owner.uid)"
    }
}
