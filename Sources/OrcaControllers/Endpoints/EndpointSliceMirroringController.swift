import Foundation
import Logging
import OrcaClient

/// Mirrors hand-written core/v1 Endpoints into EndpointSlices (kube-controller-manager's
/// endpointslicemirroring controller), so consumers that read only slices — kube-proxy,
/// cluster DNS — also see the endpoints of Services without a selector. An Endpoints is
/// mirrored while a Service of the same name exists without a selector and the Endpoints is
/// not labelled `endpointslice.kubernetes.io/skip-mirror: "true"` (nor written by the
/// Endpoints controller): each subset's addresses become endpoints (`ready: true`, or
/// `false` for `notReadyAddresses`; at most `maxEndpointsPerSubset` per subset, invalid IPs
/// skipped) in one slice per address type and port set, labelled
/// `endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io` and
/// `kubernetes.io/service-name`, and controlled by the Endpoints. The mirrored slices go when
/// the Endpoints or the Service goes, or the Service gains a selector.
///
/// The queue key is the Endpoints' (and Service's) `namespace/name`.
public struct EndpointSliceMirroringController: Reconciler {
    /// The most addresses mirrored per Endpoints subset by default (`--mirroring-max-endpoints-per-subset`).
    public static let defaultMaxEndpointsPerSubset = 1000

    let client: any APIClient
    let services: SharedInformer<Service>
    let endpoints: SharedInformer<Endpoints>
    let slices: SharedInformer<EndpointSlice>
    let queue: RateLimitingQueue
    let tracker: EndpointSliceTracker
    let maxEndpointsPerSubset: Int
    let logger = Logger(label: "orca.controller.endpointslicemirroring")

