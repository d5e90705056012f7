import Foundation
import OrcaClient
@testable import OrcaScheduler
import Testing

/// The default profile's filters, each on `NodeInfo` values (no API, no informers).
@Suite struct SchedulerFilterTests {
    typealias F = SchedulerFixture

    // MARK: NodeUnschedulable, NodeName

    @Test(arguments: [
        (unschedulable: true, tolerates: false, fits: false),
        (unschedulable: true, tolerates: true, fits: true),
        (unschedulable: false, tolerates: false, fits: true),
    ])
    func nodeUnschedulable(unschedulable: Bool, tolerates: Bool, fits: Bool) {
        var pod = F.pod("p")
        if tolerates { pod.spec?.tolerations = [Toleration(effect: "NoSchedule", key: "node.kubernetes.io/unschedulable", operator: "Exists")] }
        let status = NodeUnschedulable(pod: PodInfo(pod)).filter(F.info(F.node("n1", unschedulable: unschedulable)))
        #expect(status == (fits ? nil : FilterStatus(.unschedulableAndUnresolvable, "node(s) were unschedulable", plugin: "NodeUnschedulable")))
    }

    @Test func nodeNameMatchesOnlyTheNamedNode() {
        var pod = F.pod("p")
        pod.spec?.nodeName = "n1"
        #expect(NodeName(pod: PodInfo(pod)).filter(F.info(F.node("n1"))) == nil)
        #expect(NodeName(pod: PodInfo(pod)).filter(F.info(F.node("n2")))?.reasons == ["node(s) didn't match the requested node name"])
        #expect(NodeName(pod: PodInfo(F.pod("free"))).filter(F.info(F.node("n2"))) == nil)
    }

    // MARK: TaintToleration

    static let taintCases: [(taints: [Taint], ready: String?, tolerations: [Toleration], reason: String?)] = [
        ([Taint(effect: "NoSchedule", key: "dedicated", value: "infra")], "True", [], "node(s) had untolerated taint {dedicated: infra}"),
        ([Taint(effect: "NoExecute", key: "dedicated", value: "infra")], "True", [], "node(s) had untolerated taint {dedicated: infra}"),
        ([Taint(effect: "NoSchedule", key: "dedicated", value: "infra")], "True",
         [Toleration(effect: "NoSchedule", key: "dedicated", operator: "Equal", value: "infra")], nil),
        ([Taint(effect: "NoSchedule", key: "dedicated", value: "infra")], "True",
         [Toleration(effect: "NoSchedule", key: "dedicated", operator: "Equal", value: "db")], "node(s) had untolerated taint {dedicated: infra}"),
        ([Taint(effect: "NoSchedule", key: "dedicated", value: "infra")], "True", [Toleration(operator: "Exists")], nil),
        ([Taint(effect: "PreferNoSchedule", key: "dedicated", value: "infra")], "True", [], nil),
        ([], "False", [], "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"),
        ([], nil, [], "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"),
        ([], "Unknown", [], "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"),
        ([], "Unknown", [Toleration(effect: "NoSchedule", key: "node.kubernetes.io/unreachable", operator: "Exists")], nil),
    ]

    @Test(arguments: taintCases)
    func taintToleration(taints: [Taint], ready: String?, tolerations: [Toleration], reason: String?) {
        var pod = F.pod("p")
        pod.spec?.tolerations = tolerations
        let status = TaintToleration(pod: PodInfo(pod)).filter(F.info(F.node("n1", taints: taints, ready: ready)))
        #expect(status?.reasons == reason.map { [$0] })
        #expect(status.map { $0.code == .unschedulableAndUnresolvable } ?? true)
    }

    // MARK: NodeAffinity

