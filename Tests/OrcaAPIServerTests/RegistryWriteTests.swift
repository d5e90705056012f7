import Foundation
import OrcaAPI
import OrcaStore
import Testing
@testable import OrcaAPIServer

/// Create, get and update through the registry on a memory store.
@Suite struct RegistryWriteTests {
    @Test func createStampsMetadataAndGetReturnsIt() async throws {
        let c = try await TestCluster()
        let created = try await c.configMap("settings")
        #expect(created.metadataUID == "uid-2")
        #expect(created[path: ["metadata", "creationTimestamp"]] == "2023-11-14T22:13:20Z")
        #expect(created[path: ["metadata", "generation"]] == nil, "ConfigMaps have no generation")
        #expect(created.apiVersion == "v1" && created.kind == "ConfigMap")
        #expect(created.metadataNamespace == "default")
        let rv = try #require(created.resourceVersion.flatMap { Int64($0) })
        #expect(rv == (try await c.store.currentRevision()))
        let got = try await c.registry.get(c.r("configmaps"), namespace: "default", name: "settings")
        #expect(got == created)
    }

    @Test func createTwiceIsAlreadyExists() async throws {
        let c = try await TestCluster()
        try await c.configMap("dup")
        let e = await apiError { try await c.configMap("dup") }
        #expect(e?.code == 409)
        #expect(e?.reason == "AlreadyExists")
        #expect(e?.message == "configmaps \"dup\" already exists")
    }

    @Test func getMissingIsNotFound() async throws {
        let c = try await TestCluster()
        let e = await apiError { _ = try await c.registry.get(c.r("configmaps"), namespace: "default", name: "nope") }
        #expect(e?.code == 404)
        #expect(e?.message == "configmaps \"nope\" not found")
    }

    @Test func createInMissingNamespaceIsNotFound() async throws {
        let c = try await TestCluster()
        let e = await apiError { _ = try await c.registry.create(c.r("configmaps"), namespace: "ghost", object: ["metadata": ["name": "x"]]) }
        #expect(e?.code == 404)
        #expect(e?.message == "namespaces \"ghost\" not found")
    }

