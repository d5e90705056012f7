import Foundation
import OrcaClient
import OrcaControllers
import Synchronization
import Testing

/// The node lifecycle controller on an in-process registry and a manual clock: nodes that
/// stop sending heartbeats (status or lease) become Unknown after the grace period, get
/// tainted, and their pods not ready.
@Suite struct NodeLifecycleControllerTests {
    static let monitored = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]

    @Test func aNodeWithoutHeartbeatsBecomesUnknownAfterTheGracePeriodOnly() async throws {
        let c = try await cluster()
        try await heartbeatingNode(c, "dead")
        try await heartbeatingNode(c, "alive")
        try await readyPod(c, "on-dead", node: "dead")
        try await readyPod(c, "on-alive", node: "alive")
        let run = await start(c, lookingAt: 2)
        defer { run.cancel() }
        // Each node is looked at and waits for its deadline (40 s).
        c.clock.advance(by: .seconds(30))
        try await renewLease(c, "alive")
        c.clock.advance(by: .seconds(9))
        // 39 s without a heartbeat from "dead": nothing happens yet.
        try await Task.sleep(for: .milliseconds(50))
        var dead = try await node(c, "dead")
        #expect(dead.condition("Ready")?.status == "True")
        #expect(dead.spec?.taints == nil)
        #expect(try await podReady(c, "on-dead") == "True")

        c.clock.advance(by: .seconds(2))
        let stamp = KubernetesTime.string(c.clock.now)
        #expect(try await eventually { try await node(c, "dead").spec?.taints?.count == 2 })
        dead = try await node(c, "dead")
        for type in Self.monitored {
            let condition = dead.condition(type)
            #expect(condition?.status == "Unknown", "\(type)")
            #expect(condition?.reason == "NodeStatusUnknown" && condition?.message == "Kubelet stopped posting node status.", "\(type)")
            #expect(condition?.lastTransitionTime == stamp, "\(type)")
        }
        let taints = Set((dead.spec?.taints ?? []).map { "\($0.key ?? ""):\($0.effect ?? ""):\($0.timeAdded ?? "")" })
        #expect(taints == ["\(WellKnownTaints.unreachable):NoSchedule:\(stamp)", "\(WellKnownTaints.unreachable):NoExecute:\(stamp)"])
        #expect(try await eventually { try await podReady(c, "on-dead") == "False" })
        #expect(try await eventually { try await hasEvent(c, reason: "NodeNotReady", message: "Node dead status is now: NodeNotReady") })
        #expect(try await eventually { try await hasEvent(c, reason: "NodeNotReady", message: "Node is not ready") })
        // The node whose lease was renewed stays Ready, and so do its pods.
        let alive = try await node(c, "alive")
        #expect(alive.isReady && alive.spec?.taints == nil)
        #expect(try await podReady(c, "on-alive") == "True")
    }

    @Test func leaseRenewalsAloneKeepANodeReady() async throws {
        let c = try await cluster()
        try await heartbeatingNode(c, "leased")
        try await heartbeatingNode(c, "other")
        let run = await start(c, lookingAt: 2)
        defer { run.cancel() }
        // The lease is renewed every 10 s for 90 s; the Ready condition's heartbeat stays at 0 s.
        var lastRenewal = c.clock.now
        for _ in 0..<9 {
            c.clock.advance(by: .seconds(10))
            try await renewLease(c, "leased")
            try await renewLease(c, "other")
            lastRenewal = c.clock.now
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await node(c, "leased").condition("Ready")?.status == "True")
        // Then the renewals stop: Unknown, but never before 40 s after the last one.
        #expect(try await eventually {
            c.clock.advance(by: .seconds(5))
            return try await node(c, "leased").condition("Ready")?.status == "Unknown"
        })
        let transition = try #require(KubernetesTime.date(try await node(c, "leased").condition("Ready")?.lastTransitionTime))
        #expect(transition >= lastRenewal.addingTimeInterval(40))
    }

    @Test func theTaintFollowsTheReadyConditionAndIsSwappedInOneUpdate() async throws {
        let c = try await cluster()
        try await heartbeatingNode(c, "flaky")
        try await heartbeatingNode(c, "steady")
        let run = await start(c, lookingAt: 2)
        defer { run.cancel() }
        c.clock.advance(by: .seconds(30))
        try await renewLease(c, "steady")
        c.clock.advance(by: .seconds(11))
        #expect(try await eventually { try await noExecuteKeys(c, "flaky") == [WellKnownTaints.unreachable] })

        // The kubelet comes back but reports NotReady: unreachable turns into not-ready with
        // no moment without a NoExecute taint (one update), and the NoSchedule taint follows.
        let before = try await node(c, "flaky")
        let seen = Recorded()
        let watcher = try await watchNoExecuteKeys(c, "flaky", after: before.metadata?.resourceVersion, into: seen)
        defer { watcher.cancel() }
        try await postStatus(c, "flaky", ready: "False")
        #expect(try await eventually {
            let n = try await node(c, "flaky")
            return try await noExecuteKeys(c, "flaky") == [WellKnownTaints.notReady]
                && n.spec?.taints?.contains { $0.key == WellKnownTaints.notReady && $0.effect == "NoSchedule" } == true
                && n.spec?.taints?.contains { $0.key == WellKnownTaints.unreachable } == false
        })
        #expect(await eventually { seen.states.last == [WellKnownTaints.notReady] })
        #expect(seen.states.allSatisfy { $0 == [WellKnownTaints.unreachable] || $0 == [WellKnownTaints.notReady] }, "\(seen.states)")

        // Ready again (the next heartbeat): every taint goes.
        c.clock.advance(by: .seconds(1))
        try await postStatus(c, "flaky", ready: "True")
        #expect(try await eventually { try await node(c, "flaky").spec?.taints == nil })
    }

    @Test func noNodeIsTaintedNoExecuteWhileNoNodeIsReady() async throws {
        let c = try await cluster()
        try await heartbeatingNode(c, "only")
        let run = await start(c)
        defer { run.cancel() }
        await c.clock.waitForSleepers(1)
        c.clock.advance(by: .seconds(41))
        // Unknown and unschedulable, but with every node down the controller evicts nothing.
        #expect(try await eventually {
            try await node(c, "only").spec?.taints?.map(\.effect) == ["NoSchedule"]
        })
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await noExecuteKeys(c, "only").isEmpty)
        #expect(try await node(c, "only").condition("Ready")?.status == "Unknown")
        // A Ready node appears: the cluster is no longer fully disrupted, the taint comes.
        try await heartbeatingNode(c, "new")
        #expect(try await eventually { try await noExecuteKeys(c, "only") == [WellKnownTaints.unreachable] })
        #expect(try await noExecuteKeys(c, "new").isEmpty)
    }

    @Test func aNodeThatNeverPostedStatusGetsTheStartupGracePeriod() async throws {
        let c = try await cluster()
        try await c.client.create(Node(metadata: ObjectMeta(name: "silent")))
        let run = await start(c)
        defer { run.cancel() }
        await c.clock.waitForSleepers(1)
        c.clock.advance(by: .seconds(41))
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await node(c, "silent").status?.conditions == nil)
        c.clock.advance(by: .seconds(20))
        #expect(try await eventually { try await node(c, "silent").status?.conditions?.count == 4 })
        let silent = try await node(c, "silent")
        for type in Self.monitored {
            let condition = silent.condition(type)
            #expect(condition?.status == "Unknown" && condition?.reason == "NodeStatusNeverUpdated"
                && condition?.message == "Kubelet never posted node status.", "\(type)")
        }
    }

    @Test func aPodBoundToANodeThatIsNotReadyIsMarkedNotReady() async throws {
        let c = try await cluster()
        try await heartbeatingNode(c, "down")
        try await heartbeatingNode(c, "up")
        let run = await start(c, lookingAt: 2)
        defer { run.cancel() }
        // A second later the kubelet reports NotReady (a new heartbeat).
        c.clock.advance(by: .seconds(1))
        try await postStatus(c, "down", ready: "False")
        #expect(try await eventually { try await noExecuteKeys(c, "down") == [WellKnownTaints.notReady] })
        // A pod (Ready, as a status writer may have left it) is bound to the NotReady node.
        try await c.client.create(c.pod("late"))
        try await setPodReady(c, "late")
        try await c.client.bind(namespace: "default", name: "late", node: "down")
        #expect(try await eventually { try await podReady(c, "late") == "False" })
    }

    // MARK: helpers

    func cluster() async throws -> ControllerTestCluster {
        let c = try await ControllerTestCluster()
        try await c.client.create(Namespace(metadata: ObjectMeta(name: NodeLifecycleController.leaseNamespace)))
        return c
    }

    /// Starts the controller and waits until each of `nodes` nodes was looked at and waits for its
    /// deadline (the work queue's one timer sleeps for the first).
    func start(_ c: ControllerTestCluster, lookingAt nodes: Int = 0) async -> Task<Void, Never> {
        let controller = await NodeLifecycleController.controller(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [controller])
        let run = Task { await manager.run() }
        if nodes > 0 {
            _ = await eventually { await controller.queue.delayedCount == nodes }
            await c.clock.waitForSleepers(1)
        }
        return run
    }

    /// A node whose kubelet posted a Ready status now and renewed its lease now.
    func heartbeatingNode(_ c: ControllerTestCluster, _ name: String) async throws {
        try await c.client.create(Node(metadata: ObjectMeta(labels: ["kubernetes.io/hostname": name], name: name)))
        try await postStatus(c, name, ready: "True")
        try await renewLease(c, name)
    }

    /// Posts the node's conditions as a kubelet does, with a heartbeat now.
    func postStatus(_ c: ControllerTestCluster, _ name: String, ready: String) async throws {
        let now = KubernetesTime.string(c.clock.now)
        var node = try await self.node(c, name)
        let previous = node.condition("Ready")
        let transition = previous?.status == ready ? previous?.lastTransitionTime : now
        var conditions = [NodeCondition(lastHeartbeatTime: now, lastTransitionTime: transition, reason: "KubeletReady", status: ready, type: "Ready")]
        for type in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
            conditions.append(NodeCondition(lastHeartbeatTime: now, lastTransitionTime: now, status: "False", type: type))
        }
        node.status = NodeStatus(conditions: conditions)
        try await c.client.update(node, subresource: "status")
    }

    /// Renews (or creates) the node's lease at the clock's now and waits until the shared
    /// informer has seen it.
    func renewLease(_ c: ControllerTestCluster, _ name: String) async throws {
        let ns = NodeLifecycleController.leaseNamespace
        let now = KubernetesTime.microString(c.clock.now)
        if var lease = try? await c.client.get(Lease.self, namespace: ns, name: name) {
            lease.spec?.renewTime = now
            try await c.client.update(lease)
        } else {
            try await c.client.create(Lease(metadata: ObjectMeta(name: name, namespace: ns),
                                            spec: LeaseSpec(holderIdentity: name, leaseDurationSeconds: 40, renewTime: now)))
        }
        let leases = await c.informers.informer(Lease.self)
        _ = await eventually { await leases.get(namespace: ns, name: name)?.spec?.renewTime == now }
    }

    func readyPod(_ c: ControllerTestCluster, _ name: String, node: String) async throws {
        try await c.client.create(c.pod(name, node: node))
        try await setPodReady(c, name)
    }

    func setPodReady(_ c: ControllerTestCluster, _ name: String) async throws {
        var pod = try await c.client.get(Pod.self, namespace: "default", name: name)
        pod.status?.phase = "Running"
        let conditions = pod.status?.conditions ?? []
        pod.status?.conditions = conditions + [PodCondition(status: "True", type: "Ready")]
        try await c.client.update(pod, subresource: "status")
    }

    func node(_ c: ControllerTestCluster, _ name: String) async throws -> Node {
        try await c.client.get(Node.self, namespace: nil, name: name)
    }

    func noExecuteKeys(_ c: ControllerTestCluster, _ name: String) async throws -> [String] {
        try await node(c, name).noExecuteTaints.map { $0.key ?? "" }
    }

    func podReady(_ c: ControllerTestCluster, _ name: String) async throws -> String? {
        try await c.client.get(Pod.self, namespace: "default", name: name).readyCondition?.status
    }

    func hasEvent(_ c: ControllerTestCluster, reason: String, message: String) async throws -> Bool {
        try await c.client.list(Event.self, namespace: "default").contains { $0.reason == reason && $0.message == message }
    }

    /// The NoExecute taint keys of every version of node `name` written after `version`.
    final class Recorded: Sendable {
        let box = Mutex<[[String]]>([])
        var states: [[String]] { box.withLock { $0 } }
    }

    func watchNoExecuteKeys(_ c: ControllerTestCluster, _ name: String, after version: String?,
                            into recorded: Recorded) async throws -> Task<Void, Never> {
        var options = ListOptions()
        options.resourceVersion = version
        let stream = try await c.client.watch(c.client.resource(for: Node.self), namespace: nil, options: options)
        return Task {
            do {
                for try await event in stream where event.object.metadataName == name {
                    guard let node = try? event.object.decode(Node.self) else { continue }
                    let keys = node.noExecuteTaints.map { $0.key ?? "" }
                    recorded.box.withLock { $0.append(keys) }
                }
            } catch {}
        }
    }
}
