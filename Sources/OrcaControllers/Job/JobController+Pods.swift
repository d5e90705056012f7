import Foundation
import OrcaClient

extension JobController {
    /// What deleting pods did.
    struct DeleteOutcome {
        var deleted: Int32 = 0
        var deletedReady: Int32 = 0
        var error: (any Error)?
    }

    /// What `manageJob` did: the active count after its creates and deletes, when to look
    /// again (back-off), the first error.
    struct ManageOutcome {
        var active: Int32
        var requeue: TimeInterval?
        var error: (any Error)?
    }

    /// Moves the number of running pods toward what the job wants (`manageJob`): none while
    /// suspended, else `parallelism` bounded by the completions left; surplus pods are
    /// deleted first; new pods wait out the failure back-off and start in slow-start batches.
    func manageJob(_ ctx: inout SyncContext, active start: Int32) async -> ManageOutcome {
        var active = start
        let job = ctx.job
        let parallelism = job.spec?.parallelism ?? 1
        if job.isSuspended {
            let outcome = await deleteJobPods(job, podsForRemoval(job, ctx.activePods, count: ctx.activePods.count), key: ctx.key)
            ctx.terminating += outcome.deleted
            ctx.ready -= outcome.deletedReady
            return ManageOutcome(active: active - outcome.deleted, error: outcome.error)
        }
        let wantActive: Int32
        if let completions = job.spec?.completions {
            wantActive = max(0, min(completions - ctx.succeeded, parallelism))
        } else {
            // Without completions the job is done once any pod succeeded: leave the rest be.
            wantActive = ctx.succeeded > 0 ? active : parallelism
        }
        let surplus = podsForRemoval(job, ctx.activePods, count: max(0, Int(active - wantActive))).prefix(Self.maxPodsPerSync)
        if !surplus.isEmpty {
            // Deleting and creating never happen in the same sync.
            let outcome = await deleteJobPods(job, Array(surplus), key: ctx.key)
            ctx.terminating += outcome.deleted
            ctx.ready -= outcome.deletedReady
            return ManageOutcome(active: active - outcome.deleted, error: outcome.error)
        }
        let terminating = job.onlyReplacesFailedPods ? ctx.terminating : 0
        let diff = min(Int(wantActive - terminating - active), Self.maxPodsPerSync)
        guard diff > 0 else { return ManageOutcome(active: active) }
        let wait = JobBackoffStore.remaining(ctx.newBackoff, now: clock.now)
        if wait > 0 { return ManageOutcome(active: active, requeue: wait) }
        let indexes: [Int?] = job.isIndexed ? firstPendingIndexes(ctx, count: diff).map { Optional($0) } : Array(repeating: nil, count: diff)
        guard !indexes.isEmpty else { return ManageOutcome(active: active) }
        expectations.expect(ctx.key, adds: indexes.count)
        let template = podTemplate(job)
        var pending = indexes[...]
        var batch = 1
        var firstError: (any Error)?
        while !pending.isEmpty {
            let slice = Array(pending.prefix(batch))
            pending = pending.dropFirst(slice.count)
            let errors = await withTaskGroup(of: (any Error)?.self, returning: [any Error].self) { group in
                for index in slice { group.addTask { await self.createPod(job, template, index: index) } }
                var errors: [any Error] = []
                for await error in group { if let error { errors.append(error) } }
                return errors
            }
            for _ in errors { expectations.creationObserved(ctx.key) }
            active += Int32(slice.count - errors.count)
            if let error = errors.first {
                // The rest would likely fail alike: they are not expected, the next sync retries.
                firstError = error
                expectations.lowerCreations(ctx.key, by: pending.count)
                break
            }
            batch *= 2
        }
        return ManageOutcome(active: active, error: firstError)
    }

