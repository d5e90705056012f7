import Foundation
import OrcaClient

extension JobController {
    /// Counts finished pods through `status.uncountedTerminatedPods` and removes their
    /// finalizers (`trackJobStatusAndRemoveFinalizers`): the pods' UIDs (or, Indexed, their
    /// indexes) are written to the status first, then the finalizers go, then the counters
    /// take the pods whose finalizer is gone; the job is marked finished once nothing is
    /// uncounted or terminating.
    func trackStatusAndRemoveFinalizers(_ ctx: inout SyncContext, needsFlush initial: Bool) async throws {
        var needsFlush = initial
        let indexed = ctx.job.isIndexed
        let completions = ctx.completions
        var pods = ctx.pods
        if indexed { pods.sort { (Self.completionIndex(of: $0) ?? -1) < (Self.completionIndex(of: $1) ?? -1) } }
        var withFinalizer = Set(pods.compactMap { pod -> String? in
            guard let uid = pod.metadata?.uid, Self.hasTrackingFinalizer(pod), !ctx.expectedRemovals.contains(uid) else { return nil }
            return uid
        })
        if Self.countUncounted(&ctx.job, withFinalizer: withFinalizer) { needsFlush = true }
        var succeededUIDs = ctx.job.status?.uncountedTerminatedPods?.succeeded ?? []
        var failedUIDs = ctx.job.status?.uncountedTerminatedPods?.failed ?? []
        var newSucceededIndexes: [Int] = []
        var toRemove: [Pod] = []
        var reachedMax = false
        let policy = ctx.job.spec?.podFailurePolicy
        for pod in pods {
            let uid = pod.metadata?.uid ?? ""
            guard Self.hasTrackingFinalizer(pod), !ctx.expectedRemovals.contains(uid) else { continue }
            let failed = ctx.job.counts(failed: pod)
            // Until the job finishes, only finished pods lose the finalizer.
            guard ctx.job.metadata?.deletionTimestamp != nil || ctx.finishedCondition != nil
                    || pod.status?.phase == "Succeeded" || failed else { continue }
            toRemove.append(pod)
            if pod.status?.phase == "Succeeded", !ctx.uncountedFailed.contains(uid) {
                if indexed {
                    if let ix = Self.completionIndex(of: pod), ix < completions, !ctx.previousSucceededIndexes.contains(ix) {
                        newSucceededIndexes.append(ix)
                        needsFlush = true
                    }
                } else if !ctx.uncountedSucceeded.contains(uid) {
                    succeededUIDs.append(uid)
                    needsFlush = true
                }
            } else if failed || (ctx.finishedCondition != nil && ctx.finishedCondition?.type != "SuccessCriteriaMet") {
                // A job that failed counts every pod it stops as failed.
                let validIndex = !indexed || (Self.completionIndex(of: pod).map { $0 < completions } ?? false)
                if !ctx.uncountedFailed.contains(uid), validIndex, policy?.verdict(for: pod).countsFailure ?? true {
                    failedUIDs.append(uid)
                    needsFlush = true
                }
            }
            if newSucceededIndexes.count + succeededUIDs.count + failedUIDs.count >= Self.maxPodsPerSync {
                reachedMax = true
                break
            }
        }
        ctx.job.status?.uncountedTerminatedPods = UncountedTerminatedPods(failed: failedUIDs.isEmpty ? nil : failedUIDs,
                                                                        succeeded: succeededUIDs.isEmpty ? nil : succeededUIDs)
        if indexed {
            ctx.succeededIndexes = ctx.succeededIndexes.adding(newSucceededIndexes)
            let text = ctx.succeededIndexes.description
            if text != (ctx.job.status?.completedIndexes ?? "") { needsFlush = true }
            ctx.job.status?.succeeded = Int32(ctx.succeededIndexes.total)
            ctx.job.status?.completedIndexes = text.isEmpty ? nil : text
        }
        let now = clock.now
        if let target = ctx.finishedCondition, target.type == "FailureTarget" {
            // Recorded before the finalizers go; Failed follows once nothing runs.
            let updatedConditions = (ctx.job.status?.conditions ?? []) + [target]
            ctx.job.status?.conditions = updatedConditions
            needsFlush = true
            ctx.finishedCondition = .now("Failed", reason: target.reason ?? "", message: target.message ?? "", at: now)
        }
        if let met = ctx.finishedCondition, met.type == "SuccessCriteriaMet" {
            if ctx.job.trueCondition("SuccessCriteriaMet") == nil {
                let updatedConditions = (ctx.job.status?.conditions ?? []) + [met]
                ctx.job.status?.conditions = updatedConditions
                needsFlush = true
            }
            ctx.finishedCondition = .now("Complete", reason: met.reason ?? "", message: met.message ?? "", at: now)
        }

        // Flush the uncounted pods, remove their finalizers, count them.
        if needsFlush {
            ctx.job = try await updateStatus(ctx.job)
            backoff.update(ctx.key, ctx.newBackoff)
            needsFlush = false
        }
        var removalError: (any Error)?
        if !toRemove.isEmpty {
            let outcome = await removeTrackingFinalizers(toRemove, key: ctx.key)
            withFinalizer.subtract(outcome.removed)
            removalError = outcome.error
        }
        if Self.countUncounted(&ctx.job, withFinalizer: withFinalizer) { needsFlush = true }
        if let removalError {
            if needsFlush { ctx.job = try await updateStatus(ctx.job) }
            throw removalError
        }
        var finished = false
        if !reachedMax { finished = enactFinished(&ctx, now: now) }
        if finished { needsFlush = true }
        guard needsFlush else { return }
        ctx.job = try await updateStatus(ctx.job)
        if finished, let condition = ctx.finishedCondition { await recordFinished(ctx.job, condition) }
    }

