import Foundation
import OrcaClient
import Synchronization

/// What a controller still expects to see in its cache after its own creates and deletes
/// (kube-controller-manager's UID-tracking ControllerExpectations): until the informer has
/// shown every pod it created and the removal of every pod it deleted, the cache is stale
/// for that controller key and it must not create or delete again. Expectations expire
/// after five minutes, so a lost watch event cannot wedge a controller.
public final class ControllerExpectations: Sendable {
    /// How long an expectation is trusted.
    public static let timeout: TimeInterval = 5 * 60

    struct Record {
        var adds: Int
        var deletes: Set<String>
        var timestamp: Date
    }

    let clock: any WallClock
    private let records = Mutex<[String: Record]>([:])

    public init(clock: any WallClock = SystemClock()) {
        self.clock = clock
    }

    /// True when `key` may act on its cache: nothing is outstanding, the expectation
    /// expired, or none was ever set.
    public func satisfied(_ key: String) -> Bool {
        let now = clock.now
        return records.withLock { r in
            guard let rec = r[key] else { return true }
            if rec.adds <= 0 && rec.deletes.isEmpty { return true }
            return now.timeIntervalSince(rec.timestamp) > Self.timeout
        }
    }

    /// Sets the expectation of `key` to `adds` creations and the deletions of these pod keys.
    public func expect(_ key: String, adds: Int, deletes: Set<String> = []) {
        let now = clock.now
        records.withLock { $0[key] = Record(adds: adds, deletes: deletes, timestamp: now) }
    }

    /// A pod `key` created showed up in the cache (or its create failed).
    public func creationObserved(_ key: String) {
        records.withLock { r in r[key]?.adds -= 1 }
    }

    /// Lowers the expected creations by `count` (creates that were skipped or failed).
    public func lowerCreations(_ key: String, by count: Int) {
        records.withLock { r in r[key]?.adds -= count }
    }

    /// A pod `key` deleted (`podKey`) left the cache, or is being deleted (or the delete failed).
    public func deletionObserved(_ key: String, podKey: String) {
        records.withLock { r in _ = r[key]?.deletes.remove(podKey) }
    }

    /// Forgets `key` (its owner was deleted).
    public func delete(_ key: String) {
        records.withLock { _ = $0.removeValue(forKey: key) }
    }
}
