import Foundation
import OrcaClient
import OrcaControllers
import Testing

/// The taint eviction controller on an in-process registry and a manual clock: pods on a
/// node with a `NoExecute` taint go at once, after their `tolerationSeconds`, or never.
@Suite struct TaintEvictionControllerTests {
    static let key = "example.com/maintenance"

    @Test func podsGoAtOnceAfterTheirTolerationOrNever() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(tainted("drained", at: c.clock.now))
        try await c.client.create(c.readyNode("healthy"))
        try await c.client.create(pod(c, "intolerant", node: "drained"))
        try await c.client.create(pod(c, "five-seconds", node: "drained", seconds: 5))
        try await c.client.create(pod(c, "forever", node: "drained", seconds: nil))
        try await c.client.create(pod(c, "elsewhere", node: "healthy"))
        let run = await start(c)
        defer { run.cancel() }

        // Not tolerated: deleted at once, gracefully, after a DisruptionTarget condition and an event.
        #expect(try await eventually { try await isDeleted(c, "intolerant") })
        let intolerant = try await c.client.get(Pod.self, namespace: "default", name: "intolerant")
        #expect(intolerant.metadata?.deletionGracePeriodSeconds == 30)
        let target = intolerant.status?.conditions?.first { $0.type == "DisruptionTarget" }
        #expect(target?.status == "True" && target?.reason == "DeletionByTaintManager"
            && target?.message == "Taint manager: deleting due to NoExecute taint")
        #expect(try await eventually { try await hasEvent(c, "Marking for deletion Pod default/intolerant") })

        // Tolerated for 5 s: still there after 4, deleted after 6.
        await c.clock.waitForSleepers(1)
        c.clock.advance(by: .seconds(4))
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await !isDeleted(c, "five-seconds"))
        c.clock.advance(by: .seconds(2))
        #expect(try await eventually { try await isDeleted(c, "five-seconds") })
        #expect(try await eventually { try await hasEvent(c, "Marking for deletion Pod default/five-seconds") })

        // Tolerated without a limit, or on a node without the taint: never.
        c.clock.advance(by: .seconds(3600))
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await !isDeleted(c, "forever"))
        #expect(try await !isDeleted(c, "elsewhere"))
    }

    @Test func nothingHappensWhenTheTaintGoesFirst() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(tainted("drained", at: c.clock.now))
        try await c.client.create(pod(c, "patient", node: "drained", seconds: 10))
        let run = await start(c)
        defer { run.cancel() }
        await c.clock.waitForSleepers(1)
        c.clock.advance(by: .seconds(5))
        var node = try await c.client.get(Node.self, namespace: nil, name: "drained")
        node.spec?.taints = nil
        try await c.client.update(node)
        #expect(try await eventually { try await hasEvent(c, "Cancelling deletion of Pod default/patient") })
        c.clock.advance(by: .seconds(10))
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await !isDeleted(c, "patient"))
    }

    @Test func aPodBoundAfterTheTaintGetsItsWholeToleration() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(tainted("drained", at: c.clock.now))
        let run = await start(c)
        defer { run.cancel() }
        c.clock.advance(by: .seconds(100))
        try await c.client.create(pod(c, "late", node: "drained", seconds: 30))
        await c.clock.waitForSleepers(1)
        c.clock.advance(by: .seconds(29))
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await !isDeleted(c, "late"))
        c.clock.advance(by: .seconds(2))
        #expect(try await eventually { try await isDeleted(c, "late") })
    }

    // MARK: helpers

    func start(_ c: ControllerTestCluster) async -> Task<Void, Never> {
        let controller = await TaintEvictionController.controller(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [controller])
        return Task { await manager.run() }
    }

    /// A Ready node with the `NoExecute` taint `key`, added at `at`.
    func tainted(_ name: String, at: Date) -> Node {
        Node(metadata: ObjectMeta(name: name),
             spec: NodeSpec(taints: [Taint(effect: "NoExecute", key: Self.key, timeAdded: KubernetesTime.string(at))]),
             status: NodeStatus(conditions: [NodeCondition(status: "True", type: "Ready")]))
    }

    /// A pod bound to `node`, not tolerating the taint.
    func pod(_ c: ControllerTestCluster, _ name: String, node: String) -> Pod {
        c.pod(name, node: node)
    }

    /// A pod bound to `node` that tolerates the taint for `seconds` (forever when nil).
    func pod(_ c: ControllerTestCluster, _ name: String, node: String, seconds: Int64?) -> Pod {
        var pod = c.pod(name, node: node)
        pod.spec?.tolerations = [Toleration(effect: "NoExecute", key: Self.key, operator: "Exists", tolerationSeconds: seconds)]
        return pod
    }

    func isDeleted(_ c: ControllerTestCluster, _ name: String) async throws -> Bool {
        try await c.client.get(Pod.self, namespace: "default", name: name).metadata?.deletionTimestamp != nil
    }

    func hasEvent(_ c: ControllerTestCluster, _ message: String) async throws -> Bool {
        try await c.client.list(Event.self, namespace: "default").contains { $0.reason == "TaintManagerEviction" && $0.message == message }
    }
}