    @Test func nodeAffinityChecksNodeSelectorAndRequiredTerms() {
        var bySelector = F.pod("p")
        bySelector.spec?.nodeSelector = ["disk": "ssd"]
        let ssd = F.info(F.node("n1", labels: ["disk": "ssd", "zone": "a"]))
        let hdd = F.info(F.node("n2", labels: ["disk": "hdd", "zone": "b"]))
        #expect(NodeAffinityPlugin(pod: PodInfo(bySelector)).filter(ssd) == nil)
        #expect(NodeAffinityPlugin(pod: PodInfo(bySelector)).filter(hdd)?.reasons == ["node(s) didn't match Pod's node affinity/selector"])
        var byTerm = F.pod("q")
        byTerm.spec?.affinity = Affinity(nodeAffinity: NodeAffinity(required: [
            NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "zone", operator: "In", values: ["b"])]),
        ]))
        #expect(NodeAffinityPlugin(pod: PodInfo(byTerm)).filter(ssd)?.code == .unschedulableAndUnresolvable)
        #expect(NodeAffinityPlugin(pod: PodInfo(byTerm)).filter(hdd) == nil)
    }

    @Test(arguments: [
        (terms: [["n1", "n2"], ["n3"]], names: Set(["n1", "n2", "n3"]) as Set<String>?),
        (terms: [["n1"], []], names: nil),
        (terms: [], names: nil),
    ])
    func nodeAffinityPreFilterPinsNodesByName(terms: [[String]], names: Set<String>?) {
        var pod = F.pod("p")
        if !terms.isEmpty {
            pod.spec?.affinity = Affinity(nodeAffinity: NodeAffinity(required: terms.map { values in
                values.isEmpty ? NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "zone", operator: "Exists")])
                    : NodeSelectorTerm(matchFields: [NodeSelectorRequirement(key: "metadata.name", operator: "In", values: values)])
            }))
        }
        #expect(NodeAffinityPlugin(pod: PodInfo(pod)).requiredNodeNames == names)
    }

    @Test func contradictoryNodeNamesRejectThePodInPreFilter() {
        var pod = F.pod("p")
        pod.spec?.affinity = Affinity(nodeAffinity: NodeAffinity(required: [NodeSelectorTerm(matchFields: [
            NodeSelectorRequirement(key: "metadata.name", operator: "In", values: ["n1"]),
            NodeSelectorRequirement(key: "metadata.name", operator: "In", values: ["n2"]),
        ])]))
        let cycle = SchedulingCycle(pod: PodInfo(pod), snapshot: Snapshot(nodes: [F.info(F.node("n1"))]), inputs: .init())
        var random = SeededRandomNumberGenerator(seed: 1)
        #expect(cycle.run(startIndex: 0, random: &random).outcome.failureMessage
            == "0/1 nodes are available: pod affinity terms conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
    }

    // MARK: NodePorts

    static let portCases: [(used: ContainerPort, wanted: ContainerPort, conflict: Bool)] = [
        (F.port(8080), F.port(8080), true),
        (F.port(8080), F.port(8080, proto: "UDP"), false),
        (F.port(8080), F.port(8081), false),
        (F.port(8080, ip: "127.0.0.1"), F.port(8080, ip: "10.0.0.1"), false),
        (F.port(8080, ip: "127.0.0.1"), F.port(8080), true),
        (F.port(8080), F.port(8080, ip: "127.0.0.1"), true),
        (F.port(8080, ip: "127.0.0.1"), F.port(8080, ip: "127.0.0.1"), true),
    ]

    @Test(arguments: portCases)
    func nodePorts(used: ContainerPort, wanted: ContainerPort, conflict: Bool) {
        var existing = F.pod("existing")
        existing.spec?.containers?[0].ports = [used]
        var incoming = F.pod("incoming")
        incoming.spec?.containers?[0].ports = [wanted]
        let status = NodePorts(pod: PodInfo(incoming)).filter(F.info(F.node("n1"), [existing]))
        #expect(status == (conflict ? FilterStatus(.unschedulable, "node(s) didn't have free ports for the requested pod ports", plugin: "NodePorts") : nil))
    }

    @Test func aPodWithoutHostPortsSkipsNodePorts() {
        var pod = F.pod("p")
        pod.spec?.containers?[0].ports = [ContainerPort(containerPort: 80)]
        #expect(NodePorts(pod: PodInfo(pod)).isSkipped)
    }

    // MARK: NodeResourcesFit

    static let fitCases: [(name: String, incoming: Pod, reasons: [String])] = [
        ("fits", F.pod("p", cpu: "500m", memory: "1Gi"), []),
        ("cpu", F.pod("p", cpu: "1"), ["Insufficient cpu"]),
        ("memory", F.pod("p", memory: "3Gi"), ["Insufficient memory"]),
        ("both", F.pod("p", cpu: "2", memory: "3Gi"), ["Insufficient cpu", "Insufficient memory"]),
        ("ephemeral storage", F.with(F.pod("p"), requests: ["ephemeral-storage": "20Gi"]), ["Insufficient ephemeral-storage"]),
        ("extended resource", F.with(F.pod("p"), requests: ["example.com/gpu": "2"]), ["Insufficient example.com/gpu"]),
        ("extended resource absent from the node", F.with(F.pod("p"), requests: ["example.com/fpga": "1"]), ["Insufficient example.com/fpga"]),
        ("hugepages", F.with(F.pod("p"), requests: ["hugepages-2Mi": "4Mi"]), ["Insufficient hugepages-2Mi"]),
        ("init container as the max", F.withInit(F.pod("p", cpu: "100m"), cpu: "1"), ["Insufficient cpu"]),
        ("small init container", F.withInit(F.pod("p", cpu: "100m"), cpu: "500m"), []),
        ("overhead", F.withOverhead(F.pod("p", cpu: "500m"), cpu: "400m"), ["Insufficient cpu"]),
        ("best effort", F.pod("p"), []),
    ]

    /// A node of 2 cpu, 4Gi memory, 10Gi ephemeral storage, one `example.com/gpu` and 4Mi of
    /// 2Mi hugepages, holding a pod that requests 1200m cpu, 2Gi memory and 1 hugepage.
    static func busyNode(pods: Int64 = 110) -> NodeInfo {
        let node = F.node("n1", cpu: "2", memory: "4Gi", pods: pods,
                          extra: ["ephemeral-storage": "10Gi", "example.com/gpu": "1", "hugepages-2Mi": "4Mi"])
        return F.info(node, [F.with(F.pod("existing", cpu: "1200m", memory: "2Gi"), requests: ["hugepages-2Mi": "2Mi"])])
    }

    @Test(arguments: fitCases)
    func nodeResourcesFit(name: String, incoming: Pod, reasons: [String]) {
        let status = NodeResourcesFit(pod: PodInfo(incoming)).filter(Self.busyNode())
        #expect(status == (reasons.isEmpty ? nil : FilterStatus(.unschedulable, reasons, plugin: "NodeResourcesFit")), "\(name)")
    }

    @Test func aFullNodeHasTooManyPodsWhateverThePodAsks() {
        #expect(NodeResourcesFit(pod: PodInfo(F.pod("p"))).filter(Self.busyNode(pods: 1))?.reasons == ["Too many pods"])
        #expect(NodeResourcesFit(pod: PodInfo(F.pod("p", cpu: "1"))).filter(Self.busyNode(pods: 1))?.reasons
            == ["Too many pods", "Insufficient cpu"])
    }

    @Test func podRequestsCountSidecarsInitContainersAndOverhead() {
        var pod = F.pod("p", cpu: "1")
        let sidecar = { () -> Container in
            var c = Container(image: "busybox", name: "sidecar")
            c.restartPolicy = "Always"
            c.resources = ResourceRequirements(requests: ["cpu": "500m"])
            return c
        }()
        var setup = Container(image: "busybox", name: "setup")
        setup.resources = ResourceRequirements(requests: ["cpu": "1800m", "memory": "1Gi"])
        pod.spec?.initContainers = [sidecar, setup]
        // Running: 1 + 0.5 (sidecar) = 1.5; while setup runs: 1.8 + 0.5 = 2.3.
        #expect(Resource.requests(of: pod).milliCPU == 2300)
        #expect(Resource.requests(of: pod).memory == 1 << 30)
        pod.spec?.overhead = ["cpu": "100m"]
        #expect(Resource.requests(of: pod).milliCPU == 2400)
        // Scores count 100m/200Mi for containers that set nothing.
        #expect(Resource.requests(of: F.pod("empty"), defaultingCPUAndMemory: true) == Resource(milliCPU: 100, memory: 200 << 20))
    }

    @Test func terminatingAndAssumedPodsStillHoldTheirResources() {
        var node = Self.busyNode()
        #expect(node.requested.milliCPU == 1200)
        node.add(PodInfo(F.pod("assumed", cpu: "800m")))
        #expect(NodeResourcesFit(pod: PodInfo(F.pod("p", cpu: "1m"))).filter(node)?.reasons == ["Insufficient cpu"])
        node.remove("default/assumed")
        #expect(node.requested.milliCPU == 1200 && node.pods.count == 1)
    }

    // MARK: PodTopologySpread

    /// Nodes n1 (zone a), n2 (zone b), n3 (zone c) with 2, 1 and 0 `app=web` pods.
    static func zonedSnapshot(extraNode: Node? = nil) -> Snapshot {
        var nodes = [
            F.info(F.node("n1", labels: ["zone": "a"]), [F.pod("w1", labels: ["app": "web"]), F.pod("w2", labels: ["app": "web"])]),
            F.info(F.node("n2", labels: ["zone": "b"]), [F.pod("w3", labels: ["app": "web"]), F.pod("other", labels: ["app": "db"])]),
            F.info(F.node("n3", labels: ["zone": "c"])),
        ]
        if let extraNode { nodes.append(F.info(extraNode)) }
        return Snapshot(nodes: nodes)
    }

    @Test func topologySpreadKeepsSkewWithinMaxSkew() {
        let pod = F.spread(F.pod("p", labels: ["app": "web"]), key: "zone")
        let snapshot = Self.zonedSnapshot(extraNode: F.node("n4"))
        let plugin = PodTopologySpread(pod: PodInfo(pod), snapshot: snapshot)
        let reason = "node(s) didn't match pod topology spread constraints"
        #expect(plugin.filter(snapshot.nodes[0]) == FilterStatus(.unschedulable, reason, plugin: "PodTopologySpread"))
        #expect(plugin.filter(snapshot.nodes[1])?.reasons == [reason])
        #expect(plugin.filter(snapshot.nodes[2]) == nil)
        #expect(plugin.filter(snapshot.nodes[3]) == FilterStatus(.unschedulableAndUnresolvable, reason + " (missing required label)",
                                                                 plugin: "PodTopologySpread"))
        // A pod the selector does not count does not add to its domain: zone b (1) is within 1 of zone c (0).
        let other = F.spread(F.pod("q", labels: ["app": "api"]), key: "zone", selector: ["app": "web"])
        #expect(PodTopologySpread(pod: PodInfo(other), snapshot: snapshot).filter(snapshot.nodes[0]) != nil)
        #expect(PodTopologySpread(pod: PodInfo(other), snapshot: snapshot).filter(snapshot.nodes[1]) == nil)
    }

    @Test(arguments: [(minDomains: Int32?(nil), fits: true), (minDomains: 3, fits: true), (minDomains: 4, fits: false)])
    func topologySpreadMinDomains(minDomains: Int32?, fits: Bool) {
        // One web pod per zone: the global minimum is 1, or 0 while fewer than minDomains zones exist.
        let snapshot = Snapshot(nodes: ["a", "b", "c"].map {
            F.info(F.node("n-\($0)", labels: ["zone": $0]), [F.pod("w-\($0)", labels: ["app": "web"])])
        })
        let pod = F.spread(F.pod("p", labels: ["app": "web"]), key: "zone", minDomains: minDomains)
        #expect((PodTopologySpread(pod: PodInfo(pod), snapshot: snapshot).filter(snapshot.nodes[0]) == nil) == fits)
    }

    @Test(arguments: [(policy: String?(nil), fits: true), (policy: "Honor", fits: true), (policy: "Ignore", fits: false)])
    func topologySpreadNodeAffinityPolicy(policy: String?, fits: Bool) {
        // n3 (zone c, empty) is not an SSD node: counted only when the policy ignores node affinity.
        let snapshot = Snapshot(nodes: [
            F.info(F.node("n1", labels: ["zone": "a", "disk": "ssd"]), [F.pod("w1", labels: ["app": "web"])]),
            F.info(F.node("n2", labels: ["zone": "b", "disk": "ssd"]), [F.pod("w2", labels: ["app": "web"])]),
            F.info(F.node("n3", labels: ["zone": "c"])),
        ])
        var pod = F.spread(F.pod("p", labels: ["app": "web"]), key: "zone", nodeAffinityPolicy: policy)
        pod.spec?.nodeSelector = ["disk": "ssd"]
        #expect((PodTopologySpread(pod: PodInfo(pod), snapshot: snapshot).filter(snapshot.nodes[0]) == nil) == fits)
    }

    @Test(arguments: [(policy: String?(nil), fits: false), (policy: "Ignore", fits: false), (policy: "Honor", fits: true)])
    func topologySpreadNodeTaintsPolicy(policy: String?, fits: Bool) {
        // n3 (zone c, empty) carries a taint the pod does not tolerate.
        let snapshot = Snapshot(nodes: [
            F.info(F.node("n1", labels: ["zone": "a"]), [F.pod("w1", labels: ["app": "web"])]),
            F.info(F.node("n2", labels: ["zone": "b"]), [F.pod("w2", labels: ["app": "web"])]),
            F.info(F.node("n3", labels: ["zone": "c"], taints: [Taint(effect: "NoSchedule", key: "dedicated", value: "infra")])),
        ])
        let pod = F.spread(F.pod("p", labels: ["app": "web"]), key: "zone", nodeTaintsPolicy: policy)
        #expect((PodTopologySpread(pod: PodInfo(pod), snapshot: snapshot).filter(snapshot.nodes[0]) == nil) == fits)
    }

    @Test func topologySpreadMatchLabelKeysCountOnlyTheSameRevision() {
        let snapshot = Snapshot(nodes: [
            F.info(F.node("n1", labels: ["zone": "a"]), [F.pod("old1", labels: ["app": "web", "pod-template-hash": "v1"]),
                                                          F.pod("old2", labels: ["app": "web", "pod-template-hash": "v1"])]),
            F.info(F.node("n2", labels: ["zone": "b"])),
        ])
        let labels = ["app": "web", "pod-template-hash": "v2"]
        let plain = F.spread(F.pod("p", labels: labels), key: "zone", selector: ["app": "web"])
        let keyed = F.spread(F.pod("p", labels: labels), key: "zone", selector: ["app": "web"], matchLabelKeys: ["pod-template-hash"])
        #expect(PodTopologySpread(pod: PodInfo(plain), snapshot: snapshot).filter(snapshot.nodes[0]) != nil)
        #expect(PodTopologySpread(pod: PodInfo(keyed), snapshot: snapshot).filter(snapshot.nodes[0]) == nil)
    }

    @Test func topologySpreadSkipsPodsWithoutHardConstraintsAndTerminatingPods() {
        var soft = F.spread(F.pod("p", labels: ["app": "web"]), key: "zone")
        soft.spec?.topologySpreadConstraints?[0].whenUnsatisfiable = "ScheduleAnyway"
        #expect(PodTopologySpread(pod: PodInfo(soft), snapshot: Self.zonedSnapshot()).isSkipped)
        var leaving = F.pod("w1", labels: ["app": "web"])
        leaving.metadata?.deletionTimestamp = "2025-01-01T00:00:00Z"
        let snapshot = Snapshot(nodes: [F.info(F.node("n1", labels: ["zone": "a"]), [leaving]), F.info(F.node("n2", labels: ["zone": "b"]))])
        let pod = F.spread(F.pod("p", labels: ["app": "web"]), key: "zone")
        #expect(PodTopologySpread(pod: PodInfo(pod), snapshot: snapshot).filter(snapshot.nodes[0]) == nil)
    }

    // MARK: InterPodAffinity

    /// n1 and n2 in zone a, n3 in zone b; `app=web` on n1, `app=db` on n2.
    static func affinitySnapshot(namespaces: [String: [String: String]] = [:], extra: [Pod] = []) -> Snapshot {
        Snapshot(nodes: [
            F.info(F.node("n1", labels: ["zone": "a"]), [F.pod("web", labels: ["app": "web"])] + extra),
            F.info(F.node("n2", labels: ["zone": "a"]), [F.pod("db", labels: ["app": "db"])]),
            F.info(F.node("n3", labels: ["zone": "b"])),
        ], namespaceLabels: namespaces)
    }

    @Test func requiredAntiAffinityKeepsThePodAwayFromMatchingPods() {
        var pod = F.pod("p", labels: ["app": "web"])
        pod.spec?.affinity = F.antiAffinity(["app": "web"], key: "kubernetes.io/hostname")
        let snapshot = Self.affinitySnapshot()
        let plugin = InterPodAffinity(pod: PodInfo(pod), snapshot: snapshot)
        #expect(plugin.filter(snapshot.nodes[0]) == FilterStatus(.unschedulable, "node(s) didn't match pod anti-affinity rules", plugin: "InterPodAffinity"))
        #expect(plugin.filter(snapshot.nodes[1]) == nil)
        // By zone, n2 shares n1's domain.
        pod.spec?.affinity = F.antiAffinity(["app": "web"], key: "zone")
        let byZone = InterPodAffinity(pod: PodInfo(pod), snapshot: snapshot)
        #expect(byZone.filter(snapshot.nodes[1]) != nil)
        #expect(byZone.filter(snapshot.nodes[2]) == nil)
    }

    @Test func requiredAffinityNeedsAMatchingPodInTheDomain() {
        var pod = F.pod("p", labels: ["app": "api"])
        pod.spec?.affinity = F.affinity(["app": "db"], key: "zone")
        let snapshot = Self.affinitySnapshot()
        let plugin = InterPodAffinity(pod: PodInfo(pod), snapshot: snapshot)
        #expect(plugin.filter(snapshot.nodes[0]) == nil)
        #expect(plugin.filter(snapshot.nodes[1]) == nil)
        #expect(plugin.filter(snapshot.nodes[2]) == FilterStatus(.unschedulableAndUnresolvable, "node(s) didn't match pod affinity rules",
                                                                 plugin: "InterPodAffinity"))
    }

    @Test func theFirstPodOfAGroupWithAffinityToItselfMayGoAnywhere() {
        var pod = F.pod("p", labels: ["app": "cache"])
        pod.spec?.affinity = F.affinity(["app": "cache"], key: "zone")
        let snapshot = Snapshot(nodes: [F.info(F.node("n1", labels: ["zone": "a"])), F.info(F.node("n2"))])
        let plugin = InterPodAffinity(pod: PodInfo(pod), snapshot: snapshot)
        #expect(plugin.filter(snapshot.nodes[0]) == nil)
        // Still only where the topology key exists.
        #expect(plugin.filter(snapshot.nodes[1])?.reasons == ["node(s) didn't match pod affinity rules"])
        // A pod that does not match its own terms gets no exception.
        var other = F.pod("q", labels: ["app": "api"])
        other.spec?.affinity = F.affinity(["app": "cache"], key: "zone")
        #expect(InterPodAffinity(pod: PodInfo(other), snapshot: snapshot).filter(snapshot.nodes[0]) != nil)
    }

    @Test func existingPodsRequiredAntiAffinityRefusesTheIncomingPod() {
        var guarded = F.pod("guard", labels: ["app": "guard"])
        guarded.spec?.affinity = F.antiAffinity(["app": "web"], key: "zone")
        let snapshot = Self.affinitySnapshot(extra: [guarded])
        let plugin = InterPodAffinity(pod: PodInfo(F.pod("p", labels: ["app": "web"])), snapshot: snapshot)
        let status = FilterStatus(.unschedulable, "node(s) didn't satisfy existing pods anti-affinity rules", plugin: "InterPodAffinity")
        #expect(plugin.filter(snapshot.nodes[0]) == status)
        #expect(plugin.filter(snapshot.nodes[1]) == status)
        #expect(plugin.filter(snapshot.nodes[2]) == nil)
        // A pod no existing term selects, without terms of its own, has nothing to check.
        #expect(InterPodAffinity(pod: PodInfo(F.pod("q", labels: ["app": "db"])), snapshot: snapshot).isSkipped)
    }

    @Test func affinityTermsSelectNamespacesByNameOrSelector() {
        let prodWeb = F.pod("prod-web", namespace: "prod", labels: ["app": "web"])
        let snapshot = Snapshot(nodes: [
            F.info(F.node("n1"), [prodWeb]),
            F.info(F.node("n2")),
        ], namespaceLabels: ["prod": ["team": "x"], "default": [:]])
        func antiAffinity(namespaces: [String]?, namespaceSelector: LabelSelector?) -> Pod {
            var pod = F.pod("p", labels: ["app": "web"])
            pod.spec?.affinity = Affinity(podAntiAffinity: PodAntiAffinity(requiredDuringSchedulingIgnoredDuringExecution: [
                PodAffinityTerm(labelSelector: LabelSelector(matchLabels: ["app": "web"]), namespaceSelector: namespaceSelector,
                                namespaces: namespaces, topologyKey: "kubernetes.io/hostname"),
            ]))
            return pod
        }
        // The pod's own namespace by default: the prod pod does not count.
        #expect(InterPodAffinity(pod: PodInfo(antiAffinity(namespaces: nil, namespaceSelector: nil)), snapshot: snapshot)
            .filter(snapshot.nodes[0]) == nil)
        #expect(InterPodAffinity(pod: PodInfo(antiAffinity(namespaces: ["prod"], namespaceSelector: nil)), snapshot: snapshot)
            .filter(snapshot.nodes[0]) != nil)
        #expect(InterPodAffinity(pod: PodInfo(antiAffinity(namespaces: nil, namespaceSelector: LabelSelector(matchLabels: ["team": "x"]))),
                                 snapshot: snapshot).filter(snapshot.nodes[0]) != nil)
        #expect(InterPodAffinity(pod: PodInfo(antiAffinity(namespaces: nil, namespaceSelector: LabelSelector(matchLabels: ["team": "y"]))),
                                 snapshot: snapshot).filter(snapshot.nodes[0]) == nil)
        // An empty namespace selector selects every namespace.
        #expect(InterPodAffinity(pod: PodInfo(antiAffinity(namespaces: nil, namespaceSelector: LabelSelector())), snapshot: snapshot)
            .filter(snapshot.nodes[0]) != nil)
    }

    // MARK: VolumeBinding

    @Test func boundVolumesPinThePodToTheirNodes() {
        let volume = PersistentVolume(metadata: ObjectMeta(name: "pv"), spec: PersistentVolumeSpec(
            nodeAffinity: VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: [
                NodeSelectorRequirement(key: "kubernetes.io/hostname", operator: "In", values: ["n1"]),
            ])]))))
        let plugin = VolumeBinding(boundVolumes: [volume])
        #expect(plugin.filter(F.info(F.node("n1"))) == nil)
        #expect(plugin.filter(F.info(F.node("n2"))) == FilterStatus(.unschedulableAndUnresolvable, "node(s) had volume node affinity conflict",
                                                                   plugin: "VolumeBinding"))
    }
}

