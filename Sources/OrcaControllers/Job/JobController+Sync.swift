import Foundation
import OrcaClient

extension JobController {
    /// What one sync knows about a job and its pods (`syncJobCtx`).
    struct SyncContext {
        var job: Job
        let key: String
        let pods: [Pod]
        let activePods: [Pod]
        var ready: Int32
        var terminating: Int32
        let uncountedSucceeded: Set<String>
        let uncountedFailed: Set<String>
        let expectedRemovals: Set<String>
        var succeeded: Int32 = 0
        var failed: Int32 = 0
        /// The condition the job is about to reach, if any.
        var finishedCondition: JobCondition?
        var previousSucceededIndexes = CompletionIndexes()
        var succeededIndexes = CompletionIndexes()
        var newBackoff = JobBackoffStore.Record()

        var completions: Int { Int(job.spec?.completions ?? 0) }
    }

    /// One level-triggered pass over a job (`syncJob`).
    func sync(_ shared: Job, key: String) async throws -> ReconcileResult {
        guard let selector = await validate(shared) else { return .done }
        let uid = shared.metadata?.uid ?? ""
        let owned = await pods.byIndex(Indexers.controllerUID, uid)
        if shared.isFinished {
            backoff.remove(key)
            // Pods that finish after their job did are not counted; they only lose the finalizer.
            let removing = finalizerExpectations.expected(key)
            let leftovers = owned.filter { Self.hasTrackingFinalizer($0) && !removing.contains($0.metadata?.uid ?? "") }
            if !leftovers.isEmpty, let error = await removeTrackingFinalizers(leftovers, key: key).error { throw error }
            try await releaseOrphans(key, keeping: uid)
            return .done
        }
        if shared.status?.startTime == nil { try await releaseOrphans(key, keeping: uid) }
        var job = shared
        if job.status == nil { job.status = JobStatus() }
        if job.status?.uncountedTerminatedPods == nil { job.status?.uncountedTerminatedPods = UncountedTerminatedPods() }
        // Expectations first: a pod that shows up after this check only defers the sync.
        let satisfied = expectations.satisfied(key)
        let jobPods = owned.filter { selector.matches($0.metadata?.labels ?? [:]) }
        let released = owned.filter { !selector.matches($0.metadata?.labels ?? [:]) && Self.hasTrackingFinalizer($0) }
        if !released.isEmpty, let error = await removeTrackingFinalizers(released, key: key).error { throw error }
        let activePods = jobPods.filter(\.isActive)
        let uncounted = job.status?.uncountedTerminatedPods
        var ctx = SyncContext(job: job, key: key, pods: jobPods, activePods: activePods,
                              ready: Int32(activePods.filter(\.isReady).count),
                              terminating: Int32(jobPods.filter { $0.metadata?.deletionTimestamp != nil && !$0.isTerminal }.count),
                              uncountedSucceeded: Set(uncounted?.succeeded ?? []), uncountedFailed: Set(uncounted?.failed ?? []),
                              expectedRemovals: finalizerExpectations.expected(key))
        var active = Int32(activePods.count)
        let newSucceeded = newFinishedPods(ctx, uncounted: ctx.uncountedSucceeded) { $0.status?.phase == "Succeeded" }
        let newFailed = newFinishedPods(ctx, uncounted: ctx.uncountedFailed) { job.counts(failed: $0) }
        let countedFailures = job.spec?.podFailurePolicy.map { p in newFailed.filter { p.verdict(for: $0).countsFailure }.count } ?? newFailed.count
        ctx.succeeded = (job.status?.succeeded ?? 0) + Int32(newSucceeded.count + ctx.uncountedSucceeded.count)
        ctx.failed = (job.status?.failed ?? 0) + Int32(countedFailures + ctx.uncountedFailed.count)
        let now = clock.now
        // First start; never while suspended.
        if ctx.job.status?.startTime == nil, !job.isSuspended { ctx.job.status?.startTime = KubernetesTime.string(now) }
        ctx.newBackoff = backoff.newRecord(key, succeeded: newSucceeded, failed: newFailed)

        var requeue: TimeInterval?
        ctx.finishedCondition = job.trueCondition("SuccessCriteriaMet")
        if ctx.finishedCondition == nil {
            if let target = job.trueCondition("FailureTarget") {
                ctx.finishedCondition = .now("Failed", reason: target.reason ?? "", message: target.message ?? "", at: now)
            } else if let message = failJobMessage(job, jobPods) {
                ctx.finishedCondition = .now("FailureTarget", reason: "PodFailurePolicy", message: message, at: now)
            }
        }
        if ctx.finishedCondition == nil {
            if ctx.failed > (job.spec?.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, jobPods) {
                ctx.finishedCondition = .now("FailureTarget", reason: "BackoffLimitExceeded",
                                             message: "Job has reached the specified backoff limit", at: now)
            } else if let seconds = job.spec?.activeDeadlineSeconds, !job.isSuspended,
                      let start = KubernetesTime.date(ctx.job.status?.startTime) {
                let left = start.addingTimeInterval(TimeInterval(seconds)).timeIntervalSince(now)
                if left <= 0 {
                    ctx.finishedCondition = .now("FailureTarget", reason: "DeadlineExceeded",
                                                 message: "Job was active longer than specified deadline", at: now)
                } else {
                    requeue = left
                }
            }
        }
        if job.isIndexed {
            let completions = ctx.completions
            ctx.previousSucceededIndexes = CompletionIndexes(parsing: job.status?.completedIndexes, completions: completions)
            let fresh = jobPods.compactMap { pod -> Int? in
                guard pod.status?.phase == "Succeeded", Self.hasTrackingFinalizer(pod),
                      let ix = Self.completionIndex(of: pod), ix < completions else { return nil }
                return ix
            }
            ctx.succeededIndexes = ctx.previousSucceededIndexes.adding(fresh)
            ctx.succeeded = Int32(ctx.succeededIndexes.total)
        }

        var manageError: (any Error)?
        if ctx.finishedCondition != nil {
            // Failed or succeeded: whatever still runs is stopped first.
            let outcome = await deleteActivePods(ctx.job, activePods)
            if outcome.deleted != active || !satisfied { ctx.finishedCondition = nil }
            active -= outcome.deleted
            ctx.terminating += outcome.deleted
            ctx.ready -= outcome.deletedReady
            manageError = outcome.error
        } else {
            var managed = false
            if satisfied, job.metadata?.deletionTimestamp == nil {
                let outcome = await manageJob(&ctx, active: active)
                active = outcome.active
                if let wait = outcome.requeue { requeue = min(requeue ?? wait, wait) }
                manageError = outcome.error
                managed = true
            }
            let complete = job.spec?.completions.map { ctx.succeeded >= $0 && active == 0 } ?? (ctx.succeeded > 0 && active == 0)
            if complete {
                ctx.finishedCondition = .now("SuccessCriteriaMet", reason: "CompletionsReached",
                                             message: "Reached expected number of succeeded pods", at: now)
            } else if managed {
                await updateSuspension(&ctx, now: now)
            }
        }
        ctx.job.status?.active = active
        ctx.job.status?.ready = ctx.ready
        ctx.job.status?.terminating = ctx.terminating
        try await trackStatusAndRemoveFinalizers(&ctx, needsFlush: ctx.job.status != shared.status)
        if let manageError { throw manageError }
        if let requeue { return .requeue(after: .seconds(max(requeue, 0.001))) }
        return .done
    }

