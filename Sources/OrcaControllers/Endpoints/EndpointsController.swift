import Foundation
import Logging
import OrcaClient

/// Keeps the core/v1 Endpoints of every Service with a selector (kube-controller-manager's
/// endpoint controller): an Endpoints named like the Service whose subsets list the selected
/// pods' IPs — Ready pods under `addresses`, the others under `notReadyAddresses` (all under
/// `addresses` when the Service publishes not-ready addresses) — with the Service's ports
/// resolved per pod and packed into subsets of identical port sets. Terminating pods are left
/// out unless the Service publishes not-ready addresses. At most `maxCapacity` addresses are
/// kept; a cut Endpoints is annotated `endpoints.kubernetes.io/over-capacity: truncated`.
///
/// The Endpoints carries the Service's labels plus `endpoints.kubernetes.io/managed-by:
/// endpoint-controller`; only Endpoints with that label are ever deleted (when their Service
/// is gone, lost its selector or became `ExternalName`) — an Endpoints someone wrote for a
/// selectorless Service is theirs.
public struct EndpointsController: Reconciler {
    /// The most addresses one Endpoints holds (`maxCapacity`).
    public static let maxCapacity = 1000

    let client: any APIClient
    let services: SharedInformer<Service>
    let pods: SharedInformer<Pod>
    let endpoints: SharedInformer<Endpoints>
    let queue: RateLimitingQueue
    let capacity: Int
    let logger = Logger(label: "orca.controller.endpoint")

