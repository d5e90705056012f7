import Foundation
import OrcaClient

/// Deletes finished Jobs once `spec.ttlSecondsAfterFinished` has passed since they finished
/// (kube-controller-manager's ttl-after-finished controller): the finish time is the
/// `lastTransitionTime` of the `Complete` or `Failed` condition; the deletion propagates in
/// the background and is preconditioned on the job's UID, after a last look at the job as
/// the API server has it.
public struct TTLAfterFinishedController: Reconciler {
    let client: any APIClient
    let jobs: SharedInformer<Job>
    let clock: any WallClock

    /// Builds the TTL-after-finished controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<TTLAfterFinishedController> {
        let jobs = await informers.informer(Job.self)
        let queue = RateLimitingQueue(clock: clock)
        await jobs.addEventHandler(InformerEventHandler(
            onAdd: { job in
                if needsCleanup(job) { await queue.add(SharedInformer<Job>.key(job)) }
            },
            onUpdate: { _, job in
                if needsCleanup(job) { await queue.add(SharedInformer<Job>.key(job)) }
            }))
        let reconciler = TTLAfterFinishedController(client: client, jobs: jobs, clock: clock)
        return Controller(name: "ttl-after-finished", queue: queue, reconciler: reconciler, workers: 2,
                          waitForSync: [{ await jobs.waitForSync() }])
    }

    /// A finished job with a TTL (`needsCleanup`).
    static func needsCleanup(_ job: Job) -> Bool {
        job.spec?.ttlSecondsAfterFinished != nil && job.isFinished
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let cached = await jobs.get(key), let left = timeLeft(cached) else { return .done }
        if left > 0 { return .requeue(after: .seconds(left)) }
        // The cached TTL may be stale: decide on the job as the API server has it.
        let id = ObjectKey(parsing: key)
        let fresh: Job
        do {
            fresh = try await client.get(Job.self, namespace: id.namespace, name: id.name)
        } catch let error as APIError where error.isNotFound {
            return .done
        }
        guard let freshLeft = timeLeft(fresh) else { return .done }
        if freshLeft > 0 { return .requeue(after: .seconds(freshLeft)) }
        var options = DeletionOptions()
        options.propagationPolicy = "Background"
        options.preconditionUID = fresh.metadata?.uid
        do {
            try await client.delete(Job.self, namespace: id.namespace, name: id.name, options: options)
        } catch let error as APIError where error.code == 409 {
            // Another job of that name now: its own events bring it here.
            return .done
        }
        return .done
    }

    /// Seconds until the job expires (zero or less: expired), or nil when it is not due for
    /// cleanup (not finished, no TTL, being deleted, or no finish time).
    func timeLeft(_ job: Job) -> TimeInterval? {
        guard job.metadata?.deletionTimestamp == nil, let ttl = job.spec?.ttlSecondsAfterFinished,
              let finished = job.finishedCondition, let finishedAt = KubernetesTime.date(finished.lastTransitionTime) else { return nil }
        return finishedAt.addingTimeInterval(TimeInterval(ttl)).timeIntervalSince(clock.now)
    }
}
