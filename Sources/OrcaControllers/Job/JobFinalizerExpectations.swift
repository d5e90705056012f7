import Foundation
import Synchronization

/// The pods whose `batch.kubernetes.io/job-tracking` finalizer the job controller removed
/// but the pod cache still shows (the job controller's `uidTrackingExpectations`): such a
/// pod is already counted in the job's status and must not be counted again from a stale
/// cache. An entry goes when the cache shows the pod without the finalizer, or deleted.
final class JobFinalizerExpectations: Sendable {
    private let uids = Mutex<[String: Set<String>]>([:])

    init() {}

    /// Pod UIDs of job `key` whose finalizer removal has not been seen yet.
    func expected(_ key: String) -> Set<String> {
        uids.withLock { $0[key] ?? [] }
    }

    /// The finalizers of these pods are about to be removed.
    func expectRemovals(_ key: String, _ podUIDs: [String]) {
        guard !podUIDs.isEmpty else { return }
        uids.withLock { $0[key, default: []].formUnion(podUIDs) }
    }

    /// The cache shows the pod without the finalizer (or gone), or the removal failed.
    func removalObserved(_ key: String, uid: String) {
        uids.withLock { all in
            all[key]?.remove(uid)
            if all[key]?.isEmpty == true { all[key] = nil }
        }
    }

    /// Forgets job `key`.
    func delete(_ key: String) {
        uids.withLock { _ = $0.removeValue(forKey: key) }
    }
}
