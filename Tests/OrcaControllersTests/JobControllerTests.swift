import Foundation
import OrcaClient
import OrcaControllers
import Testing

/// The job and TTL-after-finished controllers on an in-process registry. No kubelet runs:
/// the tests finish pods by writing their status.
@Suite struct JobControllerTests {
    @Test func runsAtMostParallelismPodsUntilCompletionsSucceed() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c, job: true)
        defer { run.cancel() }
        try await c.client.create(Self.job("work", completions: 5, parallelism: 2))
        for finished in 0..<5 {
            #expect(try await eventually { try await activePods(c, "work").count == min(2, 5 - finished) })
            let active = try await activePods(c, "work")
            #expect(active.count <= 2)
            try await setPhase(c, active[0], "Succeeded")
        }
        #expect(try await eventually { try await condition(c, "work", "Complete")?.status == "True" })
        let job = try await c.client.get(Job.self, namespace: "default", name: "work")
        #expect(job.status?.succeeded == 5 && job.status?.active == 0 && (job.status?.failed ?? 0) == 0)
        #expect(job.status?.completionTime != nil && job.status?.startTime != nil)
        let met = job.status?.conditions?.first { $0.type == "SuccessCriteriaMet" }
        #expect(met?.status == "True" && met?.reason == "CompletionsReached")
        #expect(job.status?.conditions?.first { $0.type == "Complete" }?.message == "Reached expected number of succeeded pods")
        let pods = try await jobPods(c, "work")
        #expect(pods.count == 5 && pods.allSatisfy { $0.status?.phase == "Succeeded" })
        #expect(try await eventually {
            try await jobPods(c, "work").allSatisfy { !($0.metadata?.finalizers ?? []).contains(JobController.trackingFinalizer) }
        })
        #expect(try await eventually { try await hasEvent(c, reason: "Completed", message: "Job completed") })
    }

    @Test func podsCarryTheJobLabelsOwnerAndTrackingFinalizer() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c, job: true)
        defer { run.cancel() }
        let job = try await c.client.create(Self.job("labelled"))
        #expect(try await eventually { try await activePods(c, "labelled").count == 1 })
        let pod = try #require(try await activePods(c, "labelled").first)
        let uid = job.metadata?.uid ?? ""
        #expect(pod.metadata?.labels?["batch.kubernetes.io/controller-uid"] == uid && pod.metadata?.labels?["controller-uid"] == uid)
        #expect(pod.metadata?.labels?["batch.kubernetes.io/job-name"] == "labelled" && pod.metadata?.labels?["job-name"] == "labelled")
        #expect(pod.metadata?.finalizers == [JobController.trackingFinalizer])
        let owner = pod.metadata?.ownerReferences?.first
        #expect(owner?.kind == "Job" && owner?.uid == uid && owner?.controller == true && owner?.blockOwnerDeletion == true)
        #expect(pod.metadata?.name?.hasPrefix("labelled-") == true)
        #expect(try await eventually { try await hasEvent(c, reason: "SuccessfulCreate", message: "Created pod: \(pod.metadata?.name ?? "")") })
    }

    @Test func failuresBeyondBackoffLimitFailTheJobAfterBackOff() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c, job: true)
        defer { run.cancel() }
        var job = Self.job("flaky")
        job.spec?.backoffLimit = 1
        try await c.client.create(job)
        #expect(try await eventually { try await activePods(c, "flaky").count == 1 })
        try await setPhase(c, try #require(try await activePods(c, "flaky").first), "Failed")
        #expect(try await eventually { try await c.client.get(Job.self, namespace: "default", name: "flaky").status?.failed == 1 })
        // The replacement waits out the 10 s back-off on the manual clock.
        #expect(try await activePods(c, "flaky").isEmpty)
        #expect(try await eventually {
            c.clock.advance(by: .seconds(1))
            return try await activePods(c, "flaky").count == 1
        })
        try await setPhase(c, try #require(try await activePods(c, "flaky").first), "Failed")
        #expect(try await eventually { try await condition(c, "flaky", "Failed")?.status == "True" })
        let failed = try await c.client.get(Job.self, namespace: "default", name: "flaky")
        let message = "Job has reached the specified backoff limit"
        for type in ["FailureTarget", "Failed"] {
            let cond = failed.status?.conditions?.first { $0.type == type }
            #expect(cond?.status == "True" && cond?.reason == "BackoffLimitExceeded" && cond?.message == message)
        }
        #expect(failed.status?.failed == 2 && failed.status?.active == 0 && failed.status?.completionTime == nil)
        #expect(try await eventually { try await hasEvent(c, reason: "BackoffLimitExceeded", message: message) })
    }

    @Test func indexedPodsCarryTheirIndexAndCompletedIndexesAreCompressed() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c, job: true)
        defer { run.cancel() }
        var job = Self.job("indexed", completions: 3, parallelism: 3)
        job.spec?.completionMode = "Indexed"
        try await c.client.create(job)
        #expect(try await eventually { try await activePods(c, "indexed").count == 3 })
        var byIndex: [String: Pod] = [:]
        for pod in try await activePods(c, "indexed") {
            let index = try #require(pod.metadata?.annotations?[JobController.completionIndexAnnotation])
            byIndex[index] = pod
            #expect(pod.metadata?.labels?[JobController.completionIndexAnnotation] == index)
            #expect(pod.metadata?.name?.hasPrefix("indexed-\(index)-") == true)
            #expect(pod.spec?.hostname == "indexed-\(index)")
            let env = pod.spec?.containers?.first?.env?.first { $0.name == "JOB_COMPLETION_INDEX" }
            #expect(env?.valueFrom?.fieldRef?.fieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']")
        }
        #expect(byIndex.keys.sorted() == ["0", "1", "2"])
        try await setPhase(c, try #require(byIndex["0"]), "Succeeded")
        try await setPhase(c, try #require(byIndex["2"]), "Succeeded")
        #expect(try await eventually {
            let status = try await c.client.get(Job.self, namespace: "default", name: "indexed").status
            return status?.completedIndexes == "0,2" && status?.succeeded == 2
        })
        try await setPhase(c, try #require(byIndex["1"]), "Succeeded")
        #expect(try await eventually { try await condition(c, "indexed", "Complete")?.status == "True" })
        #expect(try await c.client.get(Job.self, namespace: "default", name: "indexed").status?.completedIndexes == "0-2")
        #expect(try await jobPods(c, "indexed").count == 3)
    }

    @Test func suspendDeletesThePodsAndResumeRestartsThem() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c, job: true)
        defer { run.cancel() }
        try await c.client.create(Self.job("paused", completions: 4, parallelism: 2))
        #expect(try await eventually { try await activePods(c, "paused").count == 2 })
        try await setSuspend(c, "paused", true)
        #expect(try await eventually {
            let job = try await c.client.get(Job.self, namespace: "default", name: "paused")
            let suspended = job.status?.conditions?.first { $0.type == "Suspended" }
            return try await jobPods(c, "paused").isEmpty && suspended?.status == "True" && suspended?.reason == "JobSuspended"
                && job.status?.startTime == nil && job.status?.active == 0
        })
        #expect(try await hasEvent(c, reason: "Suspended", message: "Job suspended"))
        try await setSuspend(c, "paused", false)
        #expect(try await eventually {
            let job = try await c.client.get(Job.self, namespace: "default", name: "paused")
            let suspended = job.status?.conditions?.first { $0.type == "Suspended" }
            return try await activePods(c, "paused").count == 2 && suspended?.status == "False" && suspended?.reason == "JobResumed"
                && job.status?.startTime != nil
        })
    }

    @Test func ttlAfterFinishedDeletesAFinishedJobOnceItsTimeHasCome() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c, job: false, ttl: true)
        defer { run.cancel() }
        var job = Self.job("done")
        job.spec?.ttlSecondsAfterFinished = 100
        var created = try await c.client.create(job)
        var status = created.status ?? JobStatus()
        status.conditions = [JobCondition(lastTransitionTime: KubernetesTime.string(c.clock.now), status: "True", type: "Complete")]
        created.status = status
        try await c.client.update(created, subresource: "status")
        try await Task.sleep(for: .milliseconds(200))
        #expect((try? await c.client.get(Job.self, namespace: "default", name: "done")) != nil)
        #expect(await eventually {
            c.clock.advance(by: .seconds(2))
            return (try? await c.client.get(Job.self, namespace: "default", name: "done")) == nil
        })
    }

    // MARK: helpers

    /// A job whose pods run busybox and are never restarted.
    static func job(_ name: String, completions: Int32 = 1, parallelism: Int32 = 1) -> Job {
        var spec = JobSpec()
        spec.completions = completions
        spec.parallelism = parallelism
        spec.template = PodTemplateSpec(spec: PodSpec(containers: [Container(image: "busybox", name: "c")], restartPolicy: "Never"))
        return Job(metadata: ObjectMeta(name: name, namespace: "default"), spec: spec)
    }

    func start(_ c: ControllerTestCluster, job: Bool, ttl: Bool = false) async -> Task<Void, Never> {
        var runnables: [any Runnable] = []
        if job { runnables.append(await JobController.controller(client: c.client, informers: c.informers, clock: c.clock)) }
        if ttl { runnables.append(await TTLAfterFinishedController.controller(client: c.client, informers: c.informers, clock: c.clock)) }
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: runnables)
        return Task { await manager.run() }
    }

    func jobPods(_ c: ControllerTestCluster, _ job: String) async throws -> [Pod] {
        try await c.client.list(Pod.self, namespace: "default").filter { $0.metadata?.ownerReferences?.first?.name == job }
    }

    func activePods(_ c: ControllerTestCluster, _ job: String) async throws -> [Pod] {
        try await jobPods(c, job).filter(\.isActive)
    }

    func condition(_ c: ControllerTestCluster, _ job: String, _ type: String) async throws -> JobCondition? {
        try await c.client.get(Job.self, namespace: "default", name: job).status?.conditions?.first { $0.type == type }
    }

    /// Writes the pod's phase as a kubelet would.
    func setPhase(_ c: ControllerTestCluster, _ pod: Pod, _ phase: String) async throws {
        for attempt in 0..<5 {
            var fresh = try await c.client.get(Pod.self, namespace: "default", name: pod.metadata?.name ?? "")
            var status = fresh.status ?? PodStatus()
            status.phase = phase
            fresh.status = status
            do {
                try await c.client.update(fresh, subresource: "status")
                return
            } catch let e as APIError where e.isConflict && attempt < 4 {}
        }
    }

    func setSuspend(_ c: ControllerTestCluster, _ name: String, _ suspend: Bool) async throws {
        for attempt in 0..<5 {
            var job = try await c.client.get(Job.self, namespace: "default", name: name)
            job.spec?.suspend = suspend
            do {
                try await c.client.update(job)
                return
            } catch let e as APIError where e.isConflict && attempt < 4 {}
        }
    }

    func hasEvent(_ c: ControllerTestCluster, reason: String, message: String) async throws -> Bool {
        try await c.client.list(Event.self, namespace: "default").contains { $0.reason == reason && $0.message == message }
    }
}