    /// Moves the uncounted pods whose finalizer is gone into the counters
    /// (`cleanUncountedPodsWithoutFinalizers`); returns whether anything moved.
    static func countUncounted(_ job: inout Job, withFinalizer: Set<String>) -> Bool {
        guard var status = job.status else { return false }
        let uncounted = status.uncountedTerminatedPods
        let succeeded = uncounted?.succeeded ?? [], failed = uncounted?.failed ?? []
        let stillSucceeded = succeeded.filter(withFinalizer.contains)
        let stillFailed = failed.filter(withFinalizer.contains)
        guard stillSucceeded.count != succeeded.count || stillFailed.count != failed.count else { return false }
        status.succeeded = (status.succeeded ?? 0) + Int32(succeeded.count - stillSucceeded.count)
        status.failed = (status.failed ?? 0) + Int32(failed.count - stillFailed.count)
        status.uncountedTerminatedPods = UncountedTerminatedPods(failed: stillFailed.isEmpty ? nil : stillFailed,
                                                                 succeeded: stillSucceeded.isEmpty ? nil : stillSucceeded)
        job.status = status
        return true
    }

    /// Writes `Complete` (with `completionTime`) or `Failed` once no pod is uncounted or
    /// terminating (`enactJobFinished`).
    func enactFinished(_ ctx: inout SyncContext, now: Date) -> Bool {
        guard let condition = ctx.finishedCondition else { return false }
        let uncounted = ctx.job.status?.uncountedTerminatedPods
        if !(uncounted?.succeeded ?? []).isEmpty || !(uncounted?.failed ?? []).isEmpty { return false }
        if ctx.terminating > 0 { return false }
        _ = ctx.job.status?.ensureCondition(condition.type ?? "", status: "True", reason: condition.reason ?? "",
                                            message: condition.message ?? "", now: now)
        if condition.type == "Complete" { ctx.job.status?.completionTime = KubernetesTime.string(now) }
        return true
    }

    /// The events of a finished job (`recordJobFinished`).
    func recordFinished(_ job: Job, _ condition: JobCondition) async {
        backoff.remove(SharedInformer<Job>.key(job))
        guard condition.type == "Complete" else {
            await recorder.record(job, type: "Warning", reason: condition.reason ?? "", message: condition.message ?? "")
            return
        }
        if let completions = job.spec?.completions, (job.status?.succeeded ?? 0) > completions {
            await recorder.record(job, type: "Warning", reason: "TooManySucceededPods",
                                  message: "Too many succeeded pods running after completion count reached")
        }
        await recorder.record(job, type: "Normal", reason: "Completed", message: "Job completed")
    }

    /// Replaces the job's status (optimistic concurrency on its resourceVersion).
    func updateStatus(_ job: Job) async throws -> Job {
        try await client.update(job, subresource: "status")
    }

    /// Removes the tracking finalizer from `pods` in parallel; with a job `key`, the removals
    /// are expected until the cache shows them. Returns the UIDs done (or already gone) and
    /// the first error.
    func removeTrackingFinalizers(_ pods: [Pod], key: String?) async -> (removed: Set<String>, error: (any Error)?) {
        if let key { finalizerExpectations.expectRemovals(key, pods.compactMap { $0.metadata?.uid }) }
        let client = self.client
        return await withTaskGroup(of: (uid: String, error: (any Error)?, gone: Bool).self,
                                     returning: (removed: Set<String>, error: (any Error)?).self) { group in
            for pod in pods {
                group.addTask {
                    let uid = pod.metadata?.uid ?? ""
                    let remaining = (pod.metadata?.finalizers ?? []).filter { $0 != JobController.trackingFinalizer }
                    let patch: JSONValue = ["metadata": ["finalizers": .array(remaining.map(JSONValue.string))]]
                    do {
                        try await client.mergePatch(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "", patch: patch)
                        return (uid, nil, false)
                    } catch let error as APIError where error.isNotFound {
                        return (uid, nil, true)
                    } catch {
                        return (uid, error, false)
                    }
                }
            }
            var removed = Set<String>()
            var firstError: (any Error)?
            for await result in group {
                if result.error == nil { removed.insert(result.uid) }
                if let key, result.error != nil || result.gone { finalizerExpectations.removalObserved(key, uid: result.uid) }
                if let error = result.error, firstError == nil { firstError = error }
            }
            return (removed, firstError)
        }
    }
}
