import Foundation
import OrcaClient

/// Runs CronJobs (kube-controller-manager's cronjob controller v2, v1.32 semantics): keeps
/// `status.active`, `lastScheduleTime` and `lastSuccessfulTime` in step with the jobs it
/// owns, deletes finished jobs beyond the history limits, and at each scheduled time creates
/// `<cronjob>-<minutes since the epoch>` from the job template, honouring `suspend`,
/// `startingDeadlineSeconds`, `timeZone` and the concurrency policy; then waits for the
/// next scheduled time.
public struct CronJobController: Reconciler {
    /// The annotation with the time a job was scheduled for (RFC 3339, in the CronJob's zone).
    public static let scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"
    static let component = "cronjob-controller"

    let client: any APIClient
    let cronJobs: SharedInformer<CronJob>
    let jobs: SharedInformer<Job>
    let clock: any WallClock
    let recorder: EventRecorder

    /// Builds the CronJob controller on `informers`: CronJob events enqueue the CronJob, job
    /// events the CronJob that controls the job.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<CronJobController> {
        let cronJobs = await informers.informer(CronJob.self)
        let jobs = await informers.informer(Job.self)
        let queue = RateLimitingQueue(clock: clock)
        await cronJobs.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<CronJob>.key($0)) },
            onUpdate: { _, cronJob in await queue.add(SharedInformer<CronJob>.key(cronJob)) }))
        await jobs.addEventHandler(InformerEventHandler(
            onAdd: { job in
                if let key = cronJobKey(of: job) { await queue.add(key) }
            },
            onUpdate: { old, job in
                let key = cronJobKey(of: job)
                if let key { await queue.add(key) }
                if let oldKey = cronJobKey(of: old), oldKey != key { await queue.add(oldKey) }
            },
            onDelete: { job in
                if let key = cronJobKey(of: job) { await queue.add(key) }
            }))
        let reconciler = CronJobController(client: client, cronJobs: cronJobs, jobs: jobs, clock: clock,
                                           recorder: EventRecorder(client: client, component: component, clock: { clock.now }))
        return Controller(name: "cronjob", queue: queue, reconciler: reconciler, workers: 2,
                          waitForSync: [{ await cronJobs.waitForSync() }, { await jobs.waitForSync() }])
    }

    /// The key of the CronJob that controls `job`, if one does.
    static func cronJobKey(of job: Job) -> String? {
        guard let ref = job.metadata?.controllerRef, ref.kind == CronJob.kind, ref.apiVersion == CronJob.apiVersion,
              let name = ref.name, !name.isEmpty else { return nil }
        return ObjectKey(namespace: job.metadata?.namespace, name: name).description
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard var cronJob = await cronJobs.get(key) else { return .done }
        // A stale cached status shows as a conflict on the status write: sync again on the
        // CronJob as the API server has it (creating a job twice is prevented by its name).
        for attempt in 0..<3 {
            do {
                return try await sync(cronJob)
            } catch let error as APIError where error.isConflict && attempt < 2 {
                let id = ObjectKey(parsing: key)
                do {
                    cronJob = try await client.get(CronJob.self, namespace: id.namespace, name: id.name)
                } catch let e as APIError where e.isNotFound {
                    return .done
                }
            }
        }
        return .done
    }

    /// One pass (`sync`): history cleanup, then `syncCronJob`, then one status write.
    func sync(_ shared: CronJob) async throws -> ReconcileResult {
        let uid = shared.metadata?.uid ?? ""
        let owned = await jobs.byIndex(Indexers.controllerUID, uid).filter { $0.metadata?.controllerRef?.kind == CronJob.kind }
        var cronJob = shared
        if cronJob.status == nil { cronJob.status = CronJobStatus() }
        let cleaned = await cleanupFinishedJobs(&cronJob, owned)
        let outcome = await syncCronJob(&cronJob, owned)
        if cleaned || outcome.statusChanged {
            try await client.update(cronJob, subresource: "status")
        }
        if let requeue = outcome.requeue { return .requeue(after: .seconds(max(requeue, 0.001))) }
        if let error = outcome.error { throw error }
        return .done
    }

    /// Takes finished jobs off `status.active` (`SawCompletedJob`), records the latest
    /// success, and drops references to jobs that no longer exist (`MissingJob`).
    func reconcileJobs(_ cronJob: inout CronJob, _ owned: [Job]) async throws -> Bool {
        var changed = false
        var children = Set<String>()
        for job in owned {
            let uid = job.metadata?.uid ?? ""
            children.insert(uid)
            let found = (cronJob.status?.active ?? []).contains { $0.uid == uid }
            let finished = job.finishedCondition
            if !found, finished == nil {
                if let latest = await cronJobs.get(SharedInformer<CronJob>.key(cronJob)),
                   (latest.status?.active ?? []).contains(where: { $0.uid == uid }) {
                    cronJob = latest
                    if cronJob.status == nil { cronJob.status = CronJobStatus() }
                    continue
                }
                await recorder.record(cronJob, type: "Warning", reason: "UnexpectedJob",
                                      message: "Saw a job that the controller did not create or forgot: \(job.metadata?.name ?? "")")
            } else if found, let finished {
                let updatedActive = (cronJob.status?.active ?? []).filter { $0.uid != uid }
                cronJob.status?.active = updatedActive
                await recorder.record(cronJob, type: "Normal", reason: "SawCompletedJob",
                                      message: "Saw completed job: \(job.metadata?.name ?? ""), condition: \(finished.type ?? "")")
                changed = true
            }
            if finished?.type == "Complete", let completed = KubernetesTime.date(job.status?.completionTime) {
                let last = KubernetesTime.date(cronJob.status?.lastSuccessfulTime)
                if last == nil || completed > last! {
                    cronJob.status?.lastSuccessfulTime = job.status?.completionTime
                    changed = true
                }
            }
        }
        for ref in cronJob.status?.active ?? [] where !children.contains(ref.uid ?? "") {
            // The cache may be behind: ask the API server before calling the job missing.
            do {
                _ = try await client.get(Job.self, namespace: ref.namespace ?? cronJob.metadata?.namespace, name: ref.name ?? "")
            } catch let error as APIError where error.isNotFound {
                await recorder.record(cronJob, type: "Normal", reason: "MissingJob", message: "Active job went missing: \(ref.name ?? "")")
                let updatedActive = (cronJob.status?.active ?? []).filter { $0.uid != ref.uid }
                cronJob.status?.active = updatedActive
                changed = true
            }
        }
        return changed
    }

    /// Deletes the oldest finished jobs beyond `successfulJobsHistoryLimit` and
    /// `failedJobsHistoryLimit` (`cleanupFinishedJobs`).
    func cleanupFinishedJobs(_ cronJob: inout CronJob, _ owned: [Job]) async -> Bool {
        let successLimit = cronJob.spec?.successfulJobsHistoryLimit, failedLimit = cronJob.spec?.failedJobsHistoryLimit
        if successLimit == nil, failedLimit == nil { return false }
        let succeeded = owned.filter { $0.finishedCondition?.type == "Complete" }
        let failed = owned.filter { $0.finishedCondition?.type == "Failed" }
        var changed = false
        if let successLimit, await removeOldestJobs(&cronJob, succeeded, keeping: Int(successLimit)) { changed = true }
        if let failedLimit, await removeOldestJobs(&cronJob, failed, keeping: Int(failedLimit)) { changed = true }
        return changed
    }

    func removeOldestJobs(_ cronJob: inout CronJob, _ jobs: [Job], keeping limit: Int) async -> Bool {
        let surplus = jobs.count - limit
        guard surplus > 0 else { return false }
        // Oldest start first; jobs that never started last; names break ties (`byJobStartTime`).
        let sorted = jobs.sorted { a, b in
            let sa = KubernetesTime.date(a.status?.startTime), sb = KubernetesTime.date(b.status?.startTime)
            switch (sa, sb) {
            case (nil, .some): return false
            case (.some, nil): return true
            case let (x, y) where x == y: return (a.metadata?.name ?? "") < (b.metadata?.name ?? "")
            case let (.some(x), .some(y)): return x < y
            default: return false
            }
        }
        var changed = false
        for job in sorted.prefix(surplus) where job.metadata?.deletionTimestamp == nil {
            if await deleteJob(&cronJob, job) { changed = true }
        }
        return changed
    }

    /// Deletes a job (in the background) and its `status.active` reference (`deleteJob`).
    func deleteJob(_ cronJob: inout CronJob, _ job: Job) async -> Bool {
        var options = DeletionOptions()
        options.propagationPolicy = "Background"
        do {
            try await client.delete(Job.self, namespace: job.metadata?.namespace, name: job.metadata?.name ?? "", options: options)
        } catch {
            await recorder.record(cronJob, type: "Warning", reason: "FailedDelete", message: "Deleted job: \(error)")
            return false
        }
        let updatedActive = (cronJob.status?.active ?? []).filter { $0.uid != job.metadata?.uid }
        cronJob.status?.active = updatedActive
        await recorder.record(cronJob, type: "Normal", reason: "SuccessfulDelete", message: "Deleted job \(job.metadata?.name ?? "")")
        return true
    }
}
