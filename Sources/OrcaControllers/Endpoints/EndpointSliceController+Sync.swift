import Foundation
import Logging
import OrcaClient

/// One Service's sync (`syncService` and the reconciler's `Reconcile`).
extension EndpointSliceController {
    /// Syncs the slices of the Service `key` (`namespace/name`) with the pods it selects.
    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let service = await services.get(key), let matcher = service.podMatcher else {
            // Gone, selectorless or ExternalName: no slices of this controller belong to it.
            // Forgotten after the deletes, so their expectations do not outlive the Service
            // (their events then find nothing expected and queue it once more, to no effect).
            defer { tracker.deleteService(key) }
            try await deleteManagedSlices(of: key)
            return .done
        }
        let namespace = service.metadata?.namespace ?? "default"
        let selected = await pods.list(namespace: namespace, selector: matcher)
        var existing = await managedSlices(of: key).filter { $0.metadata?.deletionTimestamp == nil }
        if tracker.isStale(key, slices: existing) {
            // The Service now waits: an echo landing from here on queues it again. One that
            // landed since the list above is in the cache already, so look once more.
            existing = await managedSlices(of: key).filter { $0.metadata?.deletionTimestamp == nil }
            if tracker.isStale(key, slices: existing) { throw EndpointSliceController.staleCache(key) }
        }

        let addressTypes = service.endpointAddressTypes
        var plan = EndpointSlicePlan()
        var missingNodes: Set<String> = []
        for addressType in addressTypes {
            let (groups, missing) = await desiredEndpoints(service, pods: selected, addressType: addressType)
            missingNodes.formUnion(missing)
            let planner = EndpointSlicePlanner(service: service, addressType: addressType, maxEndpointsPerSlice: maxEndpointsPerSlice)
            let typed = planner.plan(desired: groups, existing: existing.filter { $0.addressType == addressType })
            plan.create += typed.create
            plan.update += typed.update
            plan.delete += typed.delete
        }
        // Slices of an address type the Service no longer has.
        plan.delete += existing.filter { !addressTypes.contains($0.addressType ?? "") }
        try await plan.apply(client: client, tracker: tracker, owner: key,
                             allowCreate: service.metadata?.deletionTimestamp == nil, logger: logger)
        if !missingNodes.isEmpty {
            // Written without those pods; retried until their nodes show up (a new node queues it too).
            throw OrcaError(.notFound, "skipping pods of Service \(key) on nodes not found: \(missingNodes.sorted().joined(separator: ", "))")
        }
        return .done
    }

    /// The endpoints `pods` give `service` for one address type, grouped by resolved port set;
    /// and the nodes of pods left out because the cache has no such node (pods of a Service
    /// that publishes not-ready addresses are kept without a zone instead).
    func desiredEndpoints(_ service: Service, pods: [Pod], addressType: String) async
        -> (groups: [EndpointPortSet: DesiredEndpointGroup], missingNodes: Set<String>) {
        var groups: [EndpointPortSet: DesiredEndpointGroup] = [:]
        var missingNodes: Set<String> = []
        let ordered = pods.sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
        for pod in ordered where pod.shouldBeInEndpoints(includeTerminating: true) {
            let ports = service.discoveryPorts(for: pod)
            let portSet = EndpointPortSet(ports)
            if groups[portSet] == nil { groups[portSet] = DesiredEndpointGroup(ports: ports) }
            let nodeName = pod.spec?.nodeName ?? ""
            let node = nodeName.isEmpty ? nil : await nodes.get(namespace: nil, name: nodeName)
            if node == nil && !service.publishesNotReadyAddresses {
                missingNodes.insert(nodeName)
                continue
            }
            let addresses = EndpointIP.publishable(pod.endpointIPs, addressType: addressType) { ip in
                logger.info("pod \(pod.metadata?.namespace ?? "")/\(pod.metadata?.name ?? ""): IP \"\(ip)\" cannot be an endpoint; left out")
            }
            guard !addresses.isEmpty else { continue }
            groups[portSet]?.insert(Self.endpoint(for: pod, node: node, service: service, addresses: addresses))
        }
        return (groups, missingNodes)
    }

    /// The endpoint of `pod` (`podToEndpoint`): serving while the pod is Ready, terminating
    /// while it is being deleted, ready when serving and not terminating (always, when the
    /// Service publishes not-ready addresses); its node, the node's zone, the pod as target,
    /// and the pod's hostname when its subdomain is the Service.
    static func endpoint(for pod: Pod, node: Node?, service: Service, addresses: [String]) -> Endpoint {
        let serving = pod.isReady
        let terminating = pod.isTerminating
        let ready = service.publishesNotReadyAddresses || (serving && !terminating)
        let zone = node?.metadata?.labels?[WellKnownEndpointLabels.topologyZone].flatMap { $0.isEmpty ? nil : $0 }
        return Endpoint(addresses: addresses, conditions: EndpointConditions(ready: ready, serving: serving, terminating: terminating),
                        hostname: pod.endpointHostname(for: service), nodeName: pod.boundNodeName,
                        targetRef: pod.endpointTargetRef, zone: zone)
    }

    /// The cached slices this controller manages for the Service `key`.
    func managedSlices(of key: String) async -> [EndpointSlice] {
        let (namespace, name) = Self.split(key)
        let selector = LabelMatcher(requirements: [
            .init(key: WellKnownEndpointLabels.serviceName, op: .equals, values: [name]),
            .init(key: WellKnownEndpointLabels.managedBy, op: .equals, values: [WellKnownEndpointLabels.endpointSliceController]),
        ])
        return await slices.list(namespace: namespace, selector: selector)
    }

    /// Deletes the managed slices of a Service that has none (gone, selectorless, ExternalName).
    func deleteManagedSlices(of key: String) async throws {
        for slice in await managedSlices(of: key) where slice.metadata?.deletionTimestamp == nil {
            try await EndpointSlicePlan.delete(slice, client: client, tracker: tracker, owner: key)
        }
    }

    /// `namespace/name` → (namespace, name).
    static func split(_ key: String) -> (namespace: String, name: String) {
        guard let slash = key.firstIndex(of: "/") else { return ("", key) }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }

    /// The error of a sync that found the cache without the controller's latest writes.
    static func staleCache(_ key: String) -> OrcaError {
        OrcaError(.conflict, "EndpointSlice informer cache is out of date for \(key)")
    }
}