    /// Builds the EndpointSlice mirroring controller on `informers`.
    /// - Parameters:
    ///   - maxEndpointsPerSubset: the most addresses of one subset mirrored (Kubernetes' default is 1000).
    ///   - workers: how many Endpoints are mirrored at once.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, clock: any WallClock = SystemClock(),
                                  maxEndpointsPerSubset: Int = defaultMaxEndpointsPerSubset,
                                  workers: Int = 5) async -> Controller<EndpointSliceMirroringController> {
        let services = await informers.informer(Service.self)
        let endpoints = await informers.informer(Endpoints.self)
        let slices = await informers.informer(EndpointSlice.self)
        let queue = RateLimitingQueue(clock: clock)
        let reconciler = EndpointSliceMirroringController(client: client, services: services, endpoints: endpoints, slices: slices,
                                                          queue: queue, tracker: EndpointSliceTracker(clock: clock),
                                                          maxEndpointsPerSubset: max(1, maxEndpointsPerSubset))
        await services.addEventHandler(InformerEventHandler(
            onAdd: { if !Self.hasSelector($0) { await queue.add(SharedInformer<Service>.key($0)) } },
            onUpdate: { old, service in
                if Self.hasSelector(old) != Self.hasSelector(service) { await queue.add(SharedInformer<Service>.key(service)) }
            },
            onDelete: { if !Self.hasSelector($0) { await queue.add(SharedInformer<Service>.key($0)) } }))
        await endpoints.addEventHandler(InformerEventHandler(
            onAdd: { if Self.shouldMirror($0) { await queue.add(SharedInformer<Endpoints>.key($0)) } },
            onUpdate: { old, ep in
                if Self.shouldMirror(old) || Self.shouldMirror(ep) { await queue.add(SharedInformer<Endpoints>.key(ep)) }
            },
            onDelete: { if Self.shouldMirror($0) { await queue.add(SharedInformer<Endpoints>.key($0)) } }))
        await slices.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.sliceAdded($0) },
            onUpdate: { old, slice in await reconciler.sliceUpdated(old: old, new: slice) },
            onDelete: { await reconciler.sliceDeleted($0) }))
        return Controller(name: "endpointslicemirroring", queue: queue, reconciler: reconciler, workers: workers,
                          waitForSync: [{ await services.waitForSync() }, { await endpoints.waitForSync() },
                                        { await slices.waitForSync() }])
    }

    /// A Service with a (non-empty) selector: its endpoints are the EndpointSlice controller's.
    static func hasSelector(_ service: Service) -> Bool {
        !(service.spec?.selector ?? [:]).isEmpty
    }

    /// Whether an Endpoints may be mirrored at all (`shouldMirror`): not labelled skip-mirror,
    /// not an old-style leader-election lock, not written by the Endpoints controller.
    static func shouldMirror(_ ep: Endpoints) -> Bool {
        if ep.metadata?.labels?[WellKnownEndpointLabels.skipMirror] == "true" { return false }
        if ep.metadata?.annotations?[WellKnownEndpointLabels.leaderElection] != nil { return false }
        return !EndpointsController.isManaged(ep)
    }

    /// True for slices this controller manages.
    static func isManaged(_ slice: EndpointSlice) -> Bool {
        slice.managedBy == WellKnownEndpointLabels.endpointSliceMirroringController
    }

    // MARK: slice events

    func sliceAdded(_ slice: EndpointSlice) async {
        guard Self.isManaged(slice), let key = slice.serviceKey else { return }
        if tracker.shouldSync(slice, service: key) { await queue.add(key) }
    }

    func sliceUpdated(old: EndpointSlice, new: EndpointSlice) async {
        if old.serviceKey != new.serviceKey {
            if let previous = old.serviceKey { tracker.forget(old, service: previous) }
            for key in [old.serviceKey, new.serviceKey].compactMap({ $0 }) { await queue.add(key) }
            return
        }
        guard let key = new.serviceKey else { return }
        if Self.isManaged(old) && !Self.isManaged(new) { tracker.forget(new, service: key) }
        if Self.isManaged(old) != Self.isManaged(new) || (Self.isManaged(new) && tracker.shouldSync(new, service: key)) {
            await queue.add(key)
        }
    }

    func sliceDeleted(_ slice: EndpointSlice) async {
        guard Self.isManaged(slice), let key = slice.serviceKey else { return }
        if tracker.handleDeletion(slice, service: key) { await queue.add(key) }
    }

    // MARK: reconcile

    /// Mirrors the Endpoints `key` (`namespace/name`) into slices, or deletes its mirrors.
    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let ep = await endpoints.get(key), Self.shouldMirror(ep),
              let service = await services.get(key), !Self.hasSelector(service) else {
            defer { tracker.deleteService(key) }  // after the deletes' expectations, as above
            for slice in await mirroredSlices(of: key) where slice.metadata?.deletionTimestamp == nil {
                try await EndpointSlicePlan.delete(slice, client: client, tracker: tracker, owner: key)
            }
            return .done
        }
        var existing = await mirroredSlices(of: key).filter { $0.metadata?.deletionTimestamp == nil }
        if tracker.isStale(key, slices: existing) {
            // Waiting now: a later echo queues the key; an earlier one is in the cache already.
            existing = await mirroredSlices(of: key).filter { $0.metadata?.deletionTimestamp == nil }
            if tracker.isStale(key, slices: existing) { throw EndpointSliceController.staleCache(key) }
        }
        var skipped = 0
        let desired = Self.desiredEndpoints(ep, maxEndpointsPerSubset: maxEndpointsPerSubset) { _ in skipped += 1 }
        if skipped > 0 {
            logger.info("Endpoints \(key): \(skipped) addresses not mirrored (invalid IPs or over \(maxEndpointsPerSubset) per subset)")
        }
        let plan = Self.plan(ep, desired: desired, existing: existing, maxEndpointsPerSubset: maxEndpointsPerSubset)
        try await plan.apply(client: client, tracker: tracker, owner: key, allowCreate: ep.metadata?.deletionTimestamp == nil,
                             logger: logger)
        return .done
    }

    /// The cached slices this controller mirrored for the Endpoints `key`.
    func mirroredSlices(of key: String) async -> [EndpointSlice] {
        let (namespace, name) = EndpointSliceController.split(key)
        let selector = LabelMatcher(requirements: [
            .init(key: WellKnownEndpointLabels.serviceName, op: .equals, values: [name]),
            .init(key: WellKnownEndpointLabels.managedBy, op: .equals, values: [WellKnownEndpointLabels.endpointSliceMirroringController]),
        ])
        return await slices.list(namespace: namespace, selector: selector)
    }
}