/// Nodes and pods for the scheduler's plugin tests.
enum SchedulerFixture {
    /// A node labelled with its hostname (plus `labels`), with the given allocatable and a
    /// Ready condition of status `ready` (none when nil).
    static func node(_ name: String, cpu: String = "4", memory: String = "8Gi", pods: Int64 = 110, labels: [String: String] = [:],
                     taints: [Taint] = [], ready: String? = "True", unschedulable: Bool? = nil,
                     extra: [String: Quantity] = [:]) -> Node {
        var allocatable: [String: Quantity] = ["cpu": Quantity(cpu), "memory": Quantity(memory), "pods": Quantity(value: pods)]
        allocatable.merge(extra) { _, new in new }
        var node = Node(metadata: ObjectMeta(labels: ["kubernetes.io/hostname": name].merging(labels) { _, new in new }, name: name))
        node.spec = NodeSpec(taints: taints.isEmpty ? nil : taints, unschedulable: unschedulable)
        node.status = NodeStatus(allocatable: allocatable, conditions: ready.map { [NodeCondition(status: $0, type: "Ready")] })
        return node
    }

    /// A pod with one container requesting `cpu` and `memory` (nothing when nil).
    static func pod(_ name: String, namespace: String = "default", labels: [String: String] = [:],
                    cpu: String? = nil, memory: String? = nil) -> Pod {
        var requests: [String: Quantity] = [:]
        if let cpu { requests["cpu"] = Quantity(cpu) }
        if let memory { requests["memory"] = Quantity(memory) }
        var container = Container(image: "busybox", name: "c")
        if !requests.isEmpty { container.resources = ResourceRequirements(requests: requests) }
        var spec = PodSpec()
        spec.containers = [container]
        return Pod(metadata: ObjectMeta(labels: labels, name: name, namespace: namespace, uid: "uid-\(namespace)-\(name)"), spec: spec)
    }

