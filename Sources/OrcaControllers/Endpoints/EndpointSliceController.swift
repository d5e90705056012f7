import Foundation
import Logging
import OrcaClient

/// Keeps the EndpointSlices of every Service with a selector (kube-controller-manager's
/// endpointslice controller): one endpoint per selected pod that has an IP and is not
/// finished — ready, serving and terminating as the pod is — grouped by how the pod resolves
/// the Service's ports, at most `maxEndpointsPerSlice` to a slice, labelled
/// `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by:
/// endpointslice-controller.k8s.io` and controlled by the Service. kube-proxy and cluster DNS
/// read these slices.
///
/// The queue key is the Service's `namespace/name`. Pods, Nodes (for zones) and the
/// controller's own slices (changed by someone else) queue the Services they concern.
/// Slices of a Service that is gone, lost its selector or became `ExternalName` are deleted.
public struct EndpointSliceController: Reconciler {
    /// The most endpoints in one slice by default (`--max-endpoints-per-slice`).
    public static let defaultMaxEndpointsPerSlice = 100

    let client: any APIClient
    let services: SharedInformer<Service>
    let pods: SharedInformer<Pod>
    let nodes: SharedInformer<Node>
    let slices: SharedInformer<EndpointSlice>
    let queue: RateLimitingQueue
    let tracker: EndpointSliceTracker
    let maxEndpointsPerSlice: Int
    let logger = Logger(label: "orca.controller.endpointslice")

    /// Builds the EndpointSlice controller on `informers`.
    /// - Parameters:
    ///   - maxEndpointsPerSlice: the most endpoints one slice holds (Kubernetes' default is 100).
    ///   - workers: how many Services are synced at once.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, clock: any WallClock = SystemClock(),
                                  maxEndpointsPerSlice: Int = defaultMaxEndpointsPerSlice,
                                  workers: Int = 5) async -> Controller<EndpointSliceController> {
        let services = await informers.informer(Service.self)
        let pods = await informers.informer(Pod.self)
        let nodes = await informers.informer(Node.self)
        let slices = await informers.informer(EndpointSlice.self)
        let queue = RateLimitingQueue(clock: clock)
        let reconciler = EndpointSliceController(client: client, services: services, pods: pods, nodes: nodes, slices: slices,
                                                 queue: queue, tracker: EndpointSliceTracker(clock: clock),
                                                 maxEndpointsPerSlice: max(1, maxEndpointsPerSlice))
        await services.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<Service>.key($0)) },
            onUpdate: { _, service in await queue.add(SharedInformer<Service>.key(service)) },
            onDelete: { await queue.add(SharedInformer<Service>.key($0)) }))
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.podChanged(old: nil, new: $0) },
            onUpdate: { old, pod in await reconciler.podChanged(old: old, new: pod) },
            onDelete: { await reconciler.podChanged(old: nil, new: $0) }))
        await nodes.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.enqueueServices(onNode: $0) },
            onUpdate: { old, node in
                let zone = WellKnownEndpointLabels.topologyZone
                if old.metadata?.labels?[zone] != node.metadata?.labels?[zone] { await reconciler.enqueueServices(onNode: node) }
            }))
        await slices.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.sliceAdded($0) },
            onUpdate: { old, slice in await reconciler.sliceUpdated(old: old, new: slice) },
            onDelete: { await reconciler.sliceDeleted($0) }))
        return Controller(name: "endpointslice", queue: queue, reconciler: reconciler, workers: workers,
                          waitForSync: [{ await services.waitForSync() }, { await pods.waitForSync() },
                                        { await nodes.waitForSync() }, { await slices.waitForSync() }])
    }

    // MARK: event handlers

    /// A pod appeared, changed or went: the Services that select it (before or after) are
    /// synced, unless nothing its endpoints are made of changed (`GetServicesToUpdateOnPodChange`).
    func podChanged(old: Pod?, new: Pod) async {
        for key in await services.keysToSync(old: old, new: new) { await queue.add(key) }
    }

    /// A node appeared or changed zone: the Services of the pods bound to it are synced
    /// (their endpoints carry the zone, or were held back while the node was unknown).
    func enqueueServices(onNode node: Node) async {
        guard let name = node.metadata?.name else { return }
        var keys: Set<String> = []
        for pod in await pods.byIndex(Indexers.nodeName, name) {
            keys.formUnion(await services.keys(selecting: pod))
        }
        for key in keys.sorted() { await queue.add(key) }
    }

    /// True for slices this controller manages.
    static func isManaged(_ slice: EndpointSlice) -> Bool {
        slice.managedBy == WellKnownEndpointLabels.endpointSliceController
    }

    /// A managed slice appeared that the controller did not write (or not at this revision).
    func sliceAdded(_ slice: EndpointSlice) async {
        guard Self.isManaged(slice), let service = slice.serviceKey else { return }
        if tracker.shouldSync(slice, service: service) { await queue.add(service) }
    }

    /// A slice changed: its Service is synced when the change is someone else's, when it moved
    /// to another Service, or when it came under (or left) this controller's management.
    func sliceUpdated(old: EndpointSlice, new: EndpointSlice) async {
        if old.serviceKey != new.serviceKey {
            if let previous = old.serviceKey { tracker.forget(old, service: previous) }
            for key in [old.serviceKey, new.serviceKey].compactMap({ $0 }) { await queue.add(key) }
            return
        }
        guard let service = new.serviceKey else { return }
        if Self.isManaged(old) && !Self.isManaged(new) { tracker.forget(new, service: service) }
        if Self.isManaged(old) != Self.isManaged(new) || (Self.isManaged(new) && tracker.shouldSync(new, service: service)) {
            await queue.add(service)
        }
    }

    /// A managed slice went: its Service is synced unless the controller deleted it.
    func sliceDeleted(_ slice: EndpointSlice) async {
        guard Self.isManaged(slice), let service = slice.serviceKey else { return }
        if tracker.handleDeletion(slice, service: service) { await queue.add(service) }
    }
}
