import Foundation
import OrcaClient
import OrcaControllers
import Testing

@Suite struct DisruptionControllerTests {
    func start(_ c: ControllerTestCluster) async -> Task<Void, Never> {
        let controller = await DisruptionController.controller(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [controller])
        return Task { await manager.run() }
    }

    static let template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]),
                                          spec: PodSpec(containers: [Container(image: "busybox", name: "c")]))

    /// A ReplicaSet object (no ReplicaSet controller runs: the test makes its pods).
    func replicaSet(_ c: ControllerTestCluster, replicas: Int32, owner: OwnerReference? = nil) async throws -> ReplicaSet {
        try await c.client.create(ReplicaSet(metadata: ObjectMeta(name: "web", namespace: "default", ownerReferences: owner.map { [$0] }),
                                             spec: ReplicaSetSpec(replicas: replicas, selector: LabelSelector(matchLabels: ["app": "web"]),
                                                                  template: Self.template)))
    }

    /// Creates pod `name` labelled `app=web`, Running, with its Ready condition.
    func readyPod(_ c: ControllerTestCluster, _ name: String, owner: OwnerReference?, ready: Bool = true) async throws {
        try await c.client.create(c.pod(name, labels: ["app": "web"], owner: owner))
        try await setReady(c, name, ready)
    }

    func setReady(_ c: ControllerTestCluster, _ name: String, _ ready: Bool) async throws {
        var pod = try await c.client.get(Pod.self, namespace: "default", name: name)
        pod.status?.phase = "Running"
        pod.status?.conditions = [PodCondition(status: ready ? "True" : "False", type: "Ready")]
        try await c.client.update(pod, subresource: "status")
    }

    func budget(_ c: ControllerTestCluster, minAvailable: IntOrString? = nil, maxUnavailable: IntOrString? = nil) async throws {
        try await c.client.create(PodDisruptionBudget(metadata: ObjectMeta(name: "web", namespace: "default"),
                                                      spec: PodDisruptionBudgetSpec(maxUnavailable: maxUnavailable, minAvailable: minAvailable,
                                                                                    selector: LabelSelector(matchLabels: ["app": "web"]))))
    }

    func status(_ c: ControllerTestCluster) async throws -> PodDisruptionBudgetStatus? {
        try await c.client.get(PodDisruptionBudget.self, namespace: "default", name: "web").status
    }

    func allowedCondition(_ s: PodDisruptionBudgetStatus?) -> Condition? {
        s?.conditions?.first { $0.type == "DisruptionAllowed" }
    }

    func hasEvent(_ c: ControllerTestCluster, reason: String, _ message: (String) -> Bool) async throws -> Bool {
        try await c.client.list(Event.self, namespace: "default").contains { $0.reason == reason && message($0.message ?? "") }
    }

    @Test func minAvailableCountsReadyPodsAndFollowsReadiness() async throws {
        let c = try await ControllerTestCluster()
        let rs = try await replicaSet(c, replicas: 3)
        for i in 0..<3 { try await readyPod(c, "web-\(i)", owner: .controller(rs)) }
        try await budget(c, minAvailable: 2)
        let run = await start(c)
        defer { run.cancel() }
        #expect(try await eventually {
            let s = try await status(c)
            return s?.disruptionsAllowed == 1 && s?.currentHealthy == 3 && s?.desiredHealthy == 2 && s?.expectedPods == 3
                && s?.observedGeneration == 1 && allowedCondition(s)?.status == "True" && allowedCondition(s)?.reason == "SufficientPods"
        })
        try await setReady(c, "web-0", false)
        #expect(try await eventually {
            let s = try await status(c)
            return s?.disruptionsAllowed == 0 && s?.currentHealthy == 2
                && allowedCondition(s)?.status == "False" && allowedCondition(s)?.reason == "InsufficientPods"
        })
        try await setReady(c, "web-0", true)
        #expect(try await eventually { try await status(c)?.disruptionsAllowed == 1 })
    }

    @Test func percentagesScaleWithTheControllingDeployment() async throws {
        let c = try await ControllerTestCluster()
        let deployment = try await c.client.create(Deployment(metadata: ObjectMeta(name: "web", namespace: "default"),
                                                              spec: DeploymentSpec(replicas: 4, selector: LabelSelector(matchLabels: ["app": "web"]),
                                                                                   template: Self.template)))
        // Mid-rollout: the ReplicaSet has 3 of the Deployment's 4.
        let rs = try await replicaSet(c, replicas: 3, owner: .controller(deployment))
        for i in 0..<3 { try await readyPod(c, "web-\(i)", owner: .controller(rs)) }
        // A pod nobody owns adds nothing to the scale and is reported.
        try await readyPod(c, "stray", owner: nil)
        try await budget(c, minAvailable: "50%")
        let run = await start(c)
        defer { run.cancel() }
        // Expected 4 (the Deployment), desired ⌈50% of 4⌉ = 2, healthy 4.
        #expect(try await eventually {
            let s = try await status(c)
            return s?.expectedPods == 4 && s?.desiredHealthy == 2 && s?.currentHealthy == 4 && s?.disruptionsAllowed == 2
        })
        #expect(try await eventually {
            try await hasEvent(c, reason: "UnmanagedPods") { $0.hasPrefix("Pods selected by this PodDisruptionBudget (selector: &LabelSelector{MatchLabels:map[string]string{app: web,}") }
        })
    }

    @Test func podsOfAControllerWithoutScaleFailSafe() async throws {
        let c = try await ControllerTestCluster()
        let daemon = OwnerReference(apiVersion: "apps/v1", blockOwnerDeletion: true, controller: true, kind: "DaemonSet", name: "agent", uid: "ds-uid")
        try await readyPod(c, "agent-0", owner: daemon)
        try await budget(c, maxUnavailable: 1)
        let run = await start(c)
        defer { run.cancel() }
        #expect(try await eventually {
            let s = try await status(c)
            let condition = allowedCondition(s)
            return s?.disruptionsAllowed == 0 && condition?.status == "False" && condition?.reason == "SyncFailed"
                && condition?.message == "daemonsets.apps does not implement the scale subresource"
        })
        #expect(try await eventually {
            try await hasEvent(c, reason: "CalculateExpectedPodCountFailed") { $0.hasSuffix("does not implement the scale subresource") }
        })
    }

    @Test func approvedEvictionsCountAsGoneUntilTheyExpire() async throws {
        let c = try await ControllerTestCluster()
        let rs = try await replicaSet(c, replicas: 3)
        for i in 0..<3 { try await readyPod(c, "web-\(i)", owner: .controller(rs)) }
        try await budget(c, minAvailable: 1)
        let run = await start(c)
        defer { run.cancel() }
        #expect(try await eventually { try await status(c)?.disruptionsAllowed == 2 })
        // What the eviction subresource records when it approves evicting web-0.
        try await c.client.mergePatch(PodDisruptionBudget.self, namespace: "default", name: "web",
                                      patch: ["status": ["disruptedPods": ["web-0": .string(KubernetesTime.string(c.clock.now))]]],
                                      subresource: "status")
        #expect(try await eventually {
            let s = try await status(c)
            return s?.currentHealthy == 2 && s?.disruptionsAllowed == 1 && s?.disruptedPods?["web-0"] != nil
        })
        // web-0 was never deleted: two minutes later the entry is dropped.
        #expect(try await eventually {
            c.clock.advance(by: .seconds(30))
            let s = try await status(c)
            return s?.disruptedPods == nil && s?.currentHealthy == 3 && s?.disruptionsAllowed == 2
        })
    }
}
