import Foundation
import OrcaAPI
import OrcaStore
import Testing
@testable import OrcaAPIServer

/// The `pods/eviction` subresource against PodDisruptionBudgets, at the registry.
@Suite struct EvictionTests {
    /// Creates a pod labelled `app=web` and writes its phase and Ready condition.
    func pod(_ c: TestCluster, _ name: String, phase: String = "Running", ready: Bool = true, node: String? = nil) async throws {
        let pods = c.r("pods")
        var spec = TestCluster.podSpec
        if let node { spec["nodeName"] = .string(node) }
        _ = try await c.registry.create(pods, namespace: "default", object: ["metadata": ["name": .string(name), "labels": ["app": "web"]], "spec": spec])
        var obj = try await c.registry.get(pods, namespace: "default", name: name)
        obj[path: ["status", "phase"]] = .string(phase)
        obj[path: ["status", "conditions"]] = [["type": "Ready", "status": .string(ready ? "True" : "False")]]
        _ = try await c.registry.update(pods, namespace: "default", name: name, object: obj, subresource: "status")
    }

    /// Creates a budget selecting `app=web` and, when given, writes the status the disruption controller would.
    func budget(_ c: TestCluster, _ name: String = "web", spec: JSONValue = ["minAvailable": 2], status: JSONValue? = nil) async throws {
        let pdbs = c.r("poddisruptionbudgets", "policy")
        var fullSpec = spec
        fullSpec["selector"] = ["matchLabels": ["app": "web"]]
        _ = try await c.registry.create(pdbs, namespace: "default", object: ["metadata": ["name": .string(name)], "spec": fullSpec])
        guard let status else { return }
        var obj = try await c.registry.get(pdbs, namespace: "default", name: name)
        obj["status"] = status
        _ = try await c.registry.update(pdbs, namespace: "default", name: name, object: obj, subresource: "status")
    }

    /// The status of a budget of three Ready pods that must keep `desired`.
    func processed(desired: Int64, healthy: Int64 = 3) -> JSONValue {
        let allowed = max(healthy - desired, 0)
        return ["observedGeneration": 1, "expectedPods": 3, "currentHealthy": .int(healthy), "desiredHealthy": .int(desired),
                "disruptionsAllowed": .int(allowed),
                "conditions": [["type": "DisruptionAllowed", "status": .string(allowed > 0 ? "True" : "False"),
                                "reason": .string(allowed > 0 ? "SufficientPods" : "InsufficientPods"), "message": "",
                                "observedGeneration": 1, "lastTransitionTime": "2023-11-14T22:00:00Z"]]]
    }

    func evict(_ c: TestCluster, _ name: String, body: JSONValue? = nil) async throws -> JSONValue {
        let eviction = body ?? ["apiVersion": "policy/v1", "kind": "Eviction", "metadata": ["name": .string(name), "namespace": "default"]]
        return try await c.registry.evict(c.r("pods"), namespace: "default", name: name, eviction: eviction)
    }

    func exists(_ c: TestCluster, _ name: String) async -> Bool {
        await apiError { _ = try await c.registry.get(c.r("pods"), namespace: "default", name: name) } == nil
    }

    @Test func withoutABudgetTheEvictionDeletes() async throws {
        let c = try await TestCluster()
        try await pod(c, "p0")
        let status = try await evict(c, "p0")
        #expect(status["status"] == "Success")
        #expect(status["code"] == 201)
        #expect(await !exists(c, "p0"))
        #expect(await apiError { _ = try await evict(c, "p0") }?.code == 404)
    }

    @Test func aBudgetAllowingOneDisruptionAllowsOneEviction() async throws {
        let c = try await TestCluster()
        for i in 0..<3 { try await pod(c, "p\(i)") }
        try await budget(c, status: processed(desired: 2))

        let first = try await evict(c, "p0")
        #expect(first["status"] == "Success")
        #expect(await !exists(c, "p0"))
        let pdb = try await c.registry.get(c.r("poddisruptionbudgets", "policy"), namespace: "default", name: "web")
        #expect(pdb[path: ["status", "disruptionsAllowed"]] == 0)
        #expect(pdb[path: ["status", "disruptedPods", "p0"]] == "2023-11-14T22:13:20Z")
        let condition = pdb[path: ["status", "conditions"]]?.arrayValue?.first
        #expect(condition?["status"] == "False")
        #expect(condition?["reason"] == "InsufficientPods")
        #expect(condition?["lastTransitionTime"] == "2023-11-14T22:13:20Z")

        let e = await apiError { _ = try await evict(c, "p1") }
        #expect(e?.code == 429)
        #expect(e?.reason == "TooManyRequests")
        #expect(e?.message == "Cannot evict pod as it would violate the pod's disruption budget.")
        let cause = e?.details?["causes"]?.arrayValue?.first
        #expect(cause?["reason"] == "DisruptionBudget")
        #expect(cause?["message"] == "The disruption budget web needs 2 healthy pods and has 3 currently")
        #expect(await exists(c, "p1"))
        // The refused pod was not marked.
        let p1 = try await c.registry.get(c.r("pods"), namespace: "default", name: "p1")
        #expect(p1[path: ["status", "conditions"]]?.arrayValue?.contains { $0["type"] == "DisruptionTarget" } == false)
    }

