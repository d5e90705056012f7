import Synchronization

/// Pods the last attempt found no node for, with the plugins that rejected them (the
/// scheduling queue's unschedulable pods): a cluster event moves back to the queue only the
/// pods it may help, instead of every pending pod on every node heartbeat. Move counters let
/// an attempt that overlapped a move that would have freed it retry at once.
final class UnschedulablePods: Sendable {
    /// The move counters when an attempt started.
    struct Marker: Sendable, Equatable {
        var all: UInt64 = 0
        var any: UInt64 = 0
        var byPlugin: [String: UInt64] = [:]
    }

    private struct State {
        var rejectedBy: [String: Set<String>] = [:]
        var moves = Marker()
    }

    private let state = Mutex(State())

    /// The move counters now; read when an attempt starts.
    var marker: Marker { state.withLock { $0.moves } }

    /// Parks `key`, rejected by `plugins` (none: rejected before any plugin ran). Returns
    /// false when, since `start`, a move happened that would have taken it: the caller should
    /// try again now.
    func park(_ key: String, rejectedBy plugins: Set<String>, since start: Marker) -> Bool {
        state.withLock {
            $0.rejectedBy[key] = plugins
            let now = $0.moves
            if now.all != start.all { return false }
            if plugins.isEmpty { return now.any == start.any }
            return plugins.allSatisfy { now.byPlugin[$0] == start.byPlugin[$0] }
        }
    }

    /// Forgets `key` (scheduled, bound, deleted).
    func remove(_ key: String) {
        _ = state.withLock { $0.rejectedBy.removeValue(forKey: key) }
    }

    /// Takes every parked pod (a node appeared or changed, a pod went away).
    func takeAll() -> [String] {
        state.withLock {
            $0.moves.all &+= 1
            $0.moves.any &+= 1
            let keys = Array($0.rejectedBy.keys)
            $0.rejectedBy = [:]
            return keys
        }
    }

    /// Takes the parked pods that one of `plugins` rejected, or that no plugin rejected.
    func take(rejectedBy plugins: Set<String>) -> [String] {
        state.withLock {
            $0.moves.any &+= 1
            for plugin in plugins { $0.moves.byPlugin[plugin, default: 0] &+= 1 }
            let keys = $0.rejectedBy.filter { $0.value.isEmpty || !$0.value.isDisjoint(with: plugins) }.map(\.key)
            for key in keys { $0.rejectedBy[key] = nil }
            return keys
        }
    }

    /// Whether `key` is parked.
    func contains(_ key: String) -> Bool {
        state.withLock { $0.rejectedBy[key] != nil }
    }
}
