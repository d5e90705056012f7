import Foundation
import OrcaClient
import OrcaControllers
import OrcaScheduler
import Testing

/// Preemption by the scheduler: a pod of higher priority that fits nowhere evicts the fewest
/// lower-priority pods that make room, is nominated to their node, and is bound there once
/// they are gone; `preemptionPolicy: Never` evicts nothing.
@Suite struct SchedulerPreemptionTests {
    let scheduling = SchedulerTests()

    func pod(_ c: ControllerTestCluster, _ name: String, cpu: String, priority: Int32) -> Pod {
        var pod = c.pod(name)
        pod.spec?.containers?[0].resources = ResourceRequirements(requests: ["cpu": Quantity(stringLiteral: cpu)])
        pod.spec?.priority = priority
        return pod
    }

    func get(_ c: ControllerTestCluster, _ name: String) async throws -> Pod {
        try await c.client.get(Pod.self, namespace: "default", name: name)
    }

    /// A 4-cpu node full with low-a (2 cpu, priority 0), low-b (1 cpu, 0) and mid (1 cpu, 5).
    func fullNode(_ c: ControllerTestCluster) async throws {
        try await c.client.create(c.readyNode("n1"))
        try await c.client.create(pod(c, "low-a", cpu: "2", priority: 0))
        try await c.client.create(pod(c, "low-b", cpu: "1", priority: 0))
        try await c.client.create(pod(c, "mid", cpu: "1", priority: 5))
        #expect(try await eventually { try await scheduling.pods(c).allSatisfy { $0.spec?.nodeName == "n1" } })
    }

    @Test func aHigherPriorityPodEvictsTheFewestLowerPodsAndTakesTheirRoom() async throws {
        let c = try await ControllerTestCluster()
        let run = await scheduling.start(c)
        defer { run.cancel() }
        try await fullNode(c)
        try await c.client.create(pod(c, "high", cpu: "2", priority: 100))

        // Only low-a goes: with mid (more important) or low-b back, 2 cpu are still free.
        #expect(try await eventually { try await get(c, "low-a").metadata?.deletionTimestamp != nil })
        let victim = try await get(c, "low-a")
        let disruption = victim.status?.conditions?.first { $0.type == "DisruptionTarget" }
        #expect(disruption?.reason == "PreemptionByScheduler" && disruption?.status == "True")
        #expect(try await get(c, "low-b").metadata?.deletionTimestamp == nil)
        #expect(try await get(c, "mid").metadata?.deletionTimestamp == nil)
        #expect(try await eventually { try await get(c, "high").status?.nominatedNodeName == "n1" })
        let high = try await get(c, "high")
        #expect(high.spec?.nodeName == nil, "the victim still holds its room while it terminates")
        #expect(try await eventually {
            try await c.client.list(Event.self, namespace: "default").contains {
                $0.reason == "Preempted" && $0.involvedObject?.name == "low-a"
                    && $0.message == "Preempted by pod \(high.metadata?.uid ?? "") on node n1"
            }
        })

        // Its node's agent finishes the deletion: the room is free and the pod is bound there.
        var now = DeletionOptions()
        now.gracePeriodSeconds = 0
        try await c.client.delete(Pod.self, namespace: "default", name: "low-a", options: now)
        #expect(try await eventually { try await get(c, "high").spec?.nodeName == "n1" })
        #expect(try await scheduling.pods(c).count == 3)
    }

    @Test func aPodThatNeverPreemptsWaits() async throws {
        let c = try await ControllerTestCluster()
        let run = await scheduling.start(c)
        defer { run.cancel() }
        try await fullNode(c)
        var polite = pod(c, "polite", cpu: "2", priority: 100)
        polite.spec?.preemptionPolicy = "Never"
        try await c.client.create(polite)
        #expect(try await eventually {
            try await scheduling.pendingMessages(c) == ["0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."]
        })
        #expect(try await scheduling.pods(c).allSatisfy { $0.metadata?.deletionTimestamp == nil })
    }
}