    /// The pod template the job's pods are made from: the job labels (unless the selector is
    /// manual), the tracking finalizer, and for Indexed jobs `JOB_COMPLETION_INDEX` in every
    /// container.
    func podTemplate(_ job: Job) -> PodTemplateSpec {
        var template = job.spec?.template ?? PodTemplateSpec()
        var meta = template.metadata ?? ObjectMeta()
        if job.spec?.manualSelector != true {
            let uid = job.metadata?.uid ?? "", name = job.metadata?.name ?? ""
            var labels = meta.labels ?? [:]
            for (key, value) in [(Self.controllerUIDLabel, uid), (Self.jobNameLabel, name),
                                 (Self.legacyControllerUIDLabel, uid), (Self.legacyJobNameLabel, name)] where labels[key] == nil {
                labels[key] = value
            }
            meta.labels = labels
        }
        var finalizers = meta.finalizers ?? []
        if !finalizers.contains(Self.trackingFinalizer) { finalizers.append(Self.trackingFinalizer) }
        meta.finalizers = finalizers
        template.metadata = meta
        if job.isIndexed {
            for i in (template.spec?.initContainers ?? []).indices { Self.addCompletionIndexEnv(&template.spec!.initContainers![i]) }
            for i in (template.spec?.containers ?? []).indices { Self.addCompletionIndexEnv(&template.spec!.containers![i]) }
        }
        return template
    }

    static func addCompletionIndexEnv(_ container: inout Container) {
        if container.env?.contains(where: { $0.name == completionIndexEnv }) == true { return }
        let source = EnvVarSource(fieldRef: ObjectFieldSelector(fieldPath: "metadata.annotations['\(completionIndexAnnotation)']"))
        container.env = (container.env ?? []) + [EnvVar(name: completionIndexEnv, valueFrom: source)]
    }

    /// Creates one pod (with its completion index); returns the error, if any.
    func createPod(_ job: Job, _ base: PodTemplateSpec, index: Int?) async -> (any Error)? {
        let name = job.metadata?.name ?? ""
        var template = base
        var generateName = "\(name)-"
        if let index {
            let updatedAnnotations = (template.metadata?.annotations ?? [:]).merging([Self.completionIndexAnnotation: String(index)]) { $1 }
            template.metadata?.annotations = updatedAnnotations
            let updatedLabels = (template.metadata?.labels ?? [:]).merging([Self.completionIndexAnnotation: String(index)]) { $1 }
            template.metadata?.labels = updatedLabels
            template.spec?.hostname = "\(name)-\(index)"
            generateName = Self.generateName(job: name, index: index)
        }
        let pod = template.pod(namespace: job.metadata?.namespace ?? "default", generateName: generateName, owner: .controller(job))
        do {
            let created = try await client.create(pod)
            await recorder.record(job, type: "Normal", reason: "SuccessfulCreate", message: "Created pod: \(created.metadata?.name ?? "")")
            return nil
        } catch {
            await recorder.record(job, type: "Warning", reason: "FailedCreate", message: "Error creating: \(error)")
            return error
        }
    }

    /// `<job>-<index>-`, the job name cut so a generated name stays within 63 characters.
    static func generateName(job name: String, index: Int) -> String {
        let suffix = "-\(index)-"
        if name.count + suffix.count <= 58 { return name + suffix }
        return String(name.prefix(max(0, 58 - suffix.count))) + suffix
    }

    /// The lowest indexes neither succeeded nor held by a running (or, when only failed pods
    /// are replaced, terminating) pod (`firstPendingIndexes`).
    func firstPendingIndexes(_ ctx: SyncContext, count: Int) -> [Int] {
        var taken = Set(ctx.activePods.compactMap(Self.completionIndex(of:)))
        if ctx.job.onlyReplacesFailedPods {
            taken.formUnion(ctx.pods.filter { $0.metadata?.deletionTimestamp != nil && !$0.isTerminal }.compactMap(Self.completionIndex(of:)))
        }
        var result: [Int] = []
        var candidate = 0
        while candidate < ctx.completions, result.count < count {
            if !taken.contains(candidate), !ctx.succeededIndexes.contains(candidate) { result.append(candidate) }
            candidate += 1
        }
        return result
    }

    /// The pods to delete (`activePodsForRemoval`): for Indexed jobs every pod with a bad or
    /// repeated index, then the `count` most expendable.
    func podsForRemoval(_ job: Job, _ pods: [Pod], count: Int) -> [Pod] {
        var remove: [Pod] = []
        var left = pods
        if job.isIndexed {
            let completions = Int(job.spec?.completions ?? 0)
            var byIndex: [Int: [Pod]] = [:]
            left = []
            for pod in pods {
                guard let ix = Self.completionIndex(of: pod), ix < completions else { remove.append(pod); continue }
                byIndex[ix, default: []].append(pod)
            }
            for ix in byIndex.keys.sorted() {
                let same = byIndex[ix, default: []].sorted(by: Self.deletesFirst)
                remove += same.dropLast()
                if let keep = same.last { left.append(keep) }
            }
        }
        if remove.count < count {
            remove += left.sorted(by: Self.deletesFirst).prefix(count - remove.count)
        }
        return remove
    }

