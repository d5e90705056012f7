import Foundation
import OrcaAPIServer
import OrcaCLI
import OrcaClient
import OrcaControllers
import OrcaCore
import Testing

/// The garbage collector with custom resources: a custom resource whose owner goes is
/// collected, and a custom resource deleted in the foreground waits for its dependents and
/// then goes (its monitor is started when its definition is established).
@Suite struct GarbageCollectorCustomResourceTests {
    let gc = GarbageCollectorTests()

    static let definition: JSONValue = [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "crontabs.stable.example.com"],
        "spec": ["group": "stable.example.com", "scope": "Namespaced",
                 "names": ["plural": "crontabs", "kind": "CronTab"],
                 "versions": [["name": "v1", "served": true, "storage": true,
                               "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]]],
    ]

    /// Establishes the CronTab definition; returns its resource.
    func establish(_ c: ControllerTestCluster) async throws -> ResourceType {
        let definitions = try #require(c.registry.catalog.resource(group: "apiextensions.k8s.io", version: "v1",
                                                                  resource: "customresourcedefinitions"))
        _ = try await c.registry.create(definitions, namespace: nil, object: Self.definition)
        try await CustomResourceDefinitionController(registry: c.registry).sync()
        return try #require(c.registry.catalog.resource(group: "stable.example.com", version: "v1", resource: "crontabs"))
    }

    func crontab(_ name: String, owner: OwnerReference? = nil) throws -> JSONValue {
        var o: JSONValue = ["apiVersion": "stable.example.com/v1", "kind": "CronTab",
                            "metadata": ["name": .string(name), "namespace": "default"]]
        if let owner { o[path: ["metadata", "ownerReferences"]] = try JSONValue(encoding: [owner]) }
        return o
    }

    func exists(_ c: ControllerTestCluster, _ r: ResourceType, _ name: String) async throws -> Bool {
        do {
            _ = try await c.client.get(r, namespace: "default", name: name)
            return true
        } catch let e as APIError where e.isNotFound {
            return false
        }
    }

    @Test func aCustomResourceWhoseOwnerGoesIsCollected() async throws {
        let c = try await ControllerTestCluster()
        let crontabs = try await establish(c)
        let run = await gc.start(c)
        defer { run.cancel() }
        let owner = try await c.client.create(ConfigMap(metadata: ObjectMeta(name: "owner", namespace: "default")))
        _ = try await c.client.create(crontabs, namespace: "default", object: try crontab("dependent", owner: OwnerReference(
            apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata?.uid)))
        _ = try await c.client.create(crontabs, namespace: "default", object: try crontab("unowned"))
        try await c.client.delete(ConfigMap.self, namespace: "default", name: "owner")
        #expect(try await gc.settle(c) { try await !exists(c, crontabs, "dependent") })
        #expect(try await exists(c, crontabs, "unowned"))
    }

    @Test func aCustomResourceDeletedInTheForegroundGoesAfterItsDependents() async throws {
        let c = try await ControllerTestCluster()
        let crontabs = try await establish(c)
        let run = await gc.start(c)
        defer { run.cancel() }
        let owner = try await c.client.create(crontabs, namespace: "default", object: try crontab("owner"))
        let reference = OwnerReference(apiVersion: "stable.example.com/v1", blockOwnerDeletion: true, kind: "CronTab",
                                       name: "owner", uid: owner.metadataUID)
        try await c.client.create(c.pod("owned", owner: reference))
        var options = DeletionOptions()
        options.propagationPolicy = "Foreground"
        try await c.client.delete(crontabs, namespace: "default", name: "owner", options: options)
        #expect(try await gc.settle(c) { try await gc.podNames(c).isEmpty })
        #expect(try await gc.settle(c) { try await !exists(c, crontabs, "owner") })
    }
}
