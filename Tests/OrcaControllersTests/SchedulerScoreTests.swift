import Foundation
import OrcaClient
@testable import OrcaScheduler
import Testing

/// The default profile's scores, each on `NodeInfo` values: raw score, then normalized.
@Suite struct SchedulerScoreTests {
    typealias F = SchedulerFixture

    /// Raw scores of `plugin` over `nodes`, normalized as the framework does.
    func normalized(_ plugin: some ScorePlugin, _ nodes: [NodeInfo]) -> [Int64] {
        var scores = nodes.map { plugin.score($0) }
        plugin.normalize(&scores, of: nodes)
        return scores
    }

    // MARK: TaintToleration

    @Test(arguments: [
        (tolerations: [Toleration](), expected: [Int64(100), 50, 0]),
        (tolerations: [Toleration(effect: "PreferNoSchedule", key: "a", operator: "Exists")], expected: [100, 100, 0]),
        (tolerations: [Toleration(key: "a", operator: "Exists")], expected: [100, 100, 0]),
        // A NoSchedule toleration does not excuse a PreferNoSchedule taint.
        (tolerations: [Toleration(effect: "NoSchedule", key: "a", operator: "Exists")], expected: [100, 50, 0]),
    ])
    func taintTolerationPrefersFewerUntoleratedPreferNoScheduleTaints(tolerations: [Toleration], expected: [Int64]) {
        let nodes = [
            F.info(F.node("n1", taints: [Taint(effect: "NoSchedule", key: "x")])),
            F.info(F.node("n2", taints: [Taint(effect: "PreferNoSchedule", key: "a")])),
            F.info(F.node("n3", taints: [Taint(effect: "PreferNoSchedule", key: "a"), Taint(effect: "PreferNoSchedule", key: "b")])),
        ]
        var pod = F.pod("p")
        pod.spec?.tolerations = tolerations
        let plugin = TaintToleration(pod: PodInfo(pod))
        #expect(plugin.weight == 3)
        #expect(normalized(plugin, nodes) == expected)
    }

    // MARK: NodeAffinity

