import Foundation
import Logging
import OrcaClient

/// Gives every node a pod subnet (kube-controller-manager's node IPAM controller with the
/// range allocator): a node without `spec.podCIDR` gets the lowest free node-sized subnet of
/// the cluster CIDR (default a /24 of 10.42.0.0/16) in `spec.podCIDR` and `spec.podCIDRs`;
/// a node that has one keeps it (the field is immutable once set) and its subnet counts as
/// taken. Before the first allocation the subnets of every node are taken, so a restarted
/// controller never hands one out twice. A deleted node's subnet is free again. When none is
/// free the node gets a `CIDRNotAvailable` event and is retried with back-off, and at once
/// when a subnet is freed.
public struct NodeIPAMController: Reconciler {
    /// The allocator and whether it has taken in the nodes' existing subnets.
    actor Allocations {
        var allocator: CIDRAllocator
        var loaded = false

        init(_ allocator: CIDRAllocator) { self.allocator = allocator }

        /// Takes in every node's subnet, once.
        func load(_ nodes: [Node], logger: Logger) {
            guard !loaded else { return }
            loaded = true
            for node in nodes {
                guard let cidr = NodeIPAMController.podCIDR(node) else { continue }
                if !allocator.occupy(cidr, by: node.metadata?.name ?? "") {
                    logger.warning("node \(node.metadata?.name ?? "") has podCIDR \(cidr) outside the cluster CIDR")
                }
            }
        }

        func occupy(_ cidr: String, by node: String) -> Bool { allocator.occupy(cidr, by: node) }
        func allocate(for node: String) -> String? { allocator.allocate(for: node) }
        func release(node: String) -> String? { allocator.release(node: node) }
    }

    /// The component name in events.
    static let component = "cidrAllocator"

    let client: any APIClient
    let nodes: SharedInformer<Node>
    let queue: RateLimitingQueue
    let allocations: Allocations
    let recorder: EventRecorder
    let logger = Logger(label: "orca.controller.node-ipam")

    /// Builds the node IPAM controller on `informers`, allocating `/nodeCIDRMaskSize` subnets
    /// of `clusterCIDR` (an IPv4 CIDR; anything else is a programming error).
    public static func controller(client: any APIClient, informers: SharedInformerFactory, clock: any WallClock = SystemClock(),
                                  clusterCIDR: String = "10.42.0.0/16", nodeCIDRMaskSize: Int = 24) async -> Controller<NodeIPAMController> {
        guard let allocator = CIDRAllocator(clusterCIDR: clusterCIDR, nodePrefixLength: nodeCIDRMaskSize) else {
            preconditionFailure("cluster CIDR \(clusterCIDR) cannot be split into /\(nodeCIDRMaskSize) subnets")
        }
        let nodes = await informers.informer(Node.self)
        let queue = RateLimitingQueue(clock: clock)
        let recorder = EventRecorder(client: client, component: component, clock: { clock.now })
        let reconciler = NodeIPAMController(client: client, nodes: nodes, queue: queue, allocations: Allocations(allocator),
                                            recorder: recorder)
        await nodes.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<Node>.key($0)) },
            onUpdate: { _, node in await queue.add(SharedInformer<Node>.key(node)) },
            onDelete: { await queue.add(SharedInformer<Node>.key($0)) }))
        return Controller(name: "node-ipam", queue: queue, reconciler: reconciler, workers: 2,
                          waitForSync: [{ await nodes.waitForSync() }])
    }

    /// The node's first pod CIDR, if it has one.
    static func podCIDR(_ node: Node) -> String? {
        if let first = node.spec?.podCIDRs?.first, !first.isEmpty { return first }
        if let cidr = node.spec?.podCIDR, !cidr.isEmpty { return cidr }
        return nil
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        await allocations.load(await nodes.list(), logger: logger)
        guard let node = await nodes.get(key), node.metadata?.deletionTimestamp == nil else {
            if let freed = await allocations.release(node: key) {
                logger.info("node \(key) is gone: \(freed) is free")
                // Nodes that found no free subnet try again now.
                for waiting in await nodes.list() where Self.podCIDR(waiting) == nil {
                    await queue.add(SharedInformer<Node>.key(waiting))
                }
            }
            return .done
        }
        if let cidr = Self.podCIDR(node) {
            if !(await allocations.occupy(cidr, by: key)) {
                logger.warning("node \(key) has podCIDR \(cidr) outside the cluster CIDR")
            }
            return .done
        }
        guard let cidr = await allocations.allocate(for: key) else {
            await recorder.record(node, type: "Warning", reason: "CIDRNotAvailable", message: "Node \(key) status is now: CIDRNotAvailable")
            throw OrcaError(.unavailable, "no pod CIDR is free for node \(key)")
        }
        do {
            // A patch, as Kubernetes' PatchNodeCIDRs: the API server refuses to change a podCIDR already set.
            try await client.mergePatch(Node.self, namespace: nil, name: key,
                                        patch: ["spec": ["podCIDR": .string(cidr), "podCIDRs": [.string(cidr)]]])
        } catch let e as APIError where e.isNotFound {
            _ = await allocations.release(node: key)
            return .done
        }
        logger.info("node \(key): podCIDR \(cidr)")
        return .done
    }
}
