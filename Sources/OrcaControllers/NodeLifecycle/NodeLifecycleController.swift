import Foundation
import Logging
import OrcaClient

/// Watches every node's heartbeats and acts when they stop (kube-controller-manager's node
/// lifecycle controller):
/// - a heartbeat is a new `lastHeartbeatTime` of the node's Ready condition or a new
///   `renewTime` of its Lease in `kube-node-lease`, stamped with the time this controller saw
///   it; after `nodeMonitorGracePeriod` without one (`nodeStartupGracePeriod` for a node that
///   never posted a status) the Ready, MemoryPressure, DiskPressure and PIDPressure conditions
///   become `Unknown` (`NodeStatusUnknown`) and the Ready condition of the node's pods `False`;
/// - its conditions are mirrored as `NoSchedule` taints (TaintNodesByCondition), and a Ready
///   condition that is False or Unknown as the `not-ready` or `unreachable` `NoExecute` taint
///   (taint-based eviction; the taint eviction controller then evicts what does not tolerate
///   it). The two are swapped in one update and removed when the node is Ready again. No node
///   is tainted `NoExecute` while no node at all is Ready (see `ZoneDisruption`).
///
/// Each node is looked at again when its grace period would run out, and every
/// `nodeMonitorPeriod` while it is not Ready; there is no polling loop.
public struct NodeLifecycleController: Reconciler {
    /// The controller's periods (kube-controller-manager's `--node-monitor-*` flags).
    public struct Configuration: Sendable {
        /// How long a node may go without a heartbeat before it is `Unknown`.
        public var nodeMonitorGracePeriod: Duration
        /// How often a node that is not Ready is looked at again.
        public var nodeMonitorPeriod: Duration
        /// The grace period of a node that never posted a status.
        public var nodeStartupGracePeriod: Duration
        /// The share of nodes not Ready (of more than two) that puts a zone in partial disruption.
        public var unhealthyZoneThreshold: Double
        /// Zones up to this size get no new NoExecute taints in partial disruption.
        public var largeClusterThreshold: Int

        /// Kubernetes' defaults: 40 s grace, a look every 5 s, 60 s for a node that never posted.
        public init(nodeMonitorGracePeriod: Duration = .seconds(40), nodeMonitorPeriod: Duration = .seconds(5),
                    nodeStartupGracePeriod: Duration = .seconds(60), unhealthyZoneThreshold: Double = 0.55,
                    largeClusterThreshold: Int = 50) {
            self.nodeMonitorGracePeriod = nodeMonitorGracePeriod
            self.nodeMonitorPeriod = nodeMonitorPeriod
            self.nodeStartupGracePeriod = nodeStartupGracePeriod
            self.unhealthyZoneThreshold = unhealthyZoneThreshold
            self.largeClusterThreshold = largeClusterThreshold
        }
    }

    /// The namespace of the nodes' heartbeat Leases.
    public static let leaseNamespace = "kube-node-lease"
    /// The component name in events.
    static let component = "node-controller"
    /// Queue keys of pods newly bound to a node start with this; node keys are node names.
    static let podKeyPrefix = "pod:"

    let client: any APIClient
    let nodes: SharedInformer<Node>
    let leases: SharedInformer<Lease>
    let pods: SharedInformer<Pod>
    let queue: RateLimitingQueue
    let health: NodeHealthMap
    let recorder: EventRecorder
    let clock: any WallClock
    let configuration: Configuration
    let logger = Logger(label: "orca.controller.node-lifecycle")

    /// Builds the node lifecycle controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, clock: any WallClock = SystemClock(),
                                  configuration: Configuration = Configuration()) async -> Controller<NodeLifecycleController> {
        let nodes = await informers.informer(Node.self)
        let leases = await informers.informer(Lease.self)
        let pods = await informers.informer(Pod.self)
        let queue = RateLimitingQueue(clock: clock)
        let health = NodeHealthMap(unhealthyZoneThreshold: configuration.unhealthyZoneThreshold,
                                   largeClusterThreshold: configuration.largeClusterThreshold)
        let recorder = EventRecorder(client: client, component: component, clock: { clock.now })
        let reconciler = NodeLifecycleController(client: client, nodes: nodes, leases: leases, pods: pods, queue: queue,
                                                 health: health, recorder: recorder, clock: clock, configuration: configuration)
        await nodes.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.nodeChanged($0) },
            onUpdate: { _, node in await reconciler.nodeChanged(node) },
            onDelete: { await reconciler.nodeDeleted($0) }))
        await leases.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.leaseChanged($0) },
            onUpdate: { _, lease in await reconciler.leaseChanged(lease) }))
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.podChanged(old: nil, $0) },
            onUpdate: { old, pod in await reconciler.podChanged(old: old, pod) }))
        return Controller(name: "node-lifecycle", queue: queue, reconciler: reconciler, workers: 4,
                          waitForSync: [{ await nodes.waitForSync() }, { await leases.waitForSync() }, { await pods.waitForSync() }])
    }

    // MARK: event handlers

    /// A node appeared or changed: it is looked at; when that changes a zone's disruption
    /// state, every node is.
    func nodeChanged(_ node: Node) async {
        if await health.updateZones(node, now: clock.now) {
            await enqueueAllNodes()
        } else {
            await queue.add(node.metadata?.name ?? "")
        }
    }

    /// A node was deleted: its bookkeeping goes at its next look.
    func nodeDeleted(_ node: Node) async {
        let name = node.metadata?.name ?? ""
        if await health.removeFromZones(name, now: clock.now) { await enqueueAllNodes() }
        await queue.add(name)
    }

    /// A node's Lease was renewed: the node is looked at.
    func leaseChanged(_ lease: Lease) async {
        guard lease.metadata?.namespace == Self.leaseNamespace, let name = lease.metadata?.name else { return }
        await queue.add(name)
    }

    /// A pod was bound to a node (`podUpdated`): if that node is not Ready the pod is marked not ready.
    func podChanged(old: Pod?, _ pod: Pod) async {
        guard let node = pod.spec?.nodeName, !node.isEmpty, old?.spec?.nodeName != node else { return }
        await queue.add(Self.podKeyPrefix + SharedInformer<Pod>.key(pod))
    }

    func enqueueAllNodes() async {
        for key in await nodes.keys() { await queue.add(key) }
    }

    // MARK: reconcile

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        if key.hasPrefix(Self.podKeyPrefix) {
            try await processPod(String(key.dropFirst(Self.podKeyPrefix.count)))
            return .done
        }
        guard let node = await nodes.get(key) else {
            if await health.forget(key) {
                await recordNodeEvent(Node(metadata: ObjectMeta(name: key)), reason: "RemovingNode", "Removing Node \(key) from Controller")
            }
            return .done
        }
        return try await syncNode(node)
    }

    /// Records an event about a node in Kubernetes' `RecordNodeEvent` form.
    func recordNodeEvent(_ node: Node, reason: String, _ event: String) async {
        await recorder.record(node, type: "Normal", reason: reason, message: "Node \(node.metadata?.name ?? "") event: \(event)")
    }
}
