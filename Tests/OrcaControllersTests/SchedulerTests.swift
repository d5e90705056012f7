import Foundation
import OrcaClient
import OrcaControllers
import OrcaScheduler
import Testing

@Suite struct SchedulerTests {
    @Test func podsAreBoundAndSpreadAndAnUnfitPodIsMarkedUnschedulable() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(c.readyNode("n1"))
        try await c.client.create(c.readyNode("n2"))
        let scheduler = await Scheduler.controller(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [scheduler])
        let run = Task { await manager.run() }
        defer { run.cancel() }
        for i in 0..<6 { try await c.client.create(c.pod("p\(i)")) }
        var big = c.pod("big")
        big.spec?.containers?[0].resources = ResourceRequirements(requests: ["memory": "100Gi"])
        try await c.client.create(big)
        var affine = c.pod("affine")
        affine.spec?.affinity = Affinity(nodeAffinity: NodeAffinity(requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(
            nodeSelectorTerms: [NodeSelectorTerm(matchFields: [NodeSelectorRequirement(key: "metadata.name", operator: "In", values: ["n2"])])])))
        try await c.client.create(affine)
        #expect(try await eventually {
            try await c.client.list(Pod.self, namespace: "default").filter { $0.spec?.nodeName != nil }.count == 7
        })
        let pods = try await c.client.list(Pod.self, namespace: "default")
        let perNode = Dictionary(grouping: pods.compactMap(\.spec?.nodeName), by: { $0 }).mapValues(\.count)
        // Spread by fewest pods: 7 pods on two nodes end 3 and 4, whatever the order.
        #expect(Set([perNode["n1"], perNode["n2"]]) == [3, 4])
        #expect(pods.first { $0.metadata?.name == "affine" }?.spec?.nodeName == "n2")
        #expect(try await eventually {
            let b = try await c.client.get(Pod.self, namespace: "default", name: "big")
            return b.status?.conditions?.first { $0.type == "PodScheduled" }?.message == "0/2 nodes are available: 2 Insufficient memory."
        })
    }
}
