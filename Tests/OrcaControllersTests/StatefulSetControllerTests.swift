import Foundation
import OrcaClient
import OrcaControllers
import Testing

@Suite struct StatefulSetControllerTests {
    func statefulSet(replicas: Int32, partition: Int32? = nil) -> StatefulSet {
        let labels = ["app": "web"]
        let claim = PersistentVolumeClaim(metadata: ObjectMeta(labels: ["tier": "storage"], name: "data"),
                                          spec: PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"],
                                                                          resources: VolumeResourceRequirements(requests: ["storage": "1Gi"])))
        let strategy = partition.map {
            StatefulSetUpdateStrategy(rollingUpdate: RollingUpdateStatefulSetStrategy(partition: $0), type: "RollingUpdate")
        }
        return StatefulSet(metadata: ObjectMeta(name: "web", namespace: "default"),
                           spec: StatefulSetSpec(replicas: replicas, selector: LabelSelector(matchLabels: labels), serviceName: "web",
                                                 template: PodTemplateSpec(metadata: ObjectMeta(labels: labels),
                                                                           spec: PodSpec(containers: [Container(image: "busybox", name: "c")])),
                                                 updateStrategy: strategy, volumeClaimTemplates: [claim]))
    }

    func start(_ c: ControllerTestCluster) async -> Task<Void, Never> {
        let controller = await StatefulSetController.controller(client: c.client, informers: c.informers, clock: c.clock)
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

    func pod(_ c: ControllerTestCluster, _ name: String) async -> Pod? {
        try? await c.client.get(Pod.self, namespace: "default", name: name)
    }

    func podNames(_ c: ControllerTestCluster) async throws -> Set<String> {
        Set(try await c.client.list(Pod.self, namespace: "default").filter { $0.metadata?.deletionTimestamp == nil }
            .compactMap(\.metadata?.name))
    }

    func claimNames(_ c: ControllerTestCluster) async throws -> Set<String> {
        Set(try await c.client.list(PersistentVolumeClaim.self, namespace: "default").compactMap(\.metadata?.name))
    }

    /// What a kubelet would report: phase Running and the Ready condition.
    func markRunningAndReady(_ c: ControllerTestCluster, _ name: String) async throws {
        var pod = try await c.client.get(Pod.self, namespace: "default", name: name)
        var status = pod.status ?? PodStatus()
        status.phase = "Running"
        status.conditions = [PodCondition(lastTransitionTime: KubernetesTime.string(c.clock.now), status: "True", type: "Ready")]
        pod.status = status
        try await c.client.update(pod, subresource: "status")
    }

    func eventMessages(_ c: ControllerTestCluster) async throws -> [String] {
        let list = try await c.client.list(c.client.resource("events"), namespace: "default", options: ListOptions())
        return (list["items"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
    }

    /// Brings up `replicas` pods in order, marking each Running and Ready once it exists.
    func bringUp(_ c: ControllerTestCluster, replicas: Int) async throws {
        for i in 0..<replicas {
            #expect(try await until(c) { await pod(c, "web-\(i)") != nil })
            try await markRunningAndReady(c, "web-\(i)")
        }
    }

    @Test func orderedReadyCreatesOnePodAtATimeWithItsClaimAndIdentity() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        let set = try await c.client.create(statefulSet(replicas: 2))
        #expect(try await until(c) { await pod(c, "web-0") != nil })
        // web-1 waits for web-0 to be Running and Ready.
        for _ in 0..<20 { c.clock.advance(by: .milliseconds(200)); try await Task.sleep(for: .milliseconds(5)) }
        #expect(try await podNames(c) == ["web-0"])
        #expect(try await claimNames(c) == ["data-web-0"])

        let web0 = try #require(await pod(c, "web-0"))
        #expect(web0.metadata?.controllerRef?.uid == set.metadata?.uid)
        #expect(web0.metadata?.labels?["statefulset.kubernetes.io/pod-name"] == "web-0")
        #expect(web0.metadata?.labels?["apps.kubernetes.io/pod-index"] == "0")
        #expect(web0.metadata?.labels?["controller-revision-hash"]?.hasPrefix("web-") == true)
        #expect(web0.spec?.hostname == "web-0")
        #expect(web0.spec?.subdomain == "web")
        #expect(web0.spec?.volumes?.first { $0.name == "data" }?.persistentVolumeClaim?.claimName == "data-web-0")
        let claim = try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "data-web-0")
        #expect(claim.metadata?.labels == ["app": "web", "tier": "storage"])
        #expect(claim.metadata?.ownerReferences == nil)

        try await markRunningAndReady(c, "web-0")
        #expect(try await until(c) { try await podNames(c) == ["web-0", "web-1"] })
        #expect(try await claimNames(c) == ["data-web-0", "data-web-1"])
        try await markRunningAndReady(c, "web-1")
        #expect(try await until(c) {
            let s = try await c.client.get(StatefulSet.self, namespace: "default", name: "web").status
            return s?.replicas == 2 && s?.readyReplicas == 2 && s?.availableReplicas == 2 && s?.currentReplicas == 2
                && s?.updatedReplicas == 2 && s?.currentRevision == s?.updateRevision && s?.observedGeneration == 1
        })
        let messages = try await eventMessages(c)
        #expect(messages.contains("create Pod web-0 in StatefulSet web successful"))
        #expect(messages.contains("create Claim data-web-0 Pod web-0 in StatefulSet web success"))
        // The revision behind the pods' label exists and is owned by the set.
        let revisions = try await c.client.list(ControllerRevision.self, namespace: "default")
        #expect(revisions.count == 1)
        #expect(revisions.first?.metadata?.name == web0.metadata?.labels?["controller-revision-hash"])
        #expect(revisions.first?.metadata?.controllerRef?.uid == set.metadata?.uid)
    }

    @Test func scaleDownDeletesTheHighestOrdinalFirstAndKeepsItsClaim() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        try await c.client.create(statefulSet(replicas: 3))
        try await bringUp(c, replicas: 3)
        try await c.client.mergePatch(StatefulSet.self, namespace: "default", name: "web", patch: ["spec": ["replicas": 2]])
        #expect(try await until(c) { try await podNames(c) == ["web-0", "web-1"] })
        #expect(try await claimNames(c) == ["data-web-0", "data-web-1", "data-web-2"])
        #expect(try await eventMessages(c).contains("delete Pod web-2 in StatefulSet web successful"))
        try await c.client.mergePatch(StatefulSet.self, namespace: "default", name: "web", patch: ["spec": ["replicas": 1]])
        #expect(try await until(c) { try await podNames(c) == ["web-0"] })
        #expect(try await claimNames(c).count == 3)
        #expect(try await until(c) {
            try await c.client.get(StatefulSet.self, namespace: "default", name: "web").status?.replicas == 1
        })
    }

    @Test func rollingUpdateWithPartitionUpdatesOnlyOrdinalsFromThePartitionUp() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        try await c.client.create(statefulSet(replicas: 2, partition: 1))
        try await bringUp(c, replicas: 2)
        let before = try #require(await pod(c, "web-0"))
        let oldRevision = before.metadata?.labels?["controller-revision-hash"]
        let oldWeb1 = try #require(await pod(c, "web-1"))
        try await c.client.mergePatch(StatefulSet.self, namespace: "default", name: "web", patch: [
            "spec": ["template": ["spec": ["containers": [["name": "c", "image": "busybox:1.35"]]]]],
        ])
        // web-1 is replaced from the new revision; web-0, below the partition, stays.
        #expect(try await until(c) {
            guard let web1 = await pod(c, "web-1"), web1.metadata?.uid != oldWeb1.metadata?.uid else { return false }
            return web1.metadata?.labels?["controller-revision-hash"] != oldRevision
                && web1.spec?.containers?.first?.image == "busybox:1.35"
        })
        try await markRunningAndReady(c, "web-1")
        #expect(try await until(c) {
            let s = try await c.client.get(StatefulSet.self, namespace: "default", name: "web").status
            return s?.updatedReplicas == 1 && s?.currentReplicas == 1 && s?.readyReplicas == 2
                && s?.currentRevision == oldRevision && s?.updateRevision != oldRevision
        })
        let after = try #require(await pod(c, "web-0"))
        #expect(after.metadata?.uid == before.metadata?.uid)
        #expect(after.metadata?.labels?["controller-revision-hash"] == oldRevision)
        #expect(after.spec?.containers?.first?.image == "busybox")
        #expect(try await c.client.list(ControllerRevision.self, namespace: "default").count == 2)
    }
}