    /// Sets `Suspended` True (and clears `startTime`) or, on resume, False (and restarts
    /// `startTime`, so `activeDeadlineSeconds` counts from the resume).
    func updateSuspension(_ ctx: inout SyncContext, now: Date) async {
        if ctx.job.isSuspended {
            ctx.job.status?.startTime = nil
            if ctx.job.status?.ensureCondition("Suspended", status: "True", reason: "JobSuspended", message: "Job suspended", now: now) == true {
                await recorder.record(ctx.job, type: "Normal", reason: "Suspended", message: "Job suspended")
            }
        } else if ctx.job.status?.ensureCondition("Suspended", status: "False", reason: "JobResumed", message: "Job resumed", now: now) == true {
            await recorder.record(ctx.job, type: "Normal", reason: "Resumed", message: "Job resumed")
            ctx.job.status?.startTime = KubernetesTime.string(now)
        }
    }

    /// Finished pods not yet in the status (`getNewFinishedPods`): they carry the finalizer,
    /// are not already uncounted or being released, and (Indexed) have a valid index.
    func newFinishedPods(_ ctx: SyncContext, uncounted: Set<String>, _ filter: (Pod) -> Bool) -> [Pod] {
        ctx.pods.filter { pod in
            let uid = pod.metadata?.uid ?? ""
            guard Self.hasTrackingFinalizer(pod), !uncounted.contains(uid), !ctx.expectedRemovals.contains(uid) else { return false }
            if ctx.job.isIndexed {
                guard let ix = Self.completionIndex(of: pod), ix < ctx.completions else { return false }
            }
            return filter(pod)
        }
    }

    /// The message of the first failed pod a `FailJob` rule matches (`getFailJobMessage`).
    func failJobMessage(_ job: Job, _ pods: [Pod]) -> String? {
        guard let policy = job.spec?.podFailurePolicy else { return nil }
        for pod in pods where job.counts(failed: pod) {
            if let message = policy.verdict(for: pod).failJobMessage { return message }
        }
        return nil
    }

    /// With `restartPolicy: OnFailure`, the container restarts of running pods count
    /// against `backoffLimit` (`pastBackoffLimitOnFailure`).
    func pastBackoffLimitOnFailure(_ job: Job, _ pods: [Pod]) -> Bool {
        guard job.spec?.template?.spec?.restartPolicy == "OnFailure" else { return false }
        var restarts: Int32 = 0
        for pod in pods where pod.status?.phase == "Running" || pod.status?.phase == "Pending" {
            for s in (pod.status?.initContainerStatuses ?? []) + (pod.status?.containerStatuses ?? []) {
                restarts = restarts.addingReportingOverflow(s.restartCount ?? 0).partialValue
            }
        }
        let limit = job.spec?.backoffLimit ?? 6
        return limit == 0 ? restarts > 0 : restarts >= limit
    }

    /// The completion index of an Indexed job's pod, from its annotation.
    static func completionIndex(of pod: Pod) -> Int? {
        guard let text = pod.metadata?.annotations?[completionIndexAnnotation], let ix = Int(text), ix >= 0 else { return nil }
        return ix
    }
}
