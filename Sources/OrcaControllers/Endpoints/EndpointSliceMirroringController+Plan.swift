import Foundation
import OrcaClient

/// What the mirrored slices of one Endpoints should hold, and the writes to get there (the
/// mirroring reconciler's desired-state calculation and `reconcileByPortMapping`), without I/O.
extension EndpointSliceMirroringController {
    /// One mirrored slice's identity: address type and port set.
    struct MirrorKey: Hashable, Comparable, Sendable {
        var addressType: String
        var ports: EndpointPortSet

        static func < (a: MirrorKey, b: MirrorKey) -> Bool {
            a.addressType != b.addressType ? a.addressType < b.addressType : a.ports < b.ports
        }
    }

    /// The endpoints of `ep`'s subsets by address type and port set: each subset's first
    /// `maxEndpointsPerSubset` valid addresses, ready ones `ready: true`, not-ready ones
    /// `ready: false` (a later listing of the same endpoint wins). Every port set of a subset
    /// is wanted for both address types, so slices of a type that lost its addresses go.
    /// Each address left out (invalid IP, over the limit) is reported to `skipped`.
    static func desiredEndpoints(_ ep: Endpoints, maxEndpointsPerSubset: Int,
                                 skipped: (String) -> Void) -> [MirrorKey: DesiredEndpointGroup] {
        var groups: [MirrorKey: DesiredEndpointGroup] = [:]
        for subset in ep.subsets ?? [] {
            let ports = (subset.ports ?? []).map {
                DiscoveryV1EndpointPort(appProtocol: $0.appProtocol, name: $0.name ?? "", port: $0.port, protocol: $0.protocol ?? "TCP")
            }
            let portSet = EndpointPortSet(ports)
            for type in [EndpointIP.ipv4, EndpointIP.ipv6] where groups[MirrorKey(addressType: type, ports: portSet)] == nil {
                groups[MirrorKey(addressType: type, ports: portSet)] = DesiredEndpointGroup(ports: ports)
            }
            let listed = (subset.addresses ?? []).map { ($0, true) } + (subset.notReadyAddresses ?? []).map { ($0, false) }
            var added = 0
            for (address, ready) in listed {
                guard added < maxEndpointsPerSubset else { skipped(address.ip ?? ""); continue }
                guard let ip = EndpointIP(address.ip ?? ""), ip.isPublishable else { skipped(address.ip ?? ""); continue }
                let hostname = address.hostname.flatMap { $0.isEmpty ? nil : $0 }
                let nodeName = address.nodeName.flatMap { $0.isEmpty ? nil : $0 }
                let endpoint = Endpoint(addresses: [ip.canonical], conditions: EndpointConditions(ready: ready), hostname: hostname,
                                        nodeName: nodeName, targetRef: address.targetRef)
                groups[MirrorKey(addressType: ip.addressType, ports: portSet)]?.insert(endpoint)
                added += 1
            }
        }
        return groups
    }

    /// The writes that make `existing` mirror `desired` (`reconcileByPortMapping`): one slice
    /// per wanted key — the first existing one updated in place when it differs, or a new
    /// one — and every other slice deleted.
    static func plan(_ ep: Endpoints, desired: [MirrorKey: DesiredEndpointGroup], existing: [EndpointSlice],
                     maxEndpointsPerSubset: Int) -> EndpointSlicePlan {
        var plan = EndpointSlicePlan()
        var byKey: [MirrorKey: [EndpointSlice]] = [:]
        for slice in existing.sorted(by: { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }) {
            byKey[MirrorKey(addressType: slice.addressType ?? "", ports: EndpointPortSet(slice.ports)), default: []].append(slice)
        }
        for key in desired.keys.sorted() {
            guard let group = desired[key] else { continue }
            let slices = byKey[key] ?? []
            if group.endpoints.isEmpty {
                plan.delete += slices
                continue
            }
            plan.delete += slices.dropFirst()
            let wanted = group.endpoints.sorted { $0.key < $1.key }.prefix(maxEndpointsPerSubset).map(\.value)
            var slice = newSlice(for: ep, ports: group.ports, addressType: key.addressType)
            slice.endpoints = wanted
            if let first = slices.first {
                if mirrors(first, slice) { continue }
                var meta = slice.metadata ?? ObjectMeta()
                meta.generateName = nil
                meta.name = first.metadata?.name
                meta.uid = first.metadata?.uid
                meta.resourceVersion = first.metadata?.resourceVersion
                meta.creationTimestamp = first.metadata?.creationTimestamp
                slice.metadata = meta
                plan.update.append(slice)
            } else {
                plan.create.append(slice)
            }
        }
        for key in byKey.keys.sorted() where desired[key] == nil {
            plan.delete += byKey[key] ?? []
        }
        plan.recycle { _ in true }
        return plan
    }

    /// Whether `existing` already holds what `wanted` does: the same endpoints (in any
    /// order), labels, annotations and owner.
    static func mirrors(_ existing: EndpointSlice, _ wanted: EndpointSlice) -> Bool {
        let have = (existing.endpoints ?? []).map(\.normalized)
        let want = wanted.endpoints ?? []
        return have.count == want.count && Set(have) == Set(want)
            && existing.metadata?.labels ?? [:] == wanted.metadata?.labels ?? [:]
            && existing.metadata?.annotations ?? [:] == wanted.metadata?.annotations ?? [:]
            && existing.metadata?.ownerReferences ?? [] == wanted.metadata?.ownerReferences ?? []
    }

    /// A mirrored slice of `ep` (`newEndpointSlice`): the Endpoints' labels with the service
    /// name and managing controller, its annotations but the trigger time and kubectl's
    /// last-applied configuration, controlled by the Endpoints.
    static func newSlice(for ep: Endpoints, ports: [DiscoveryV1EndpointPort], addressType: String) -> EndpointSlice {
        var labels = ep.metadata?.labels ?? [:]
        labels[WellKnownEndpointLabels.serviceName] = ep.metadata?.name ?? ""
        labels[WellKnownEndpointLabels.managedBy] = WellKnownEndpointLabels.endpointSliceMirroringController
        let annotations = (ep.metadata?.annotations ?? [:]).filter {
            $0.key != WellKnownEndpointLabels.lastChangeTriggerTime && $0.key != WellKnownEndpointLabels.lastAppliedConfiguration
        }
        let meta = ObjectMeta(annotations: annotations.isEmpty ? nil : annotations, generateName: "\(ep.metadata?.name ?? "")-",
                              labels: labels, namespace: ep.metadata?.namespace, ownerReferences: [.controller(ep)])
        return EndpointSlice(addressType: addressType, endpoints: [], metadata: meta, ports: ports)
    }
}
