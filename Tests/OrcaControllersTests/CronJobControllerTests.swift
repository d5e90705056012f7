import Foundation
import OrcaClient
import OrcaControllers
import Testing

/// The CronJob controller on an in-process registry and a manual clock (which starts at
/// 2023-11-14T22:13:20Z, so a `*/1` schedule is first due at 22:14:00).
@Suite struct CronJobControllerTests {
    @Test func createsTheJobOfTheScheduledMinute() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        let cronJob = try await c.client.create(Self.cronJob("tick"))
        // The controller looked and sleeps until the next minute.
        await c.clock.waitForSleepers(1)
        #expect(try await jobs(c).isEmpty)
        c.clock.advance(by: .seconds(45))
        #expect(try await eventually { try await jobs(c).count == 1 })
        let job = try #require(try await jobs(c).first)
        let scheduled = Date(timeIntervalSince1970: 1_700_000_040)
        #expect(job.metadata?.name == "tick-\(1_700_000_040 / 60)")
        #expect(job.metadata?.annotations?[CronJobController.scheduledTimestampAnnotation] == "2023-11-14T22:14:00Z")
        let owner = job.metadata?.ownerReferences?.first
        #expect(owner?.kind == "CronJob" && owner?.uid == cronJob.metadata?.uid && owner?.controller == true)
        #expect(job.spec?.template?.spec?.containers?.first?.image == "busybox")
        #expect(try await eventually {
            let status = try await c.client.get(CronJob.self, namespace: "default", name: "tick").status
            return status?.active?.map(\.name) == [job.metadata?.name]
                && KubernetesTime.date(status?.lastScheduleTime) == scheduled
        })
        #expect(try await eventually { try await hasEvent(c, reason: "SuccessfulCreate", message: "Created job \(job.metadata?.name ?? "")") })
    }

    @Test func forbidStartsNoSecondJobWhileOneIsActive() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        try await c.client.create(Self.cronJob("single", concurrencyPolicy: "Forbid"))
        await c.clock.waitForSleepers(1)
        c.clock.advance(by: .seconds(45))
        #expect(try await eventually {
            let status = try await c.client.get(CronJob.self, namespace: "default", name: "single").status
            return try await jobs(c).count == 1 && status?.active?.count == 1
        })
        // Minutes pass; the first job never finishes (no job controller runs here).
        #expect(try await eventually {
            c.clock.advance(by: .seconds(5))
            return try await hasEvent(c, reason: "JobAlreadyActive",
                                      message: "Not starting job because prior execution is running and concurrency policy is Forbid")
        })
        #expect(try await jobs(c).count == 1)
    }

    @Test func allowStartsAJobEveryMinuteAndRecordsCompletion() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        try await c.client.create(Self.cronJob("often"))
        await c.clock.waitForSleepers(1)
        c.clock.advance(by: .seconds(45))
        #expect(try await eventually { try await jobs(c).count == 1 })
        // The first job completes; the next minute brings a second.
        var first = try #require(try await jobs(c).first)
        var status = first.status ?? JobStatus()
        let completed = KubernetesTime.string(c.clock.now)
        status.conditions = [JobCondition(lastTransitionTime: completed, status: "True", type: "Complete")]
        status.completionTime = completed
        first.status = status
        try await c.client.update(first, subresource: "status")
        #expect(try await eventually {
            let cronStatus = try await c.client.get(CronJob.self, namespace: "default", name: "often").status
            return (cronStatus?.active ?? []).isEmpty && cronStatus?.lastSuccessfulTime == completed
        })
        #expect(try await eventually {
            c.clock.advance(by: .seconds(5))
            return try await jobs(c).count == 2
        })
    }

    // MARK: helpers

    static func cronJob(_ name: String, schedule: String = "*/1 * * * *", concurrencyPolicy: String = "Allow") -> CronJob {
        let template = PodTemplateSpec(spec: PodSpec(containers: [Container(image: "busybox", name: "c")], restartPolicy: "Never"))
        return CronJob(metadata: ObjectMeta(name: name, namespace: "default"),
                       spec: CronJobSpec(concurrencyPolicy: concurrencyPolicy, jobTemplate: JobTemplateSpec(spec: JobSpec(template: template)),
                                         schedule: schedule))
    }

    func start(_ c: ControllerTestCluster) async -> Task<Void, Never> {
        let cronJobs = await CronJobController.controller(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [cronJobs])
        return Task { await manager.run() }
    }

    func jobs(_ c: ControllerTestCluster) async throws -> [Job] {
        try await c.client.list(Job.self, namespace: "default")
    }

    func hasEvent(_ c: ControllerTestCluster, reason: String, message: String) async throws -> Bool {
        try await c.client.list(Event.self, namespace: "default").contains { $0.reason == reason && $0.message == message }
    }
}
