import Synchronization

/// Owners known not to exist (the garbage collector's `absentOwnerCache`): once one
/// dependent's live read found an owner gone, its siblings need not ask the API server
/// again. A UID never comes back, so an entry stays true; the oldest entries are forgotten
/// beyond `capacity`. Keyed by namespace and UID: a reference is looked up in its
/// dependent's namespace, and an owner missing there may exist elsewhere.
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

    /// Records that no object with `uid` exists in `namespace` (nil: cluster scope).
    func insert(uid: String, namespace: String?) {
        let key = Self.key(uid: uid, namespace: namespace)
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

    /// True when `uid` is known absent from `namespace` (nil: cluster scope).
    func contains(uid: String, namespace: String?) -> Bool {
        let key = Self.key(uid: uid, namespace: namespace)
        return state.withLock { $0.keys.contains(key) }
    }

    static func key(uid: String, namespace: String?) -> String {
        "\(namespace ?? "")/\(uid)"
    }
}
