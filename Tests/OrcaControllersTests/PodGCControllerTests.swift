import Foundation
import OrcaClient
import OrcaControllers
import Testing

/// The pod garbage collector on an in-process registry and a manual clock (a pass every 20 s).
@Suite struct PodGCControllerTests {
    @Test func podsOfADeletedNodeAreForceDeletedOnceTheNodeIsConfirmedGone() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(c.readyNode("gone"))
        try await c.client.create(c.readyNode("here"))
        try await c.client.create(c.pod("on-gone", node: "gone"))
        try await c.client.create(c.pod("on-here", node: "here"))
        let run = await start(c)
        defer { run.cancel() }
        await c.clock.waitForSleepers(1)

        try await c.client.delete(Node.self, namespace: nil, name: "gone")
        let nodes = await c.informers.informer(Node.self)
        #expect(await eventually { await nodes.get(namespace: nil, name: "gone") == nil })
        // The next pass finds the node missing and quarantines it for 40 s; the pods stay meanwhile.
        for _ in 0..<2 {
            c.clock.advance(by: .seconds(20))
            await c.clock.waitForSleepers(1)
            #expect(try await exists(c, "on-gone"))
        }
        // After the quarantine the API server confirms the node is gone: its pod is force-deleted.
        c.clock.advance(by: .seconds(20))
        await c.clock.waitForSleepers(1)
        #expect(try await !exists(c, "on-gone"))
        #expect(try await exists(c, "on-here"))
    }

    @Test func terminatedPodsBeyondTheThresholdGoEvictedFirstThenOldest() async throws {
        let c = try await ControllerTestCluster()
        for (name, phase, reason) in [("oldest", "Succeeded", nil), ("evicted", "Failed", "Evicted"), ("middle", "Succeeded", nil),
                                      ("newest", "Failed", nil), ("running", "Running", nil)] as [(String, String, String?)] {
            try await c.client.create(c.pod(name))
            var pod = try await c.client.get(Pod.self, namespace: "default", name: name)
            pod.status?.phase = phase
            pod.status?.reason = reason
            try await c.client.update(pod, subresource: "status")
            c.clock.advance(by: .seconds(1))
        }
        let run = await start(c, terminatedPodThreshold: 2)
        defer { run.cancel() }
        await c.clock.waitForSleepers(1)
        #expect(try await !exists(c, "evicted"))
        #expect(try await !exists(c, "oldest"))
        for name in ["middle", "newest", "running"] { #expect(try await exists(c, name), "\(name)") }
    }

    @Test func terminatingPodsOnAnOutOfServiceNodeAreForceDeleted() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(Node(metadata: ObjectMeta(name: "dead"),
                                       spec: NodeSpec(taints: [Taint(effect: "NoExecute", key: WellKnownTaints.outOfService, value: "nodeshutdown")]),
                                       status: NodeStatus(conditions: [NodeCondition(status: "False", type: "Ready")])))
        try await c.client.create(c.readyNode("busy"))
        try await c.client.create(c.pod("stuck", node: "dead"))
        try await c.client.create(c.pod("stopping", node: "busy"))
        // Graceful deletions: the pods are bound, so they wait for their kubelet.
        try await c.client.delete(Pod.self, namespace: "default", name: "stuck")
        try await c.client.delete(Pod.self, namespace: "default", name: "stopping")
        #expect(try await exists(c, "stuck"))
        #expect(try await exists(c, "stopping"))
        let run = await start(c)
        defer { run.cancel() }
        await c.clock.waitForSleepers(1)
        #expect(try await !exists(c, "stuck"))
        let stopping = try await c.client.get(Pod.self, namespace: "default", name: "stopping")
        #expect(stopping.metadata?.deletionTimestamp != nil && stopping.status?.phase == "Pending")
    }

    // MARK: helpers

    func start(_ c: ControllerTestCluster, terminatedPodThreshold: Int = PodGCController.defaultTerminatedPodThreshold) async -> Task<Void, Never> {
        let gc = await PodGCController.controller(client: c.client, informers: c.informers, clock: c.clock,
                                                  terminatedPodThreshold: terminatedPodThreshold)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [gc])
        return Task { await manager.run() }
    }

    func exists(_ c: ControllerTestCluster, _ name: String) async throws -> Bool {
        do {
            _ = try await c.client.get(Pod.self, namespace: "default", name: name)
            return true
        } catch let e as APIError where e.isNotFound {
            return false
        }
    }
}