    @Test func nodeAffinityScoresTheWeightsOfMatchedPreferences() {
        var pod = F.pod("p")
        pod.spec?.affinity = Affinity(nodeAffinity: NodeAffinity(preferredDuringSchedulingIgnoredDuringExecution: [
            PreferredSchedulingTerm(preference: NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "zone", operator: "In", values: ["a"])]),
                                    weight: 80),
            PreferredSchedulingTerm(preference: NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "disk", operator: "In", values: ["ssd"])]),
                                    weight: 20),
            // An empty preference matches no node.
            PreferredSchedulingTerm(preference: NodeSelectorTerm(), weight: 50),
        ]))
        let nodes = [
            F.info(F.node("n1", labels: ["zone": "a", "disk": "ssd"])),
            F.info(F.node("n2", labels: ["zone": "a"])),
            F.info(F.node("n3", labels: ["disk": "ssd"])),
            F.info(F.node("n4")),
        ]
        let plugin = NodeAffinityPlugin(pod: PodInfo(pod))
        #expect(nodes.map { plugin.score($0) } == [100, 80, 20, 0])
        #expect(normalized(plugin, nodes) == [100, 80, 20, 0])
        #expect(plugin.weight == 2)
        #expect(NodeAffinityPlugin(pod: PodInfo(F.pod("q"))).preferredTerms.isEmpty)
    }

    @Test func nodeAffinityScoresScaleToTheBestNode() {
        var pod = F.pod("p")
        pod.spec?.affinity = Affinity(nodeAffinity: NodeAffinity(preferredDuringSchedulingIgnoredDuringExecution: [
            PreferredSchedulingTerm(preference: NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "zone", operator: "In", values: ["a"])]),
                                    weight: 4),
        ]))
        let plugin = NodeAffinityPlugin(pod: PodInfo(pod))
        #expect(normalized(plugin, [F.info(F.node("n1", labels: ["zone": "a"])), F.info(F.node("n2"))]) == [100, 0])
    }

    // MARK: NodeResourcesFit (LeastAllocated) and BalancedAllocation

    static let leastAllocatedCases: [(existing: [Pod], incoming: Pod, score: Int64)] = [
        ([], F.pod("p", cpu: "1", memory: "2Gi"), 75),
        ([F.pod("e", cpu: "2", memory: "4Gi")], F.pod("p", cpu: "1", memory: "2Gi"), 25),
        // Nothing requested counts as 100m and 200Mi: (3900/4000, 7992/8192) → 97 and 97.
        ([], F.pod("p"), 97),
        // Over-committed cpu scores 0; memory (200Mi default + 2Gi of 8Gi) 72.
        ([F.pod("e", cpu: "4")], F.pod("p", cpu: "1", memory: "2Gi"), 36),
    ]

    @Test(arguments: leastAllocatedCases)
    func leastAllocatedPrefersRoomLeft(existing: [Pod], incoming: Pod, score: Int64) {
        let plugin = NodeResourcesFit(pod: PodInfo(incoming))
        #expect(plugin.score(F.info(F.node("n1"), existing)) == score)
        #expect(plugin.weight == 1)
    }

    static let balancedCases: [(existing: [Pod], incoming: Pod, score: Int64)] = [
        ([], F.pod("p", cpu: "1", memory: "1Gi"), 93),
        ([], F.pod("p", cpu: "2", memory: "4Gi"), 100),
        ([], F.pod("p"), 100),
        ([F.pod("e", cpu: "3", memory: "1Gi")], F.pod("p", cpu: "1", memory: "1Gi"), 62),
    ]

    @Test(arguments: balancedCases)
    func balancedAllocationPrefersEvenShares(existing: [Pod], incoming: Pod, score: Int64) {
        let plugin = NodeResourcesBalancedAllocation(pod: PodInfo(incoming))
        #expect(plugin.score(F.info(F.node("n1"), existing)) == score)
        #expect(plugin.weight == 1)
    }

    // MARK: PodTopologySpread

    /// n1 with two `app=web` pods, n2 with one, n3 with none; no zone labels.
    static let replicaNodes = [
        F.info(F.node("n1"), [F.pod("w1", labels: ["app": "web"]), F.pod("w2", labels: ["app": "web"])]),
        F.info(F.node("n2"), [F.pod("w3", labels: ["app": "web"]), F.pod("x", labels: ["app": "other"])]),
        F.info(F.node("n3")),
    ]

    @Test func systemDefaultSpreadingSpreadsReplicasOfOneOwner() throws {
        let pod = PodInfo(F.pod("p", labels: ["app": "web"]))
        let snapshot = Snapshot(nodes: Self.replicaNodes)
        let plugin = try #require(PodTopologySpreadScore(pod: pod, feasible: snapshot.nodes, snapshot: snapshot,
                                                         defaultSelector: LabelMatcher(requirements: [.init(key: "app", op: .equals, values: ["web"])])))
        #expect(plugin.constraints.map(\.topologyKey) == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"])
        #expect(plugin.constraints.map(\.maxSkew) == [3, 5])
        // Raw: count × log(3 nodes + 2) + maxSkew − 1 → 5.2, 3.6, 2; nodes without a zone skip the zone term.
        #expect(snapshot.nodes.map { plugin.score($0) } == [5, 4, 2])
        #expect(normalized(plugin, snapshot.nodes) == [40, 60, 100])
        #expect(plugin.weight == 2)
        // A pod of no service or workload is not spread by default.
        #expect(PodTopologySpreadScore(pod: pod, feasible: snapshot.nodes, snapshot: snapshot, defaultSelector: nil) == nil)
    }

    @Test func scheduleAnywayConstraintsScoreEmptierDomainsHigher() throws {
        let nodes = [
            F.info(F.node("n1", labels: ["zone": "a"]), [F.pod("w1", labels: ["app": "web"])]),
            F.info(F.node("n2", labels: ["zone": "a"]), [F.pod("w2", labels: ["app": "web"])]),
            F.info(F.node("n3", labels: ["zone": "b"])),
            F.info(F.node("n4")),
        ]
        let snapshot = Snapshot(nodes: nodes)
        let pod = PodInfo(F.spread(F.pod("p", labels: ["app": "web"]), key: "zone", whenUnsatisfiable: "ScheduleAnyway"))
        let plugin = try #require(PodTopologySpreadScore(pod: pod, feasible: nodes, snapshot: snapshot, defaultSelector: nil))
        // Zone a holds 2 (× log 4 ≈ 2.8 → 3), zone b none; n4 has no zone and is ignored (0).
        #expect(nodes.map { plugin.score($0) } == [3, 3, 0, 0])
        #expect(normalized(plugin, nodes) == [0, 0, 100, 0])
        // Hard constraints are the filter's, not the score's.
        let hard = PodInfo(F.spread(F.pod("p", labels: ["app": "web"]), key: "zone"))
        #expect(PodTopologySpreadScore(pod: hard, feasible: nodes, snapshot: snapshot, defaultSelector: nil) == nil)
    }

    @Test func defaultSpreadSelectorComesFromServicesAndTheOwningWorkload() throws {
        var pod = F.pod("p", labels: ["app": "web", "tier": "front", "pod-template-hash": "abc"])
        pod.metadata?.ownerReferences = [OwnerReference(apiVersion: "apps/v1", controller: true, kind: "ReplicaSet", name: "web-abc", uid: "rs")]
        let services = [
            Service(metadata: ObjectMeta(name: "front", namespace: "default"), spec: ServiceSpec(selector: ["tier": "front"])),
            Service(metadata: ObjectMeta(name: "other", namespace: "default"), spec: ServiceSpec(selector: ["tier": "back"])),
            Service(metadata: ObjectMeta(name: "elsewhere", namespace: "prod"), spec: ServiceSpec(selector: ["app": "web"])),
        ]
        let rs = ReplicaSet(metadata: ObjectMeta(name: "web-abc", namespace: "default"),
                            spec: ReplicaSetSpec(selector: LabelSelector(matchLabels: ["app": "web", "pod-template-hash": "abc"])))
        #expect(DefaultSpreadSelector.controller(of: pod)?.kind == .replicaSet)
        let selector = try #require(DefaultSpreadSelector.selector(for: pod, services: services, replicaSet: rs))
        #expect(Set(selector.requirements.map(\.key)) == ["tier", "app", "pod-template-hash"])
        #expect(selector.matches(pod.metadata?.labels ?? [:]))
        #expect(!selector.matches(["app": "web", "tier": "front", "pod-template-hash": "def"]))
        #expect(DefaultSpreadSelector.selector(for: F.pod("lonely", labels: ["app": "x"]), services: services) == nil)
        var job = F.pod("job")
        job.metadata?.ownerReferences = [OwnerReference(apiVersion: "batch/v1", controller: true, kind: "Job", name: "j", uid: "j")]
        #expect(DefaultSpreadSelector.controller(of: job) == nil)
    }

    // MARK: InterPodAffinity

    @Test func preferredPodAffinityAndAntiAffinityScoreDomains() throws {
        let nodes = [
            F.info(F.node("n1", labels: ["zone": "a"]), [F.pod("db", labels: ["app": "db"])]),
            F.info(F.node("n2", labels: ["zone": "a"]), [F.pod("web", labels: ["app": "web"])]),
            F.info(F.node("n3", labels: ["zone": "b"])),
        ]
        var pod = F.pod("p", labels: ["app": "api"])
        pod.spec?.affinity = Affinity(
            podAffinity: PodAffinity(preferredDuringSchedulingIgnoredDuringExecution: [
                WeightedPodAffinityTerm(podAffinityTerm: PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "db"]), topologyKey: "zone"),
                                        weight: 50),
            ]),
            podAntiAffinity: PodAntiAffinity(preferredDuringSchedulingIgnoredDuringExecution: [
                WeightedPodAffinityTerm(podAffinityTerm: PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "web"]),
                                                                         topologyKey: "kubernetes.io/hostname"), weight: 30),
            ]))
        let snapshot = Snapshot(nodes: nodes)
        let plugin = try #require(InterPodAffinityScore(pod: PodInfo(pod), feasible: nodes, snapshot: snapshot))
        #expect(nodes.map { plugin.score($0) } == [50, 20, 0])
        #expect(normalized(plugin, nodes) == [100, 40, 0])
        #expect(plugin.weight == 2)
        #expect(InterPodAffinityScore(pod: PodInfo(F.pod("plain")), feasible: nodes, snapshot: snapshot) == nil)
    }

    @Test func existingPodsAffinityTermsScoreTheIncomingPod() throws {
        var likes = F.pod("likes", labels: ["app": "cache"])
        likes.spec?.affinity = F.affinity(["app": "api"], key: "zone")
        var shuns = F.pod("shuns", labels: ["app": "batch"])
        shuns.spec?.affinity = Affinity(podAntiAffinity: PodAntiAffinity(preferredDuringSchedulingIgnoredDuringExecution: [
            WeightedPodAffinityTerm(podAffinityTerm: PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "api"]),
                                                                     topologyKey: "kubernetes.io/hostname"), weight: 10),
        ]))
        let nodes = [
            F.info(F.node("n1", labels: ["zone": "a"]), [shuns]),
            F.info(F.node("n2", labels: ["zone": "a"])),
            F.info(F.node("n3", labels: ["zone": "b"]), [likes]),
        ]
        let plugin = try #require(InterPodAffinityScore(pod: PodInfo(F.pod("p", labels: ["app": "api"])), feasible: nodes,
                                                        snapshot: Snapshot(nodes: nodes)))
        // Required affinity of an existing pod counts with weight 1; preferred anti-affinity subtracts.
        #expect(nodes.map { plugin.score($0) } == [-10, 0, 1])
        #expect(normalized(plugin, nodes) == [0, 90, 100])
    }
}
