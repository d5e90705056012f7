import Foundation
import OrcaAPI
import OrcaStore
import Testing
@testable import OrcaAPIServer

/// Deletion: finalizers, graceful pod deletion, preconditions, namespaces.
@Suite struct RegistryDeletionTests {
    @Test func plainObjectsGoAtOnce() async throws {
        let c = try await TestCluster()
        try await c.configMap("cm")
        let (obj, deleted) = try await c.registry.delete(c.r("configmaps"), namespace: "default", name: "cm")
        #expect(deleted)
        #expect(obj.metadataName == "cm")
        #expect(await apiError { _ = try await c.registry.get(c.r("configmaps"), namespace: "default", name: "cm") }?.code == 404)
        #expect(await apiError { _ = try await c.registry.delete(c.r("configmaps"), namespace: "default", name: "cm") }?.code == 404)
    }

    @Test func finalizersHoldTheObjectUntilRemoved() async throws {
        let c = try await TestCluster()
        let cms = c.r("configmaps")
        _ = try await c.registry.create(cms, namespace: "default", object: ["metadata": ["name": "held", "finalizers": ["example.com/hold"]]])
        let (marked, deleted) = try await c.registry.delete(cms, namespace: "default", name: "held")
        #expect(!deleted)
        #expect(marked.deletionTimestamp == "2023-11-14T22:13:20Z")
        #expect(marked[path: ["metadata", "deletionGracePeriodSeconds"]] == 0)

        // No new finalizers once deleting.
        var more = marked
        more[path: ["metadata", "finalizers"]] = ["example.com/hold", "example.com/other"]
        let e = await apiError { _ = try await c.registry.update(cms, namespace: "default", name: "held", object: more) }
        #expect(e?.code == 422)
        #expect(e?.message.contains("no new finalizers can be added if the object is being deleted") == true)

        // A second delete changes nothing.
        let (again, _) = try await c.registry.delete(cms, namespace: "default", name: "held")
        #expect(again.resourceVersion == marked.resourceVersion)

        // Removing the last finalizer completes the deletion.
        var released = marked
        released[path: ["metadata", "finalizers"]] = []
        _ = try await c.registry.update(cms, namespace: "default", name: "held", object: released)
        #expect(await apiError { _ = try await c.registry.get(cms, namespace: "default", name: "held") }?.code == 404)
    }

    @Test func foregroundDeletionAddsItsFinalizer() async throws {
        let c = try await TestCluster()
        let deployments = c.r("deployments", "apps")
        _ = try await c.registry.create(deployments, namespace: "default", object: WorkloadFixtures.deployment())
        var options = DeletionOptions()
        options.propagationPolicy = "Foreground"
        let (obj, deleted) = try await c.registry.delete(deployments, namespace: "default", name: "web", options: options)
        #expect(!deleted)
        #expect(obj.finalizers == ["foregroundDeletion"])
        #expect(obj.deletionTimestamp != nil)
    }

    @Test func boundPodsTerminateGracefully() async throws {
        let c = try await TestCluster()
        let pods = c.r("pods")
        _ = try await c.registry.create(pods, namespace: "default", object: WorkloadFixtures.pod(nodeName: "node-1"))
        let (marked, deleted) = try await c.registry.delete(pods, namespace: "default", name: "p")
        #expect(!deleted)
        #expect(marked[path: ["metadata", "deletionGracePeriodSeconds"]] == 30)
        #expect(marked.deletionTimestamp == "2023-11-14T22:13:50Z", "now + terminationGracePeriodSeconds")

        // A shorter grace period shortens it; a longer one is ignored.
        var shorter = DeletionOptions()
        shorter.gracePeriodSeconds = 5
        let (short, _) = try await c.registry.delete(pods, namespace: "default", name: "p", options: shorter)
        #expect(short[path: ["metadata", "deletionGracePeriodSeconds"]] == 5)
        var longer = DeletionOptions()
        longer.gracePeriodSeconds = 60
        let (still, _) = try await c.registry.delete(pods, namespace: "default", name: "p", options: longer)
        #expect(still[path: ["metadata", "deletionGracePeriodSeconds"]] == 5)

        // The node agent confirms with grace period 0.
        c.clock.advance(by: .seconds(5))
        var now = DeletionOptions()
        now.gracePeriodSeconds = 0
        let (_, gone) = try await c.registry.delete(pods, namespace: "default", name: "p", options: now)
        #expect(gone)
        #expect(await apiError { _ = try await c.registry.get(pods, namespace: "default", name: "p") }?.code == 404)
    }

    @Test func unscheduledPodsGoAtOnce() async throws {
        let c = try await TestCluster()
        let pods = c.r("pods")
        _ = try await c.registry.create(pods, namespace: "default", object: WorkloadFixtures.pod())
        let (_, deleted) = try await c.registry.delete(pods, namespace: "default", name: "p")
        #expect(deleted)
    }

    @Test func preconditionsMustMatch() async throws {
        let c = try await TestCluster()
        let cm = try await c.configMap("cm")
        var wrongUID = DeletionOptions()
        wrongUID.preconditionUID = "someone-else"
        let e1 = await apiError { _ = try await c.registry.delete(c.r("configmaps"), namespace: "default", name: "cm", options: wrongUID) }
        #expect(e1?.code == 409)
        #expect(e1?.message.contains("Precondition failed: UID in precondition: someone-else") == true)
        var wrongRV = DeletionOptions()
        wrongRV.preconditionResourceVersion = "1"
        let e2 = await apiError { _ = try await c.registry.delete(c.r("configmaps"), namespace: "default", name: "cm", options: wrongRV) }
        #expect(e2?.code == 409)
        var right = DeletionOptions()
        right.preconditionUID = cm.metadataUID
        right.preconditionResourceVersion = cm.resourceVersion
        #expect(try await c.registry.delete(c.r("configmaps"), namespace: "default", name: "cm", options: right).deleted)
    }

    @Test func namespaceTerminatesThenGoesWhenEmptiedAndFinalized() async throws {
        let c = try await TestCluster(namespaces: ["default", "team"])
        let namespaces = c.r("namespaces"), cms = c.r("configmaps")
        let created = try await c.registry.get(namespaces, namespace: nil, name: "team")
        #expect(created[path: ["status", "phase"]] == "Active")
        #expect(created[path: ["spec", "finalizers"]] == ["kubernetes"])
        #expect(created[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] == "team")
        _ = try await c.registry.create(cms, namespace: "team", object: ["metadata": ["name": "content"]])

        let (terminating, deleted) = try await c.registry.delete(namespaces, namespace: nil, name: "team")
        #expect(!deleted)
        #expect(terminating[path: ["status", "phase"]] == "Terminating")
        #expect(terminating.deletionTimestamp != nil)

        // No new content while terminating.
        let e = await apiError { _ = try await c.registry.create(cms, namespace: "team", object: ["metadata": ["name": "late"]]) }
        #expect(e?.code == 403)
        #expect(e?.message == "configmaps is forbidden: unable to create new content in namespace team because it is being terminated")

        // The namespace controller empties it, then clears spec.finalizers (the finalize subresource).
        _ = try await c.registry.delete(cms, namespace: "team", name: "content")
        let empty = try await c.registry.list(cms, namespace: "team", options: ListOptions())
        #expect(empty["items"] == [])
        _ = try await c.registry.guaranteedUpdate(namespaces, namespace: nil, name: "team") { cur in
            var next = cur
            next[path: ["spec", "finalizers"]] = []
            return next
        }
        #expect(await apiError { _ = try await c.registry.get(namespaces, namespace: nil, name: "team") }?.code == 404)
    }
}
