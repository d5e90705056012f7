import Foundation
import OrcaClient
import Synchronization

/// The pod-failure back-off of each job (the job controller's `backoffStore`): how many
/// pods failed since the last success and when the last one failed. Replacement pods wait
/// 10 s after one failure, doubling per further failure up to 6 minutes. Kept in memory, as
/// in Kubernetes: a restarted controller starts without back-off.
final class JobBackoffStore: Sendable {
    /// One job's back-off state.
    struct Record: Sendable, Equatable {
        var failuresAfterLastSuccess = 0
        var lastFailureTime: Date?
    }

    /// The delay after the first failure.
    static let base: TimeInterval = 10
    /// The longest delay.
    static let maximum: TimeInterval = 360

    private let records = Mutex<[String: Record]>([:])

    init() {}

    /// The record of `key` updated with pods that finished since it was last stored
    /// (`newBackoffRecord`): a success resets the count to the failures after it.
    func newRecord(_ key: String, succeeded: [Pod], failed: [Pod]) -> Record {
        var record = records.withLock { $0[key] } ?? Record()
        let failedTimes = failed.map(Self.finishTime).sorted()
        guard let lastFailure = failedTimes.last else {
            if !succeeded.isEmpty { record = Record() }
            return record
        }
        guard let lastSuccess = succeeded.map(Self.finishTime).max() else {
            record.failuresAfterLastSuccess += failedTimes.count
            record.lastFailureTime = lastFailure
            return record
        }
        let after = failedTimes.filter { $0 > lastSuccess }
        return Record(failuresAfterLastSuccess: after.count, lastFailureTime: after.last)
    }

    /// Stores the record of `key` (once the pods it counted are recorded in the job status).
    func update(_ key: String, _ record: Record) {
        records.withLock { $0[key] = record }
    }

    /// Forgets `key` (the job finished or was deleted).
    func remove(_ key: String) {
        records.withLock { _ = $0.removeValue(forKey: key) }
    }

    /// How long a new pod must still wait at `now` (zero when it may start).
    static func remaining(_ record: Record, now: Date) -> TimeInterval {
        guard record.failuresAfterLastSuccess > 0, let last = record.lastFailureTime else { return 0 }
        var delay = base
        for _ in 1..<record.failuresAfterLastSuccess {
            delay *= 2
            if delay >= maximum { delay = maximum; break }
        }
        let elapsed = now.timeIntervalSince(last)
        return delay < elapsed ? 0 : delay - elapsed
    }

    /// When a pod finished (`getFinishedTime`): its last container's exit, else the time it
    /// turned not Ready, else its deletion less the grace period, else its creation.
    static func finishTime(_ pod: Pod) -> Date {
        if let statuses = pod.status?.containerStatuses, !statuses.isEmpty {
            let ends = statuses.map { KubernetesTime.date($0.state?.terminated?.finishedAt) }
            if ends.allSatisfy({ $0 != nil }), let last = ends.compactMap({ $0 }).max() { return last }
        }
        if let ready = pod.readyCondition, ready.status == "False", let since = KubernetesTime.date(ready.lastTransitionTime) {
            return since
        }
        if let deleted = KubernetesTime.date(pod.metadata?.deletionTimestamp) {
            return deleted.addingTimeInterval(-TimeInterval(pod.metadata?.deletionGracePeriodSeconds ?? 0))
        }
        return KubernetesTime.date(pod.metadata?.creationTimestamp) ?? .distantPast
    }
}