    static let badBodies: [(String, String)] = [
        (#"{"apiVersion": "v2", "metadata": {"name": "x"}}"#, "the API version in the data (v2) does not match the expected API version (v1)"),
        (#"{"kind": "Secret", "metadata": {"name": "x"}}"#, "the kind in the data (Secret) does not match the expected kind (ConfigMap)"),
        (#"{"metadata": {"name": "x", "namespace": "other"}}"#, "the namespace of the provided object does not match the namespace sent on the request"),
    ]

    @Test(arguments: badBodies)
    func mismatchedBodiesAreBadRequests(body: String, message: String) async throws {
        let c = try await TestCluster()
        let e = await apiError { _ = try await c.registry.create(c.r("configmaps"), namespace: "default", object: json(body)) }
        #expect(e?.code == 400)
        #expect(e?.message == message)
    }

    @Test func generateNameAddsFiveCharacters() async throws {
        let c = try await TestCluster()
        let a = try await c.registry.create(c.r("configmaps"), namespace: "default", object: ["metadata": ["generateName": "web-"]])
        let b = try await c.registry.create(c.r("configmaps"), namespace: "default", object: ["metadata": ["generateName": "web-"]])
        let name = try #require(a.metadataName)
        #expect(name.hasPrefix("web-") && name.count == "web-".count + 5)
        #expect(a.metadataName != b.metadataName)
        #expect(a[path: ["metadata", "generateName"]] == "web-")
    }

    @Test func invalidNameIsUnprocessable() async throws {
        let c = try await TestCluster()
        let e = await apiError { _ = try await c.registry.create(c.r("configmaps"), namespace: "default", object: ["metadata": ["name": "Bad_Name"]]) }
        #expect(e?.code == 422)
        #expect(e?.message.hasPrefix("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\"") == true)
    }

    @Test func staleResourceVersionConflicts() async throws {
        let c = try await TestCluster()
        let v1 = try await c.configMap("cm")
        var next = v1
        next["data"] = ["k": "v2"]
        let v2 = try await c.registry.update(c.r("configmaps"), namespace: "default", name: "cm", object: next)
        #expect(v2.resourceVersion != v1.resourceVersion)
        next["data"] = ["k": "v3"]
        let e = await apiError { _ = try await c.registry.update(c.r("configmaps"), namespace: "default", name: "cm", object: next) }
        #expect(e?.code == 409)
        #expect(e?.reason == "Conflict")
        #expect(e?.message == "Operation cannot be fulfilled on configmaps \"cm\": the object has been modified; please apply your changes to the latest version and try again")
        // Without a resourceVersion the update is unconditional.
        next.resourceVersion = nil
        let v3 = try await c.registry.update(c.r("configmaps"), namespace: "default", name: "cm", object: next)
        #expect(v3["data"] == ["k": "v3"])
    }

    @Test func updateKeepsIdentityAndSkipsNoOps() async throws {
        let c = try await TestCluster()
        let v1 = try await c.configMap("cm")
        var next = v1
        // A UID in the body is a precondition (409 for another object), as kube-apiserver's
        // defaultUpdatedObjectInfo makes it; the creation time is the server's.
        next[path: ["metadata", "uid"]] = "forged"
        await #expect { _ = try await c.registry.update(c.r("configmaps"), namespace: "default", name: "cm", object: next) }
            throws: { ($0 as? APIError)?.code == 409 }
        next[path: ["metadata", "uid"]] = nil
        next[path: ["metadata", "creationTimestamp"]] = "2000-01-01T00:00:00Z"
        let same = try await c.registry.update(c.r("configmaps"), namespace: "default", name: "cm", object: next)
        #expect(same.metadataUID == v1.metadataUID)
        #expect(same.resourceVersion == v1.resourceVersion, "an update that changes nothing writes nothing")
        #expect(try await c.store.currentRevision() == Int64(v1.resourceVersion!)!)
    }

    /// (what the update changes, the generation after it)
    static let generationCases: [(String, Int64)] = [("label", 1), ("annotation", 1), ("replicas", 2), ("image", 2), ("status", 1)]

    @Test(arguments: generationCases)
    func generationBumpsOnlyOnSpecChanges(change: String, generation: Int64) async throws {
        let c = try await TestCluster()
        let deployments = c.r("deployments", "apps")
        let created = try await c.registry.create(deployments, namespace: "default", object: WorkloadFixtures.deployment())
        #expect(created[path: ["metadata", "generation"]] == 1)
        var next = created
        var subresource: String? = nil
        switch change {
        case "label": next[path: ["metadata", "labels", "tier"]] = "web"
        case "annotation": next[path: ["metadata", "annotations", "note"]] = "x"
        case "replicas": next[path: ["spec", "replicas"]] = 3
        case "image": next[path: ["spec", "template", "spec", "containers"]] = [["name": "c", "image": "busybox:latest"]]
        default:
            next["status"] = ["replicas": 2]
            subresource = "status"
        }
        let updated = try await c.registry.update(deployments, namespace: "default", name: "web", object: next, subresource: subresource)
        #expect(updated[path: ["metadata", "generation"]] == .int(generation))
    }

    @Test func statusSubresourceSplitsSpecAndStatus() async throws {
        let c = try await TestCluster()
        let deployments = c.r("deployments", "apps")
        var obj = WorkloadFixtures.deployment()
        obj["status"] = ["replicas": 7]
        let created = try await c.registry.create(deployments, namespace: "default", object: obj)
        #expect(created["status"] == [:], "status is cleared on create")
        var main = created
        main["status"] = ["replicas": 9]
        main[path: ["spec", "replicas"]] = 4
        let afterMain = try await c.registry.update(deployments, namespace: "default", name: "web", object: main)
        #expect(afterMain["status"] == [:])
        #expect(afterMain[path: ["spec", "replicas"]] == 4)
        var status = afterMain
        status["status"] = ["replicas": 4]
        status[path: ["spec", "replicas"]] = 100
        let afterStatus = try await c.registry.update(deployments, namespace: "default", name: "web", object: status, subresource: "status")
        #expect(afterStatus["status"] == ["replicas": 4])
        #expect(afterStatus[path: ["spec", "replicas"]] == 4)
    }

    @Test func dryRunWritesNothing() async throws {
        let c = try await TestCluster()
        let before = try await c.store.currentRevision()
        let created = try await c.registry.create(c.r("configmaps"), namespace: "default", object: ["metadata": ["name": "dry"]], dryRun: true)
        #expect(created.metadataName == "dry")
        #expect(try await c.store.currentRevision() == before)
        #expect(await apiError { _ = try await c.registry.get(c.r("configmaps"), namespace: "default", name: "dry") }?.code == 404)

        let real = try await c.configMap("real")
        var next = real
        next["data"] = ["k": "changed"]
        let dryUpdate = try await c.registry.update(c.r("configmaps"), namespace: "default", name: "real", object: next, dryRun: true)
        #expect(dryUpdate["data"] == ["k": "changed"])
        var options = DeletionOptions()
        options.dryRun = true
        let (_, deleted) = try await c.registry.delete(c.r("configmaps"), namespace: "default", name: "real", options: options)
        #expect(deleted)
        let stored = try await c.registry.get(c.r("configmaps"), namespace: "default", name: "real")
        #expect(stored == real)
    }
}
