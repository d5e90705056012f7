import Foundation
import OrcaClient

/// Plans the EndpointSlices of one Service for one address type (the endpointslice
/// reconciler's `reconcileByAddressType` and `reconcileByPortMapping`), without I/O:
///
/// - slices are grouped by port set; slices not owned by this Service (an older Service of
///   the same name) and groups no longer wanted are deleted;
/// - within a group, an endpoint already in a slice stays there (updated in place if its
///   conditions changed); endpoints no longer wanted are removed; a slice left empty is
///   deleted; a slice whose endpoints and labels are as wanted is not written;
/// - new endpoints fill the slices being updated anyway (fullest first), then the one
///   unchanged slice they fit best, then new slices of at most `maxEndpointsPerSlice`;
/// - a Service with no endpoints keeps one empty placeholder slice, so consumers can tell
///   "no endpoints" from "not synced yet";
/// - creates that coincide with deletes become updates of the slices being deleted.
struct EndpointSlicePlanner: Sendable {
    let service: Service
    let addressType: String
    let maxEndpointsPerSlice: Int
    /// The labels every slice of the Service carries.
    let labels: [String: String]

    init(service: Service, addressType: String, maxEndpointsPerSlice: Int,
         managedBy: String = WellKnownEndpointLabels.endpointSliceController) {
        self.service = service
        self.addressType = addressType
        self.maxEndpointsPerSlice = max(1, maxEndpointsPerSlice)
        self.labels = service.endpointSliceLabels(managedBy: managedBy)
    }

    /// The writes that turn `existing` (this address type's slices, as cached) into slices
    /// holding exactly the `desired` endpoints.
    func plan(desired: [EndpointPortSet: DesiredEndpointGroup], existing: [EndpointSlice]) -> EndpointSlicePlan {
        var plan = EndpointSlicePlan()
        var byPorts: [EndpointPortSet: [EndpointSlice]] = [:]
        for slice in existing.sorted(by: { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }) {
            if isOwned(slice) {
                byPorts[EndpointPortSet(slice.ports), default: []].append(slice)
            } else {
                plan.delete.append(slice)
            }
        }
        for key in desired.keys.sorted() {
            guard let group = desired[key] else { continue }
            let groupPlan = planGroup(existing: byPorts[key] ?? [], desired: group)
            plan.create += groupPlan.create
            plan.update += groupPlan.update
            plan.delete += groupPlan.delete
        }
        for key in byPorts.keys.sorted() where desired[key] == nil {
            plan.delete += byPorts[key] ?? []
        }
        // No slice would remain: keep (or make) the placeholder.
        if existing.count == plan.delete.count && plan.create.isEmpty {
            if plan.delete.count == 1, isPlaceholder(plan.delete[0]) {
                plan.delete = []
            } else {
                plan.create.append(newSlice(ports: []))
            }
        }
        plan.recycle { isOwned($0) }
        return plan
    }

    /// Plans one port set's slices (`reconcileByPortMapping`).
    func planGroup(existing: [EndpointSlice], desired: DesiredEndpointGroup) -> EndpointSlicePlan {
        var plan = EndpointSlicePlan()
        var remaining = desired.endpoints
        var updating: [EndpointSlice] = []
        var unchanged: [EndpointSlice] = []

        // 1. Keep the wanted endpoints where they are; drop the others.
        for slice in existing {
            var kept: [Endpoint] = []
            var changed = false
            for endpoint in slice.endpoints ?? [] {
                guard let wanted = remaining.removeValue(forKey: EndpointIdentity(endpoint)) else {
                    changed = true
                    continue
                }
                if endpoint.normalized != wanted { changed = true }
                kept.append(wanted)
            }
            if changed {
                if kept.isEmpty {
                    plan.delete.append(slice)
                } else {
                    var next = slice
                    next.endpoints = kept
                    next.metadata?.labels = labels
                    updating.append(next)
                }
            } else if slice.metadata?.labels ?? [:] != labels {
                var next = slice
                next.metadata?.labels = labels
                updating.append(next)
            } else {
                unchanged.append(slice)
            }
        }

        // Endpoints still to place, in a stable order (popped from the end).
        var pending = remaining.sorted { $0.key > $1.key }.map(\.value)

        // 2. Fill the slices written anyway, fullest first.
        updating.sort { ($0.endpoints?.count ?? 0) > ($1.endpoints?.count ?? 0) }
        for i in updating.indices where !pending.isEmpty {
            var endpoints = updating[i].endpoints ?? []
            while let next = pending.last, endpoints.count < maxEndpointsPerSlice {
                endpoints.append(next)
                pending.removeLast()
            }
            updating[i].endpoints = endpoints
        }

        // 3. Fit the rest into the unchanged slice they fill best, or into new slices.
        while !pending.isEmpty {
            var slice: EndpointSlice
            if pending.count < maxEndpointsPerSlice, let best = bestFit(unchanged, adding: pending.count) {
                slice = unchanged.remove(at: best)
            } else {
                slice = newSlice(ports: desired.ports)
            }
            var endpoints = slice.endpoints ?? []
            while let next = pending.last, endpoints.count < maxEndpointsPerSlice {
                endpoints.append(next)
                pending.removeLast()
            }
            slice.endpoints = endpoints
            if slice.metadata?.name == nil {
                plan.create.append(slice)
            } else {
                updating.append(slice)
            }
        }
        plan.update = updating
        return plan
    }

    /// The index of the slice that `count` more endpoints fill closest to full without
    /// overflowing (`getSliceToFill`).
    func bestFit(_ slices: [EndpointSlice], adding count: Int) -> Int? {
        var best: Int?
        var bestGap = maxEndpointsPerSlice
        for (i, slice) in slices.enumerated() {
            let gap = maxEndpointsPerSlice - (count + (slice.endpoints?.count ?? 0))
            if gap >= 0 && gap < bestGap {
                best = i
                bestGap = gap
                if gap == 0 { break }
            }
        }
        return best
    }

    /// A new slice of this Service with `ports` and no endpoints yet (`newEndpointSlice`):
    /// named `<service>-<random>`, labelled, controlled by the Service.
    func newSlice(ports: [DiscoveryV1EndpointPort]) -> EndpointSlice {
        let meta = ObjectMeta(generateName: "\(service.metadata?.name ?? "")-", labels: labels, namespace: service.metadata?.namespace,
                              ownerReferences: [.controller(service)])
        return EndpointSlice(addressType: addressType, endpoints: [], metadata: meta, ports: ports)
    }

    /// Controlled by this Service (its UID).
    func isOwned(_ slice: EndpointSlice) -> Bool {
        slice.isOwned(byKind: Service.kind, uid: service.metadata?.uid)
    }

    /// An owned, empty, port-less slice with the Service's labels: what the placeholder is.
    func isPlaceholder(_ slice: EndpointSlice) -> Bool {
        isOwned(slice) && (slice.endpoints ?? []).isEmpty && (slice.ports ?? []).isEmpty
            && slice.addressType == addressType && slice.metadata?.labels ?? [:] == labels
    }
}
