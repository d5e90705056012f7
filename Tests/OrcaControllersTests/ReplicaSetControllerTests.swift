import Foundation
import OrcaCLI
import OrcaClient
import OrcaControllers
import Synchronization
import Testing

@Suite struct ReplicaSetControllerTests {
    func replicaSet(_ name: String, replicas: Int32, labels: [String: String] = ["app": "web"]) -> ReplicaSet {
        ReplicaSet(metadata: ObjectMeta(name: name, namespace: "default"),
                   spec: ReplicaSetSpec(replicas: replicas, selector: LabelSelector(matchLabels: labels),
                                        template: PodTemplateSpec(metadata: ObjectMeta(labels: labels),
                                                                  spec: PodSpec(containers: [Container(image: "busybox", name: "c")]))))
    }

    func start(_ c: ControllerTestCluster) async -> Task<Void, Never> {
        let rs = await ReplicaSetController<ReplicaSet>.controller(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [rs])
        return Task { await manager.run() }
    }

    func pods(_ c: ControllerTestCluster) async throws -> [Pod] {
        try await c.client.list(Pod.self, namespace: "default").filter { $0.metadata?.deletionTimestamp == nil }
    }

    @Test func keepsReplicasReplacesDeletedPodsAndScalesDown() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        let rs = try await c.client.create(replicaSet("web", replicas: 3))
        #expect(try await eventually { try await pods(c).count == 3 })
        let owned = try await pods(c)
        #expect(owned.allSatisfy { $0.metadata?.controllerRef?.uid == rs.metadata?.uid && $0.metadata?.controllerRef?.blockOwnerDeletion == true })
        #expect(owned.allSatisfy { $0.metadata?.name?.hasPrefix("web-") == true })
        // A deleted pod is replaced.
        try await c.client.delete(Pod.self, namespace: "default", name: owned[0].metadata?.name ?? "")
        #expect(try await eventually {
            let now = try await pods(c)
            return now.count == 3 && !now.contains { $0.metadata?.name == owned[0].metadata?.name }
        })
        // Status follows.
        #expect(try await eventually {
            let s = try await c.client.get(ReplicaSet.self, namespace: "default", name: "web").status
            return s?.replicas == 3 && s?.fullyLabeledReplicas == 3 && s?.observedGeneration == 1
        })
        // Scale down: unscheduled pods go first (all are here), two remain... then one.
        try await c.client.mergePatch(ReplicaSet.self, namespace: "default", name: "web", patch: ["spec": ["replicas": 1]])
        #expect(try await eventually { try await pods(c).count == 1 })
        // Never more than asked: after settling, still one.
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await pods(c).count == 1)
    }

    @Test func adoptsMatchingOrphansAndReleasesPodsThatStopMatching() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(c.pod("orphan", labels: ["app": "web"]))
        let run = await start(c)
        defer { run.cancel() }
        let rs = try await c.client.create(replicaSet("web", replicas: 2))
        #expect(try await eventually {
            let p = try await c.client.get(Pod.self, namespace: "default", name: "orphan")
            return p.metadata?.controllerRef?.uid == rs.metadata?.uid
        })
        #expect(try await eventually { try await pods(c).count == 2 })
        // Relabel the adopted pod: it is released and replaced.
        try await c.client.mergePatch(Pod.self, namespace: "default", name: "orphan", patch: ["metadata": ["labels": ["app": "other"]]])
        #expect(try await eventually {
            let p = try await c.client.get(Pod.self, namespace: "default", name: "orphan")
            let web = try await pods(c).filter { $0.metadata?.labels?["app"] == "web" }
            return p.metadata?.ownerReferences == nil && web.count == 2
        })
    }

    @Test func deletionRanksUnscheduledAndNotReadyPodsFirst() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        func pod(_ name: String, node: String?, phase: String, ready: Bool) -> Pod {
            Pod(metadata: ObjectMeta(creationTimestamp: KubernetesTime.string(now.addingTimeInterval(-100)), name: name, uid: name),
                spec: PodSpec(nodeName: node),
                status: PodStatus(conditions: [PodCondition(lastTransitionTime: KubernetesTime.string(now.addingTimeInterval(-50)),
                                                            status: ready ? "True" : "False", type: "Ready")], phase: phase))
        }
        let pods = [pod("running-ready", node: "n1", phase: "Running", ready: true),
                    pod("running-unready", node: "n1", phase: "Running", ready: false),
                    pod("pending", node: "n1", phase: "Pending", ready: false),
                    pod("unscheduled", node: nil, phase: "Pending", ready: false)]
        let order = ActivePodsRanking(pods: pods, related: pods, now: now).deletionOrder().map { $0.metadata?.name ?? "" }
        #expect(order == ["unscheduled", "pending", "running-unready", "running-ready"])
    }

    @Test func failedCreatesSetReplicaFailureAndStopAfterTheFirstFailingBatch() async throws {
        let c = try await ControllerTestCluster()
        let client = RefusingPodCreates(inner: c.client)
        let rsController = await ReplicaSetController<ReplicaSet>.controller(client: client, informers: c.informers, clock: c.clock)
        let run = Task { await ControllerManager(name: "test", informers: c.informers, runnables: [rsController]).run() }
        defer { run.cancel() }
        try await c.client.create(replicaSet("bad", replicas: 5))
        #expect(try await eventually {
            let s = try await c.client.get(ReplicaSet.self, namespace: "default", name: "bad").status
            let failure = s?.conditions?.first { $0.type == "ReplicaFailure" }
            return failure?.reason == "FailedCreate" && failure?.message == "pods \"bad\" is forbidden: exceeded quota"
        })
        // Slow start: each sync stops after its first batch (one pod) fails, and retries wait for
        // the back-off on the manual clock, so far fewer than the 5 wanted pods were tried.
        #expect(client.attempts.withLock { $0 } < 5)
        #expect(try await pods(c).isEmpty)
    }
}

/// The in-process client, except that every pod create is refused (403), as a quota would.
final class RefusingPodCreates: APIClient {
    let inner: LocalAPIClient
    let attempts = Mutex(0)
    init(inner: LocalAPIClient) { self.inner = inner }
    var catalog: ResourceCatalog { inner.catalog }
    func get(_ r: ResourceType, namespace: String?, name: String) async throws -> JSONValue { try await inner.get(r, namespace: namespace, name: name) }
    func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue { try await inner.list(r, namespace: namespace, options: options) }
    func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error> {
        try await inner.watch(r, namespace: namespace, options: options)
    }
    func create(_ r: ResourceType, namespace: String?, object: JSONValue) async throws -> JSONValue {
        if r.resource == "pods" {
            attempts.withLock { $0 += 1 }
            throw APIError(code: 403, reason: "Forbidden", message: "pods \"bad\" is forbidden: exceeded quota")
        }
        return try await inner.create(r, namespace: namespace, object: object)
    }
    func update(_ r: ResourceType, namespace: String?, name: String, object: JSONValue, subresource: String?) async throws -> JSONValue {
        try await inner.update(r, namespace: namespace, name: name, object: object, subresource: subresource)
    }
    func mergePatch(_ r: ResourceType, namespace: String?, name: String, patch: JSONValue, subresource: String?) async throws -> JSONValue {
        try await inner.mergePatch(r, namespace: namespace, name: name, patch: patch, subresource: subresource)
    }
    func delete(_ r: ResourceType, namespace: String?, name: String, options: DeletionOptions) async throws {
        try await inner.delete(r, namespace: namespace, name: name, options: options)
    }
    func bind(namespace: String, name: String, node: String) async throws { try await inner.bind(namespace: namespace, name: name, node: node) }
}
