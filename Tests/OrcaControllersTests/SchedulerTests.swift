import Foundation
import OrcaClient
import OrcaControllers
import OrcaScheduler
import Testing

/// The scheduler as a controller on the in-process API: pods created, bound, or left pending
/// with Kubernetes' words.
@Suite struct SchedulerTests {
    /// Runs the scheduler (seeded, so ties break the same way each run) and `others`.
    func start(_ c: ControllerTestCluster, with others: [any Runnable] = []) async -> Task<Void, Never> {
        let scheduler = await Scheduler.controller(client: c.client, informers: c.informers, clock: c.clock,
                                                   random: SeededRandomNumberGenerator(seed: 1))
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [scheduler] + others)
        return Task { await manager.run() }
    }

    func pods(_ c: ControllerTestCluster) async throws -> [Pod] {
        try await c.client.list(Pod.self, namespace: "default")
    }

    /// The PodScheduled condition's message of each pending pod.
    func pendingMessages(_ c: ControllerTestCluster) async throws -> [String] {
        try await pods(c).filter { $0.spec?.nodeName == nil }.map {
            $0.status?.conditions?.first { $0.type == "PodScheduled" && $0.reason == "Unschedulable" }?.message ?? ""
        }
    }

    func node(_ c: ControllerTestCluster, _ name: String, zone: String) -> Node {
        var node = c.readyNode(name)
        node.metadata?.labels?["topology.kubernetes.io/zone"] = zone
        return node
    }

    @Test func podsAreBoundAndSpreadAndAnUnfitPodIsMarkedUnschedulable() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(c.readyNode("n1"))
        try await c.client.create(c.readyNode("n2"))
        let run = await start(c)
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
            try await pods(c).filter { $0.spec?.nodeName != nil }.count == 7
        })
        let all = try await pods(c)
        let perNode = Dictionary(grouping: all.compactMap(\.spec?.nodeName), by: { $0 }).mapValues(\.count)
        // Spread by room left: 7 pods on two nodes end 3 and 4, whatever the order.
        #expect(Set([perNode["n1"], perNode["n2"]]) == [3, 4])
        #expect(all.first { $0.metadata?.name == "affine" }?.spec?.nodeName == "n2")
        #expect(try await eventually {
            let b = try await c.client.get(Pod.self, namespace: "default", name: "big")
            let condition = b.status?.conditions?.first { $0.type == "PodScheduled" }
            return condition?.reason == "Unschedulable" && condition?.status == "False" && condition?.message
                == "0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
        })
        #expect(try await eventually {
            try await c.client.list(Event.self, namespace: "default").contains {
                $0.reason == "FailedScheduling" && $0.involvedObject?.name == "big" && $0.type == "Warning"
                    && $0.message?.hasPrefix("0/2 nodes are available: 2 Insufficient memory.") == true
            }
        })
    }

    @Test func replicasWithRequiredAntiAffinityTakeOneNodeEachAndTheNextWaits() async throws {
        let c = try await ControllerTestCluster()
        for name in ["n1", "n2", "n3"] { try await c.client.create(c.readyNode(name)) }
        let run = await start(c)
        defer { run.cancel() }
        for i in 0..<4 {
            var pod = c.pod("web-\(i)", labels: ["app": "web"])
            pod.spec?.affinity = Affinity(podAntiAffinity: PodAntiAffinity(requiredDuringSchedulingIgnoredDuringExecution: [
                PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "web"]), topologyKey: "kubernetes.io/hostname"),
            ]))
            try await c.client.create(pod)
        }
        let message = "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. "
            + "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
        #expect(try await eventually { try await pendingMessages(c) == [message] })
        let nodes = try await pods(c).compactMap(\.spec?.nodeName)
        #expect(nodes.count == 3 && Set(nodes) == ["n1", "n2", "n3"])
        // Room on a new node: the waiting replica goes there.
        try await c.client.create(c.readyNode("n4"))
        #expect(try await eventually { try await pods(c).compactMap(\.spec?.nodeName).sorted() == ["n1", "n2", "n3", "n4"] })
    }

    @Test func aTaintedNodeIsAvoidedUnlessTolerated() async throws {
        let c = try await ControllerTestCluster()
        var tainted = c.readyNode("n1")
        tainted.spec = NodeSpec(taints: [Taint(effect: "NoSchedule", key: "dedicated", value: "infra")])
        try await c.client.create(tainted)
        try await c.client.create(c.readyNode("n2"))
        try await c.client.create(c.readyNode("n3"))
        let run = await start(c)
        defer { run.cancel() }
        for i in 0..<5 { try await c.client.create(c.pod("p\(i)")) }
        var tolerating = c.pod("infra")
        tolerating.spec?.tolerations = [Toleration(effect: "NoSchedule", key: "dedicated", operator: "Equal", value: "infra")]
        tolerating.spec?.nodeSelector = ["kubernetes.io/hostname": "n1"]
        try await c.client.create(tolerating)
        var pinned = c.pod("pinned")
        pinned.spec?.nodeSelector = ["kubernetes.io/hostname": "n1"]
        try await c.client.create(pinned)
        #expect(try await eventually { try await pods(c).filter { $0.spec?.nodeName != nil }.count == 6 })
        let all = try await pods(c)
        #expect(all.filter { $0.spec?.nodeName == "n1" }.compactMap(\.metadata?.name) == ["infra"])
        #expect(try await eventually {
            try await pendingMessages(c) == ["0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, "
                + "2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."]
        })
    }

    @Test func aHardTopologySpreadConstraintKeepsZonesEven() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(node(c, "n1", zone: "a"))
        try await c.client.create(node(c, "n2", zone: "a"))
        try await c.client.create(node(c, "n3", zone: "b"))
        let run = await start(c)
        defer { run.cancel() }
        for i in 0..<4 { try await c.client.create(spreadPod(c, "s\(i)")) }
        #expect(try await eventually { try await pods(c).filter { $0.spec?.nodeName != nil }.count == 4 })
        let perNode = Dictionary(grouping: try await pods(c).compactMap(\.spec?.nodeName), by: { $0 }).mapValues(\.count)
        #expect(perNode["n3"] == 2 && (perNode["n1"] ?? 0) + (perNode["n2"] ?? 0) == 2)
    }

    @Test func aHardTopologySpreadConstraintWaitsForAnEmptyZone() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(node(c, "n1", zone: "a"))
        try await c.client.create(node(c, "n2", zone: "a"))
        var cordoned = node(c, "n3", zone: "b")
        cordoned.spec = NodeSpec(unschedulable: true)
        try await c.client.create(cordoned)
        let run = await start(c)
        defer { run.cancel() }
        for i in 0..<3 { try await c.client.create(spreadPod(c, "s\(i)")) }
        // Zone b counts (empty) though its only node is cordoned: zone a may hold one pod.
        let message = "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod topology spread constraints. "
            + "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        #expect(try await eventually { try await pendingMessages(c) == [message, message] })
        #expect(try await pods(c).filter { $0.spec?.nodeName != nil }.count == 1)
    }

    @Test func replicasOfOneReplicaSetSpreadOverEqualNodes() async throws {
        let c = try await ControllerTestCluster()
        for name in ["n1", "n2", "n3"] { try await c.client.create(c.readyNode(name)) }
        let replicaSets = await ReplicaSetController<ReplicaSet>.controller(client: c.client, informers: c.informers, clock: c.clock)
        let run = await start(c, with: [replicaSets])
        defer { run.cancel() }
        let labels = ["app": "web"]
        try await c.client.create(ReplicaSet(
            metadata: ObjectMeta(name: "web", namespace: "default"),
            spec: ReplicaSetSpec(replicas: 6, selector: LabelSelector(matchLabels: labels),
                                 template: PodTemplateSpec(metadata: ObjectMeta(labels: labels),
                                                           spec: PodSpec(containers: [Container(image: "busybox", name: "c")])))))
        #expect(try await eventually { try await pods(c).filter { $0.spec?.nodeName != nil }.count == 6 })
        let perNode = Dictionary(grouping: try await pods(c).compactMap(\.spec?.nodeName), by: { $0 }).mapValues(\.count)
        #expect(perNode == ["n1": 2, "n2": 2, "n3": 2])
    }

    /// A pod of the `app=spread` group with a zone constraint of maxSkew 1, DoNotSchedule.
    func spreadPod(_ c: ControllerTestCluster, _ name: String) -> Pod {
        var pod = c.pod(name, labels: ["app": "spread"])
        var constraint = TopologySpreadConstraint()
        constraint.labelSelector = LabelSelector(matchLabels: ["app": "spread"])
        constraint.maxSkew = 1
        constraint.topologyKey = "topology.kubernetes.io/zone"
        constraint.whenUnsatisfiable = "DoNotSchedule"
        pod.spec?.topologySpreadConstraints = [constraint]
        return pod
    }
}
