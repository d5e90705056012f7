import Foundation
import OrcaAPIServer
import OrcaCLI
import OrcaClient
import OrcaControllers
import OrcaStore
import Synchronization

/// A registry on a fresh `MemoryKVStore` behind the in-process client, a manual clock,
/// sequential UIDs and the `default` namespace: the API the controllers see, without HTTP.
struct ControllerTestCluster {
    let registry: Registry
    let client: LocalAPIClient
    let clock: ManualClock
    let informers: SharedInformerFactory

    init() async throws {
        let clock = ManualClock()
        let uids = Mutex(0)
        registry = Registry(store: MemoryKVStore(), strategies: Strategies.standard, clock: { clock.now },
                            newUID: { uids.withLock { $0 += 1; return "uid-\($0)" } })
        client = LocalAPIClient(registry: registry)
        self.clock = clock
        informers = SharedInformerFactory(client: client, clock: clock)
        try await client.create(Namespace(metadata: ObjectMeta(name: "default")))
    }

    /// A pod with one container, optionally owned by a controller.
    func pod(_ name: String, labels: [String: String] = [:], owner: OwnerReference? = nil, node: String? = nil) -> Pod {
        Pod(metadata: ObjectMeta(labels: labels, name: name, namespace: "default", ownerReferences: owner.map { [$0] }),
            spec: PodSpec(containers: [Container(image: "busybox", name: "c")], nodeName: node))
    }

    /// A Ready node.
    func readyNode(_ name: String, pods: Int = 110) -> Node {
        Node(metadata: ObjectMeta(labels: ["kubernetes.io/hostname": name], name: name),
             status: NodeStatus(allocatable: ["pods": Quantity(value: Int64(pods)), "cpu": "4", "memory": "8Gi"],
                                conditions: [NodeCondition(status: "True", type: "Ready")]))
    }
}