    @Test func aBudgetNotYetProcessedForItsGenerationRefuses() async throws {
        let c = try await TestCluster()
        try await pod(c, "p0")
        // Never processed: observedGeneration is missing.
        try await budget(c, spec: ["maxUnavailable": 1])
        let e = await apiError { _ = try await evict(c, "p0") }
        #expect(e?.code == 429)
        #expect(e?.details?["causes"]?.arrayValue?.first?["message"] == "The disruption budget web is still being processed by the server.")
        #expect(e?.retryAfterSeconds == 10)

        // Processed, then the spec changes: generation 2 against observedGeneration 1.
        let pdbs = c.r("poddisruptionbudgets", "policy")
        var obj = try await c.registry.get(pdbs, namespace: "default", name: "web")
        obj["status"] = processed(desired: 1)
        _ = try await c.registry.update(pdbs, namespace: "default", name: "web", object: obj, subresource: "status")
        obj = try await c.registry.get(pdbs, namespace: "default", name: "web")
        obj[path: ["spec", "maxUnavailable"]] = 2
        let updated = try await c.registry.update(pdbs, namespace: "default", name: "web", object: obj)
        #expect(updated[path: ["metadata", "generation"]] == 2)
        let stale = await apiError { _ = try await evict(c, "p0") }
        #expect(stale?.code == 429)
        #expect(stale?.details?["causes"]?.arrayValue?.first?["message"] == "The disruption budget web is still being processed by the server.")
        #expect(await exists(c, "p0"))
    }

    @Test func podsThatAreNotRunningIgnoreTheBudget() async throws {
        let c = try await TestCluster()
        try await pod(c, "pending", phase: "Pending", ready: false)
        try await pod(c, "done", phase: "Succeeded", ready: false)
        try await budget(c, status: processed(desired: 3))
        _ = try await evict(c, "pending")
        _ = try await evict(c, "done")
        #expect(await !exists(c, "pending"))
        #expect(await !exists(c, "done"))
    }

    @Test func unhealthyPodsFollowTheUnhealthyPodEvictionPolicy() async throws {
        let c = try await TestCluster()
        try await pod(c, "sick", ready: false)
        // Two of three healthy, three wanted: the budget is not met.
        try await budget(c, status: processed(desired: 3, healthy: 2))
        #expect(await apiError { _ = try await evict(c, "sick") }?.code == 429)

        let c2 = try await TestCluster()
        try await pod(c2, "sick", ready: false)
        try await budget(c2, spec: ["minAvailable": 3, "unhealthyPodEvictionPolicy": "AlwaysAllow"], status: processed(desired: 3, healthy: 2))
        _ = try await evict(c2, "sick")
        #expect(await !exists(c2, "sick"))
        // The budget was not spent.
        let pdb = try await c2.registry.get(c2.r("poddisruptionbudgets", "policy"), namespace: "default", name: "web")
        #expect(pdb[path: ["status", "disruptedPods"]] == nil)

        // IfHealthyBudget lets an unready pod go while the budget is met.
        let c3 = try await TestCluster()
        try await pod(c3, "sick", ready: false)
        try await budget(c3, spec: ["minAvailable": 2], status: processed(desired: 2, healthy: 2))
        _ = try await evict(c3, "sick")
        #expect(await !exists(c3, "sick"))
    }

    @Test func twoBudgetsForOnePodAreAnError() async throws {
        let c = try await TestCluster()
        try await pod(c, "p0")
        try await budget(c, "a", status: processed(desired: 1))
        try await budget(c, "b", status: processed(desired: 1))
        let e = await apiError { _ = try await evict(c, "p0") }
        #expect(e?.code == 500)
        #expect(e?.message == "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
        #expect(await exists(c, "p0"))
    }

    @Test func aBoundPodIsMarkedAsADisruptionTargetAndTerminatesGracefully() async throws {
        let c = try await TestCluster()
        try await pod(c, "p0", node: "n1")
        _ = try await evict(c, "p0")
        let p0 = try await c.registry.get(c.r("pods"), namespace: "default", name: "p0")
        #expect(p0.deletionTimestamp != nil)
        let target = p0[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "DisruptionTarget" }
        #expect(target?["status"] == "True")
        #expect(target?["reason"] == "EvictionByEvictionAPI")
        #expect(target?["message"] == "Eviction API: evicting")
    }

    @Test func theEvictionMustNameThePodInTheURL() async throws {
        let c = try await TestCluster()
        try await pod(c, "p0")
        let e = await apiError { _ = try await evict(c, "p0", body: ["apiVersion": "policy/v1", "kind": "Eviction", "metadata": ["name": "other"]]) }
        #expect(e?.code == 400)
        #expect(e?.message == "name in URL does not match name in Eviction object")
        // policy/v1beta1 is accepted too.
        _ = try await evict(c, "p0", body: ["apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": ["name": "p0"]])
        #expect(await !exists(c, "p0"))
    }
}
