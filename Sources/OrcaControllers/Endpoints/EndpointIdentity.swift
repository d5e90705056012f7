import Foundation
import OrcaClient

/// Who an EndpointSlice endpoint is, whatever its conditions (the reconciler's `hashEndpoint`):
/// its addresses, hostname and target. Two endpoints with one identity are the same backend,
/// so a slice keeps an endpoint whose conditions changed instead of moving it.
struct EndpointIdentity: Hashable, Comparable, Sendable {
    var addresses: [String]
    var hostname: String
    var namespace: String
    var name: String

    init(_ endpoint: Endpoint) {
        addresses = (endpoint.addresses ?? []).sorted()
        hostname = endpoint.hostname ?? ""
        namespace = endpoint.targetRef?.namespace ?? ""
        name = endpoint.targetRef?.name ?? ""
    }

    static func < (a: EndpointIdentity, b: EndpointIdentity) -> Bool {
        if a.namespace != b.namespace { return a.namespace < b.namespace }
        if a.name != b.name { return a.name < b.name }
        if a.addresses != b.addresses { return a.addresses.lexicographicallyPrecedes(b.addresses) }
        return a.hostname < b.hostname
    }
}

extension Endpoint {
    /// This endpoint as it compares: addresses sorted, the target's resourceVersion dropped
    /// (a pod's resourceVersion changes with every status write; Kubernetes ignores it too).
    var normalized: Endpoint {
        var e = self
        e.addresses = (addresses ?? []).sorted()
        e.targetRef?.resourceVersion = nil
        return e
    }
}

/// The ports of one group of endpoints, in a form that compares regardless of order and of
/// what the API server defaulted (`PortMapKey`): slices are grouped by it, and endpoints whose
/// pods resolve the service ports differently go to different slices.
struct EndpointPortSet: Hashable, Sendable, Comparable {
    /// Normalized (name `""`, protocol `TCP` when absent) and sorted.
    let ports: [DiscoveryV1EndpointPort]

    init(_ ports: [DiscoveryV1EndpointPort]?) {
        self.ports = (ports ?? []).map(Self.normalize).sorted(by: Self.portOrder)
    }

    static func normalize(_ p: DiscoveryV1EndpointPort) -> DiscoveryV1EndpointPort {
        DiscoveryV1EndpointPort(appProtocol: p.appProtocol, name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP")
    }

    static func portOrder(_ a: DiscoveryV1EndpointPort, _ b: DiscoveryV1EndpointPort) -> Bool {
        (a.name ?? "", a.port ?? 0, a.protocol ?? "", a.appProtocol ?? "") < (b.name ?? "", b.port ?? 0, b.protocol ?? "", b.appProtocol ?? "")
    }

    static func < (a: EndpointPortSet, b: EndpointPortSet) -> Bool {
        a.ports.lexicographicallyPrecedes(b.ports, by: portOrder)
    }
}

/// The endpoints wanted in one group of slices (one address type and port set), by identity.
struct DesiredEndpointGroup: Sendable {
    /// The ports, as the first pod of the group resolved them (service port order).
    var ports: [DiscoveryV1EndpointPort]
    var endpoints: [EndpointIdentity: Endpoint] = [:]

    /// Adds `endpoint`, replacing one with the same identity.
    mutating func insert(_ endpoint: Endpoint) {
        let e = endpoint.normalized
        endpoints[EndpointIdentity(e)] = e
    }
}

extension EndpointSlice {
    /// The slice's `namespace/name`.
    var key: String { "\(metadata?.namespace ?? "")/\(metadata?.name ?? "")" }

    /// The `namespace/name` of the Service (or Endpoints) named by the slice's
    /// `kubernetes.io/service-name` label; nil without that label.
    var serviceKey: String? {
        guard let name = metadata?.labels?[WellKnownEndpointLabels.serviceName], !name.isEmpty else { return nil }
        return "\(metadata?.namespace ?? "")/\(name)"
    }

    /// The `endpointslice.kubernetes.io/managed-by` label.
    var managedBy: String? { metadata?.labels?[WellKnownEndpointLabels.managedBy] }

    /// Has a controller owner reference of kind `kind` with this UID (`ownedBy`).
    func isOwned(byKind kind: String, apiVersion: String = "v1", uid: String?) -> Bool {
        guard let uid else { return false }
        return (metadata?.ownerReferences ?? []).contains { $0.uid == uid && $0.kind == kind && $0.apiVersion == apiVersion }
    }

    /// The slice's resourceVersion as the store revision it is (0 when absent or foreign).
    var revision: Int64 { Int64(metadata?.resourceVersion ?? "") ?? 0 }
}
