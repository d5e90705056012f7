import Foundation
import OrcaCLI
import OrcaClient
import OrcaControllers
import OrcaCore
import Testing

@Suite struct GarbageCollectorTests {
    func replicaSet(_ name: String) -> ReplicaSet {
        ReplicaSet(metadata: ObjectMeta(name: name, namespace: "default"),
                   spec: ReplicaSetSpec(selector: LabelSelector(matchLabels: ["app": "x"]),
                                        template: PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "x"]),
                                                                  spec: PodSpec(containers: [Container(image: "busybox", name: "c")]))))
    }

    /// A ReplicaSet `name` and two pods it controls (`blockOwnerDeletion`), `name-0` and `name-1`.
    @discardableResult
    func createOwned(_ c: ControllerTestCluster, _ name: String) async throws -> ReplicaSet {
        let rs = try await c.client.create(replicaSet(name))
        for i in 0..<2 {
            try await c.client.create(c.pod("\(name)-\(i)", labels: ["app": "x"], owner: .controller(rs)))
        }
        return rs
    }

    func start(_ c: ControllerTestCluster) async -> Task<Void, Never> {
        let gc = await GarbageCollector.controllers(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: gc)
        return Task { await manager.run() }
    }

    func delete(_ c: ControllerTestCluster, _ name: String, propagationPolicy: String) async throws {
        var options = DeletionOptions()
        options.propagationPolicy = propagationPolicy
        try await c.client.delete(ReplicaSet.self, namespace: "default", name: name, options: options, ignoreNotFound: false)
    }

    func find<Object: KubernetesObject>(_ c: ControllerTestCluster, _ type: Object.Type, _ name: String) async throws -> Object? {
        do {
            return try await c.client.get(type, namespace: "default", name: name)
        } catch let e as APIError where e.isNotFound {
            return nil
        }
    }

    func podNames(_ c: ControllerTestCluster) async throws -> [String] {
        try await c.client.list(Pod.self, namespace: "default").compactMap(\.metadata?.name).sorted()
    }

    /// Waits until the collector has seen every pod created so far: the pod informer handles
    /// its events one after another, so once a marker pod created last is cached, every
    /// earlier pod is in the ownership graph. (A dependent the collector has not seen yet
    /// cannot hold up or survive its owner's deletion, in Kubernetes too.) The marker goes again.
    func waitUntilPodsSeen(_ c: ControllerTestCluster) async throws {
        let pods = await c.informers.informer(Pod.self)
        try await c.client.create(c.pod("marker"))
        #expect(await eventually { await pods.get(namespace: "default", name: "marker") != nil })
        try await c.client.delete(Pod.self, namespace: "default", name: "marker")
    }

    /// `eventually`, moving the manual clock along so that retry back-offs come due.
    func settle(_ c: ControllerTestCluster, _ condition: () async throws -> Bool) async throws -> Bool {
        try await eventually {
            c.clock.advance(by: .milliseconds(50))
            return try await condition()
        }
    }

    @Test func backgroundDeletionCollectsTheDependents() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        try await createOwned(c, "bg")
        try await delete(c, "bg", propagationPolicy: "Background")
        #expect(try await find(c, ReplicaSet.self, "bg") == nil, "background deletion removes the owner at once")
        // Unscheduled pods have no grace period: deleted, they are gone.
        #expect(try await settle(c) { try await podNames(c).isEmpty })
    }

    @Test func foregroundDeletionWaitsForTheBlockingDependents() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        let rs = try await createOwned(c, "fg")
        // A third pod holds a finalizer of its own, so it outlives its deletion for a while.
        var held = c.pod("fg-held", labels: ["app": "x"], owner: .controller(rs))
        held.metadata?.finalizers = ["example.com/hold"]
        try await c.client.create(held)
        try await waitUntilPodsSeen(c)

        try await delete(c, "fg", propagationPolicy: "Foreground")
        // The free pods go; the held one is being deleted but stays, and the ReplicaSet waits for it.
        #expect(try await settle(c) {
            let pods = try await c.client.list(Pod.self, namespace: "default")
            return pods.compactMap(\.metadata?.name) == ["fg-held"] && pods[0].metadata?.deletionTimestamp != nil
        })
        let waiting = try await find(c, ReplicaSet.self, "fg")
        #expect(waiting?.metadata?.deletionTimestamp != nil)
        #expect(waiting?.metadata?.finalizers == [GarbageCollector.foregroundDeletionFinalizer])

        // Once the held pod is gone, the ReplicaSet's deletion completes.
        try await c.client.mergePatch(Pod.self, namespace: "default", name: "fg-held", patch: ["metadata": ["finalizers": .null]])
        #expect(try await settle(c) { try await find(c, ReplicaSet.self, "fg") == nil })
        #expect(try await podNames(c).isEmpty)
    }

    @Test func orphanDeletionKeepsTheDependentsWithoutTheirReference() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c)
        defer { run.cancel() }
        let rs = try await createOwned(c, "or")
        // Another owner's reference on one pod is left alone.
        let other = try await c.client.create(ConfigMap(metadata: ObjectMeta(name: "other", namespace: "default")))
        var pod = try #require(try await find(c, Pod.self, "or-0"))
        pod.metadata?.ownerReferences?.append(OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "other", uid: other.metadata?.uid))
        try await c.client.update(pod)
        try await waitUntilPodsSeen(c)

        try await delete(c, "or", propagationPolicy: "Orphan")
        #expect(try await settle(c) { try await find(c, ReplicaSet.self, "or") == nil })
        let pods = try await c.client.list(Pod.self, namespace: "default").sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
        #expect(pods.compactMap(\.metadata?.name) == ["or-0", "or-1"])
        #expect(pods.allSatisfy { $0.metadata?.deletionTimestamp == nil })
        let rsUID = rs.metadata?.uid
        #expect(pods.allSatisfy { pod in !(pod.metadata?.ownerReferences ?? []).contains { $0.uid == rsUID } })
        #expect(pods[0].metadata?.ownerReferences?.map(\.uid) == [other.metadata?.uid])
        // And they stay: the owner's disappearance does not collect them afterwards.
        for _ in 0..<20 {
            c.clock.advance(by: .milliseconds(50))
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(try await podNames(c) == ["or-0", "or-1"])
    }

    @Test func dependentsOfOwnersGoneBeforeTheStartAreCollected() async throws {
        let c = try await ControllerTestCluster()
        // Before the collector runs: one pod's owner never existed, one's owner name now
        // belongs to another object (another UID), and one's owner lives.
        let alive = try await c.client.create(replicaSet("alive"))
        try await c.client.create(c.pod("kept", labels: ["app": "x"], owner: .controller(alive)))
        let ghost = OwnerReference(apiVersion: "apps/v1", blockOwnerDeletion: true, controller: true,
                                   kind: "ReplicaSet", name: "ghost", uid: "uid-ghost")
        try await c.client.create(c.pod("stray", labels: ["app": "x"], owner: ghost))
        try await c.client.create(replicaSet("reused"))
        let replaced = OwnerReference(apiVersion: "apps/v1", blockOwnerDeletion: true, controller: true,
                                      kind: "ReplicaSet", name: "reused", uid: "uid-before")
        try await c.client.create(c.pod("replaced", labels: ["app": "x"], owner: replaced))

        let run = await start(c)
        defer { run.cancel() }
        #expect(try await settle(c) { try await podNames(c) == ["kept"] })
        for _ in 0..<20 {
            c.clock.advance(by: .milliseconds(50))
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(try await podNames(c) == ["kept"])
        #expect(try await find(c, ReplicaSet.self, "alive") != nil)
        #expect(try await find(c, ReplicaSet.self, "reused") != nil)
    }
}
