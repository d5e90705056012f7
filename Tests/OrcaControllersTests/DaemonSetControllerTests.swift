import Foundation
import OrcaClient
import OrcaControllers
import Testing

@Suite struct DaemonSetControllerTests {
    func daemonSet(_ name: String = "agent", hostNetwork: Bool? = nil) -> DaemonSet {
        let labels = ["app": name]
        return DaemonSet(metadata: ObjectMeta(name: name, namespace: "default"),
                         spec: DaemonSetSpec(selector: LabelSelector(matchLabels: labels),
                                             template: PodTemplateSpec(metadata: ObjectMeta(labels: labels),
                                                                       spec: PodSpec(containers: [Container(image: "busybox", name: "c")],
                                                                                     hostNetwork: hostNetwork))))
    }

    func start(_ c: ControllerTestCluster) async -> Task<Void, Never> {
        let controller = await DaemonSetController.controller(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [controller])
        return Task { await manager.run() }
    }

    /// Polls `condition`, moving the manual clock on so retries after back-off happen too.
    func until(_ c: ControllerTestCluster, _ condition: () async throws -> Bool) async throws -> Bool {
        try await eventually {
            c.clock.advance(by: .milliseconds(200))
            return try await condition()
        }
    }

    func pods(_ c: ControllerTestCluster) async throws -> [Pod] {
        try await c.client.list(Pod.self, namespace: "default").filter { $0.metadata?.deletionTimestamp == nil }
    }

    /// The node each pod is pinned to by its only required term, `metadata.name In [node]`.
    func pinnedNode(_ pod: Pod) -> String? {
        let terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
        guard terms.count == 1, terms[0].matchExpressions == nil, let fields = terms[0].matchFields, fields.count == 1,
              fields[0].key == "metadata.name", fields[0].operator == "In", let values = fields[0].values, values.count == 1
        else { return nil }
        return values[0]
    }

    let daemonTolerations: [(key: String, effect: String)] = [
        ("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]

    func hasToleration(_ pod: Pod, key: String, effect: String) -> Bool {
        (pod.spec?.tolerations ?? []).contains { $0.key == key && $0.effect == effect && $0.operator == "Exists" && $0.value == nil }
    }

    @Test func runsAPodOnEveryEligibleNodeThroughNodeAffinity() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(c.readyNode("n1"))
        try await c.client.create(c.readyNode("n2"))
        var tainted = c.readyNode("n3")
        tainted.spec = NodeSpec(taints: [Taint(effect: "NoSchedule", key: "dedicated", value: "infra")])
        try await c.client.create(tainted)
        let run = await start(c)
        defer { run.cancel() }
        let ds = try await c.client.create(daemonSet())

        #expect(try await until(c) { try await pods(c).count == 2 })
        try await Task.sleep(for: .milliseconds(50))
        let placed = try await pods(c)
        #expect(placed.count == 2)
        #expect(Set(placed.compactMap(pinnedNode)) == ["n1", "n2"])
        for pod in placed {
            #expect(pod.spec?.nodeName == nil)
            #expect(pod.metadata?.generateName == "agent-")
            #expect(pod.metadata?.controllerRef?.uid == ds.metadata?.uid)
            #expect(pod.metadata?.labels?["app"] == "agent")
            #expect(pod.metadata?.labels?["controller-revision-hash"]?.isEmpty == false)
            #expect(pod.metadata?.labels?["pod-template-generation"] == "1")
            for t in daemonTolerations { #expect(hasToleration(pod, key: t.key, effect: t.effect)) }
            #expect(!hasToleration(pod, key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule"))
        }

        // A node that joins later gets its pod.
        try await c.client.create(c.readyNode("n4"))
        #expect(try await until(c) { Set(try await pods(c).compactMap(pinnedNode)) == ["n1", "n2", "n4"] })
        #expect(try await until(c) {
            let s = try await c.client.get(DaemonSet.self, namespace: "default", name: "agent").status
            return s?.desiredNumberScheduled == 3 && s?.currentNumberScheduled == 3 && s?.numberMisscheduled == 0
                && s?.updatedNumberScheduled == 3 && s?.numberReady == 0 && s?.numberUnavailable == 3 && s?.observedGeneration == 1
        })
        let events = try await c.client.list(c.client.resource("events"), namespace: "default", options: ListOptions())
        let messages = (events["items"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
        #expect(messages.filter { $0.hasPrefix("Created pod: agent-") }.count == 3)
        let revisions = try await c.client.list(ControllerRevision.self, namespace: "default")
        #expect(revisions.count == 1)
        #expect(revisions.first?.metadata?.labels?["controller-revision-hash"] == placed.first?.metadata?.labels?["controller-revision-hash"])
    }

    @Test func hostNetworkPodsAlsoTolerateAnUnavailableNetworkAndIneligibleNodesLoseTheirPod() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(c.readyNode("n1"))
        try await c.client.create(c.readyNode("n2"))
        let run = await start(c)
        defer { run.cancel() }
        var ds = daemonSet("net", hostNetwork: true)
        ds.spec?.template?.spec?.nodeSelector = ["role": "edge"]
        try await c.client.create(ds)
        try await c.client.mergePatch(Node.self, namespace: nil, name: "n1", patch: ["metadata": ["labels": ["role": "edge"]]])
        try await c.client.mergePatch(Node.self, namespace: nil, name: "n2", patch: ["metadata": ["labels": ["role": "edge"]]])
        #expect(try await until(c) { Set(try await pods(c).compactMap(pinnedNode)) == ["n1", "n2"] })
        let pod = try #require(try await pods(c).first)
        #expect(hasToleration(pod, key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule"))
        // n2 stops matching the nodeSelector: its pod is deleted.
        try await c.client.mergePatch(Node.self, namespace: nil, name: "n2", patch: ["metadata": ["labels": ["role": "core"]]])
        #expect(try await until(c) { try await pods(c).compactMap(pinnedNode) == ["n1"] })
        #expect(try await until(c) {
            let s = try await c.client.get(DaemonSet.self, namespace: "default", name: "net").status
            return s?.desiredNumberScheduled == 1 && s?.currentNumberScheduled == 1 && s?.numberMisscheduled == 0
        })
    }
}