    /// Builds the Endpoints controller on `informers`.
    /// - Parameters:
    ///   - capacity: the most addresses one Endpoints holds (Kubernetes' is 1000).
    ///   - workers: how many Services are synced at once.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, clock: any WallClock = SystemClock(),
                                  capacity: Int = maxCapacity, workers: Int = 5) async -> Controller<EndpointsController> {
        let services = await informers.informer(Service.self)
        let pods = await informers.informer(Pod.self)
        let endpoints = await informers.informer(Endpoints.self)
        let queue = RateLimitingQueue(clock: clock)
        let reconciler = EndpointsController(client: client, services: services, pods: pods, endpoints: endpoints, queue: queue,
                                             capacity: max(1, capacity))
        await services.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<Service>.key($0)) },
            onUpdate: { _, service in await queue.add(SharedInformer<Service>.key(service)) },
            onDelete: { await queue.add(SharedInformer<Service>.key($0)) }))
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.podChanged(old: nil, new: $0) },
            onUpdate: { old, pod in await reconciler.podChanged(old: old, new: pod) },
            onDelete: { await reconciler.podChanged(old: nil, new: $0) }))
        // Every Endpoints is looked at once (leftovers of deleted Services go), and again when
        // changed or deleted behind the controller's back.
        await endpoints.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.endpointsChanged($0) },
            onUpdate: { _, ep in await reconciler.endpointsChanged(ep) },
            onDelete: { await reconciler.endpointsChanged($0) }))
        return Controller(name: "endpoint", queue: queue, reconciler: reconciler, workers: workers,
                          waitForSync: [{ await services.waitForSync() }, { await pods.waitForSync() },
                                        { await endpoints.waitForSync() }])
    }

    // MARK: event handlers

    /// A pod appeared, changed or went: the Services that select it (before or after) are synced.
    func podChanged(old: Pod?, new: Pod) async {
        for key in await services.keysToSync(old: old, new: new) { await queue.add(key) }
    }

    /// An Endpoints appeared, changed or went: its Service is synced (old-style leader-election
    /// locks are left alone).
    func endpointsChanged(_ ep: Endpoints) async {
        if ep.metadata?.annotations?[WellKnownEndpointLabels.leaderElection] != nil { return }
        await queue.add(SharedInformer<Endpoints>.key(ep))
    }

    // MARK: reconcile

    /// Syncs the Endpoints of the Service `key` (`namespace/name`) with the pods it selects.
    public func reconcile(_ key: String) async throws -> ReconcileResult {
        let current = await endpoints.get(key)
        guard let service = await services.get(key), service.podMatcher != nil else {
            // No Service, or one whose endpoints are not computed from pods: only this
            // controller's own Endpoints goes.
            if let current, Self.isManaged(current) {
                var options = DeletionOptions()
                options.preconditionUID = current.metadata?.uid
                try await client.delete(Endpoints.self, namespace: current.metadata?.namespace, name: current.metadata?.name ?? "",
                                        options: options)
            }
            return .done
        }
        let packed = await subsets(for: service)
        let (cut, truncated) = PackedEndpointSubsets.truncate(packed, capacity: capacity)
        let subsets = truncated ? PackedEndpointSubsets(cut).subsets : cut
        let labels = service.endpointsLabels
        var annotations = current?.metadata?.annotations ?? [:]
        annotations[WellKnownEndpointLabels.overCapacity] = truncated ? WellKnownEndpointLabels.truncated : nil

        if let current {
            if PackedEndpointSubsets(current.subsets).subsets == subsets, current.metadata?.labels ?? [:] == labels,
               current.metadata?.annotations ?? [:] == annotations {
                return .done
            }
            var next = current
            next.subsets = subsets
            next.metadata?.labels = labels
            next.metadata?.annotations = annotations.isEmpty ? nil : annotations
            try await client.update(next)
            return .done
        }
        guard service.metadata?.deletionTimestamp == nil else { return .done }
        let fresh = Endpoints(metadata: ObjectMeta(annotations: annotations.isEmpty ? nil : annotations, labels: labels,
                                                   name: service.metadata?.name, namespace: service.metadata?.namespace),
                              subsets: subsets)
        do {
            try await client.create(fresh)
        } catch let e as APIError where EndpointSlicePlan.isNamespaceTerminating(e) {
            logger.debug("not creating Endpoints \(key): \(e.message)")
        }
        return .done
    }

    /// The packed subsets of the pods `service` selects (`syncService`'s loop and `RepackSubsets`).
    func subsets(for service: Service) async -> [EndpointSubset] {
        guard let matcher = service.podMatcher else { return [] }
        let namespace = service.metadata?.namespace ?? "default"
        let publishNotReady = service.publishesNotReadyAddresses
        var packed = PackedEndpointSubsets()
        let selected = await pods.list(namespace: namespace, selector: matcher)
        for pod in selected where pod.shouldBeInEndpoints(includeTerminating: publishNotReady) {
            guard let address = Self.address(for: pod, service: service) else { continue }
            let ready = publishNotReady || pod.isReady
            if (service.spec?.ports ?? []).isEmpty {
                // A headless Service may have no ports: its addresses alone.
                if service.spec?.clusterIP == "None" { packed.add(address, ready: ready, port: nil) }
                continue
            }
            for (servicePort, port) in service.resolvedPorts(for: pod) {
                let endpointPort = EndpointPort(appProtocol: servicePort.appProtocol, name: servicePort.name, port: port,
                                                protocol: servicePort.protocol ?? "TCP")
                packed.add(address, ready: ready, port: endpointPort)
            }
        }
        return packed.subsets
    }

    /// The address of `pod` for `service` (`podToEndpointAddressForService`): the pod IP of the
    /// Service's IP family (for a headless Service without families, the family of
    /// `status.podIP`); nil when the pod has no publishable IP of that family.
    static func address(for pod: Pod, service: Service) -> EndpointAddress? {
        let family = service.endpointsIPFamily
            ?? (EndpointIP(pod.status?.podIP ?? "")?.isIPv6 == true ? EndpointIP.ipv6 : EndpointIP.ipv4)
        guard let ip = EndpointIP.publishable(pod.endpointIPs, addressType: family).first else { return nil }
        return EndpointAddress(hostname: pod.endpointHostname(for: service), ip: ip, nodeName: pod.boundNodeName,
                               targetRef: pod.endpointTargetRef)
    }

    /// Written by this controller (its managed-by label).
    static func isManaged(_ ep: Endpoints) -> Bool {
        ep.metadata?.labels?[WellKnownEndpointLabels.endpointsManagedBy] == WellKnownEndpointLabels.endpointsController
    }
}
