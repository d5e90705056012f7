import Foundation
import OrcaClient
import OrcaControllers
import Testing

@Suite struct SharedInformerTests {
    actor Seen {
        var adds: [String] = []
        var updates: [String] = []
        var deletes: [String] = []
        func add(_ n: String) { adds.append(n) }
        func update(_ n: String) { updates.append(n) }
        func delete(_ n: String) { deletes.append(n) }
    }

    func configMap(_ name: String, owner: String? = nil) -> ConfigMap {
        ConfigMap(data: ["k": "v"], metadata: ObjectMeta(
            name: name, namespace: "default",
            ownerReferences: owner.map { [OwnerReference(apiVersion: "v1", controller: true, kind: "ConfigMap", name: "o", uid: $0)] }))
    }

    @Test func indexesFollowChangesAndASecondRunResyncsEveryObject() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(configMap("a", owner: "u1"))
        try await c.client.create(configMap("b"))
        let informer = await c.informers.informer(ConfigMap.self)
        let seen = Seen()
        await informer.addEventHandler(InformerEventHandler(
            onAdd: { await seen.add($0.metadata?.name ?? "") },
            onUpdate: { _, new in await seen.update(new.metadata?.name ?? "") },
            onDelete: { await seen.delete($0.metadata?.name ?? "") }))
        var run = Task { await c.informers.run() }
        await informer.waitForSync()
        #expect(await Set(seen.adds) == ["a", "b"])
        #expect(await informer.byIndex(Indexers.controllerUID, "u1").map { $0.metadata?.name } == ["a"])
        #expect(await informer.byIndex(Indexers.orphanNamespace, "default").map { $0.metadata?.name } == ["b"])

        // Adopted: the indexes move with the object.
        try await c.client.mergePatch(ConfigMap.self, namespace: "default", name: "b", patch: [
            "metadata": ["ownerReferences": [["apiVersion": "v1", "controller": true, "kind": "ConfigMap", "name": "o", "uid": "u1"]]]])
        #expect(try await eventually { await informer.byIndex(Indexers.controllerUID, "u1").count == 2 })
        #expect(await informer.byIndex(Indexers.orphanNamespace, "default").isEmpty)
        try await c.client.delete(ConfigMap.self, namespace: "default", name: "a")
        #expect(try await eventually { await seen.deletes == ["a"] })
        #expect(await informer.get(namespace: "default", name: "a") == nil)

        // A new run (a new leadership term) lists again and reports unchanged objects as updates.
        run.cancel()
        await run.value
        let updatesBefore = await seen.updates.count
        run = Task { await c.informers.run() }
        defer { run.cancel() }
        await informer.waitForSync()
        #expect(try await eventually { await seen.updates.count == updatesBefore + 1 })
        #expect(await seen.updates.last == "b")
    }
}