    /// `pod` with more requests on its container.
    static func with(_ pod: Pod, requests: [String: Quantity]) -> Pod {
        var pod = pod
        var all = pod.spec?.containers?[0].resources?.requests ?? [:]
        all.merge(requests) { _, new in new }
        pod.spec?.containers?[0].resources = ResourceRequirements(requests: all)
        return pod
    }

    /// `pod` with a (non-restartable) init container requesting `cpu`.
    static func withInit(_ pod: Pod, cpu: String) -> Pod {
        var pod = pod
        var setup = Container(image: "busybox", name: "setup")
        setup.resources = ResourceRequirements(requests: ["cpu": Quantity(cpu)])
        pod.spec?.initContainers = [setup]
        return pod
    }

    /// `pod` with a cpu overhead.
    static func withOverhead(_ pod: Pod, cpu: String) -> Pod {
        var pod = pod
        pod.spec?.overhead = ["cpu": Quantity(cpu)]
        return pod
    }

    /// A host port binding.
    static func port(_ port: Int32, proto: String? = nil, ip: String? = nil) -> ContainerPort {
        var p = ContainerPort(containerPort: port)
        p.hostPort = port
        p.hostIP = ip
        p.protocol = proto
        return p
    }

    /// `pod` with one DoNotSchedule spread constraint over `key` (selector: the pod's labels).
    static func spread(_ pod: Pod, key: String, maxSkew: Int32 = 1, selector: [String: String]? = nil, minDomains: Int32? = nil,
                       nodeAffinityPolicy: String? = nil, nodeTaintsPolicy: String? = nil, matchLabelKeys: [String]? = nil,
                       whenUnsatisfiable: String = "DoNotSchedule") -> Pod {
        var pod = pod
        var constraint = TopologySpreadConstraint()
        constraint.labelSelector = LabelSelector(matchLabels: selector ?? pod.metadata?.labels ?? [:])
        constraint.maxSkew = maxSkew
        constraint.minDomains = minDomains
        constraint.nodeAffinityPolicy = nodeAffinityPolicy
        constraint.nodeTaintsPolicy = nodeTaintsPolicy
        constraint.matchLabelKeys = matchLabelKeys
        constraint.topologyKey = key
        constraint.whenUnsatisfiable = whenUnsatisfiable
        let existing = pod.spec?.topologySpreadConstraints ?? []
        pod.spec?.topologySpreadConstraints = existing + [constraint]
        return pod
    }

    /// Required pod affinity to pods labelled `labels`, over `key`.
    static func affinity(_ labels: [String: String], key: String) -> Affinity {
        Affinity(podAffinity: PodAffinity(requiredDuringSchedulingIgnoredDuringExecution: [
            PodAffinityTerm(labelSelector: LabelSelector(matchLabels: labels), topologyKey: key),
        ]))
    }

    /// Required pod anti-affinity to pods labelled `labels`, over `key`.
    static func antiAffinity(_ labels: [String: String], key: String) -> Affinity {
        Affinity(podAntiAffinity: PodAntiAffinity(requiredDuringSchedulingIgnoredDuringExecution: [
            PodAffinityTerm(labelSelector: LabelSelector(matchLabels: labels), topologyKey: key),
        ]))
    }

    /// `node` with `pods` on it.
    static func info(_ node: Node, _ pods: [Pod] = []) -> NodeInfo {
        NodeInfo(node: node, pods: pods.map { PodInfo($0) })
    }
}

extension NodeAffinity {
    /// Required terms only.
    init(required terms: [NodeSelectorTerm]) {
        self.init(requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(nodeSelectorTerms: terms))
    }
}
