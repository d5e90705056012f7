import Foundation
import OrcaClient

/// Runs Jobs to completion (kube-controller-manager's job controller, v1.32 semantics):
/// creates pods from the template up to `parallelism` until `completions` succeed (NonIndexed
/// or Indexed), tracks finished pods through the `batch.kubernetes.io/job-tracking`
/// finalizer and `status.uncountedTerminatedPods`, backs off after failures, enforces
/// `backoffLimit`, `activeDeadlineSeconds` and the pod failure policy, suspends and resumes,
/// and writes the conditions (`SuccessCriteriaMet`/`FailureTarget` first, then `Complete`/
/// `Failed`) once no pod is left running.
public struct JobController: Reconciler {
    /// The finalizer on every job pod until the job counted it.
    public static let trackingFinalizer = "batch.kubernetes.io/job-tracking"
    /// The annotation (and label) with an Indexed job pod's completion index.
    public static let completionIndexAnnotation = "batch.kubernetes.io/job-completion-index"
    /// The environment variable with the completion index.
    public static let completionIndexEnv = "JOB_COMPLETION_INDEX"
    static let controllerUIDLabel = "batch.kubernetes.io/controller-uid"
    static let jobNameLabel = "batch.kubernetes.io/job-name"
    static let legacyControllerUIDLabel = "controller-uid"
    static let legacyJobNameLabel = "job-name"
    /// At most this many pods are created or deleted, or counted, per sync.
    static let maxPodsPerSync = 500
    static let component = "job-controller"

    let client: any APIClient
    let jobs: SharedInformer<Job>
    let pods: SharedInformer<Pod>
    let clock: any WallClock
    let recorder: EventRecorder
    let expectations: ControllerExpectations
    let finalizerExpectations = JobFinalizerExpectations()
    let backoff = JobBackoffStore()

    /// Builds the job controller on `informers`: job events enqueue the job, pod events the
    /// job that controls the pod.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<JobController> {
        let jobs = await informers.informer(Job.self)
        let pods = await informers.informer(Pod.self)
        let reconciler = JobController(client: client, jobs: jobs, pods: pods, clock: clock,
                                       recorder: EventRecorder(client: client, component: component, clock: { clock.now }),
                                       expectations: ControllerExpectations(clock: clock))
        let queue = RateLimitingQueue(clock: clock)
        let expectations = reconciler.expectations
        let finalizers = reconciler.finalizerExpectations
        let backoff = reconciler.backoff
        await jobs.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<Job>.key($0)) },
            onUpdate: { _, job in await queue.add(SharedInformer<Job>.key(job)) },
            onDelete: { job in
                let key = SharedInformer<Job>.key(job)
                expectations.delete(key)
                finalizers.delete(key)
                backoff.remove(key)
                // Its pods lose their tracking finalizers.
                await queue.add(key)
            }))
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { pod in
                guard let key = jobKey(of: pod) else { return }
                if pod.metadata?.deletionTimestamp != nil {
                    expectations.deletionObserved(key, podKey: SharedInformer<Pod>.key(pod))
                } else {
                    expectations.creationObserved(key)
                }
                await queue.add(key)
            },
            onUpdate: { old, pod in
                let key = jobKey(of: pod)
                if let key {
                    if pod.metadata?.deletionTimestamp != nil, old.metadata?.deletionTimestamp == nil {
                        expectations.deletionObserved(key, podKey: SharedInformer<Pod>.key(pod))
                    }
                    if !hasTrackingFinalizer(pod) { finalizers.removalObserved(key, uid: pod.metadata?.uid ?? "") }
                    await queue.add(key)
                }
                if let oldKey = jobKey(of: old), oldKey != key { await queue.add(oldKey) }
            },
            onDelete: { pod in
                guard let key = jobKey(of: pod) else { return }
                expectations.deletionObserved(key, podKey: SharedInformer<Pod>.key(pod))
                finalizers.removalObserved(key, uid: pod.metadata?.uid ?? "")
                await queue.add(key)
            }))
        return Controller(name: "job", queue: queue, reconciler: reconciler, workers: 2,
                          waitForSync: [{ await jobs.waitForSync() }, { await pods.waitForSync() }])
    }

    /// The key of the Job that controls `pod`, if a Job does.
    static func jobKey(of pod: Pod) -> String? {
        guard let ref = pod.metadata?.controllerRef, ref.kind == Job.kind, ref.apiVersion == Job.apiVersion,
              let name = ref.name, !name.isEmpty else { return nil }
        return ObjectKey(namespace: pod.metadata?.namespace, name: name).description
    }

    /// The pod carries the job tracking finalizer.
    static func hasTrackingFinalizer(_ pod: Pod) -> Bool {
        pod.metadata?.finalizers?.contains(trackingFinalizer) == true
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard var job = await jobs.get(key) else {
            // Gone: what a sync that ran past the delete handler noted about it goes too.
            expectations.delete(key)
            finalizerExpectations.delete(key)
            backoff.remove(key)
            try await releaseOrphans(key, keeping: nil)
            return .done
        }
        // A stale cached status is found out by the status write's conflict; then the sync
        // runs again on the job as the API server has it.
        for attempt in 0..<3 {
            do {
                return try await sync(job, key: key)
            } catch let error as APIError where error.isConflict && attempt < 2 {
                let id = ObjectKey(parsing: key)
                do {
                    job = try await client.get(Job.self, namespace: id.namespace, name: id.name)
                } catch let e as APIError where e.isNotFound {
                    return .done
                }
            }
        }
        return .done
    }

    /// Checks what a sync needs; a job that cannot be synced gets a Warning event and is skipped.
    func validate(_ job: Job) async -> LabelMatcher? {
        if let managedBy = job.spec?.managedBy, managedBy != "kubernetes.io/job-controller" { return nil }
        guard job.metadata?.uid != nil, job.spec?.template != nil else {
            await recorder.record(job, type: "Warning", reason: "InvalidJob", message: "Skipped Job sync because the job has no pod template")
            return nil
        }
        if let mode = job.spec?.completionMode, mode != "NonIndexed", mode != "Indexed" {
            await recorder.record(job, type: "Warning", reason: "UnknownCompletionMode", message: "Skipped Job sync because completion mode is unknown")
            return nil
        }
        if job.isIndexed, job.spec?.completions == nil {
            await recorder.record(job, type: "Warning", reason: "InvalidJob", message: "Skipped Job sync because an Indexed job needs spec.completions")
            return nil
        }
        do {
            return try LabelMatcher(job.spec?.selector ?? LabelSelector())
        } catch {
            await recorder.record(job, type: "Warning", reason: "InvalidSelector", message: "Skipped Job sync because of an invalid selector: \(error)")
            return nil
        }
    }

    /// Removes the tracking finalizer from pods a Job named `key` controlled that no longer
    /// have a live job (`handleOrphanPod`): the job is gone, or replaced by one with another
    /// UID (`keeping`).
    func releaseOrphans(_ key: String, keeping uid: String?) async throws {
        let id = ObjectKey(parsing: key)
        let orphans = await pods.list(namespace: id.namespace ?? "").filter { pod in
            guard Self.hasTrackingFinalizer(pod), Self.jobKey(of: pod) == key else { return false }
            return pod.metadata?.controllerRef?.uid != uid
        }
        guard !orphans.isEmpty else { return }
        if uid == nil {
            // The cache may be behind: only release pods whose job the API server does not have.
            if (try? await client.get(Job.self, namespace: id.namespace, name: id.name)) != nil { return }
        }
        if let error = await removeTrackingFinalizers(orphans, key: nil).error { throw error }
    }
}