    /// Which of two active pods to delete first (`controller.ActivePods`): unscheduled,
    /// pending, not ready, more restarts, newer.
    static func deletesFirst(_ a: Pod, _ b: Pod) -> Bool {
        let an = a.spec?.nodeName ?? "", bn = b.spec?.nodeName ?? ""
        if an != bn, an.isEmpty || bn.isEmpty { return an.isEmpty }
        let phaseOrder = ["Pending": 0, "Unknown": 1, "Running": 2]
        let ap = phaseOrder[a.status?.phase ?? ""] ?? 0, bp = phaseOrder[b.status?.phase ?? ""] ?? 0
        if ap != bp { return ap < bp }
        if a.isReady != b.isReady { return !a.isReady }
        let ar = (a.status?.containerStatuses ?? []).map { $0.restartCount ?? 0 }.max() ?? 0
        let br = (b.status?.containerStatuses ?? []).map { $0.restartCount ?? 0 }.max() ?? 0
        if ar != br { return ar > br }
        let ac = KubernetesTime.date(a.metadata?.creationTimestamp), bc = KubernetesTime.date(b.metadata?.creationTimestamp)
        if ac != bc { return ac.map { t in bc.map { t > $0 } ?? false } ?? true }
        return false
    }

    /// Removes the tracking finalizer and deletes pods the job no longer wants
    /// (`deleteJobPods`): they are not counted as failures. Deletions are expected.
    func deleteJobPods(_ job: Job, _ pods: [Pod], key: String) async -> DeleteOutcome {
        guard !pods.isEmpty else { return DeleteOutcome() }
        expectations.expect(key, adds: 0, deletes: Set(pods.map { SharedInformer<Pod>.key($0) }))
        return await deletePods(job, pods, key: key, removingFinalizer: true)
    }

    /// Deletes the running pods of a job that finished (`deleteActivePods`), keeping their
    /// finalizers: they are counted once they are gone.
    func deleteActivePods(_ job: Job, _ pods: [Pod]) async -> DeleteOutcome {
        await deletePods(job, pods, key: nil, removingFinalizer: false)
    }

    func deletePods(_ job: Job, _ pods: [Pod], key: String?, removingFinalizer: Bool) async -> DeleteOutcome {
        let client = self.client, recorder = self.recorder
        return await withTaskGroup(of: (pod: Pod, error: (any Error)?, gone: Bool).self, returning: DeleteOutcome.self) { group in
            for pod in pods {
                group.addTask {
                    let name = pod.metadata?.name ?? ""
                    do {
                        if removingFinalizer, JobController.hasTrackingFinalizer(pod) {
                            let remaining = (pod.metadata?.finalizers ?? []).filter { $0 != JobController.trackingFinalizer }
                            let patch: JSONValue = ["metadata": ["finalizers": .array(remaining.map(JSONValue.string))]]
                            try await client.mergePatch(Pod.self, namespace: pod.metadata?.namespace, name: name, patch: patch)
                        }
                        try await client.delete(Pod.self, namespace: pod.metadata?.namespace, name: name)
                        await recorder.record(job, type: "Normal", reason: "SuccessfulDelete", message: "Deleted pod: \(name)")
                        return (pod, nil, false)
                    } catch let error as APIError where error.isNotFound {
                        return (pod, nil, true)
                    } catch {
                        await recorder.record(job, type: "Warning", reason: "FailedDelete", message: "Error deleting: \(error)")
                        return (pod, error, false)
                    }
                }
            }
            var outcome = DeleteOutcome()
            for await result in group {
                if let key, result.error != nil || result.gone {
                    self.expectations.deletionObserved(key, podKey: SharedInformer<Pod>.key(result.pod))
                }
                if let error = result.error {
                    outcome.error = outcome.error ?? error
                    continue
                }
                outcome.deleted += 1
                if result.pod.isReady { outcome.deletedReady += 1 }
            }
            return outcome
        }
    }
}
