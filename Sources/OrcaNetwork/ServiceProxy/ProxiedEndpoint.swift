import OrcaAPI

/// One endpoint of one service port (kube-proxy's `BaseEndpointInfo`): an IPv4 address, the
/// target port from its EndpointSlice, the node it runs on and its conditions.
struct ProxiedEndpoint: Sendable, Hashable, Comparable {
    /// Canonical dotted quad.
    var ip: String
    var port: Int
    var nodeName: String?
    /// `conditions.ready`, nil counting as true.
    var ready: Bool
    /// `conditions.serving`, nil counting as true (as kube-proxy reads it).
    var serving: Bool
    /// `conditions.terminating`, nil counting as false.
    var terminating: Bool

    /// `ip:port`, as `dnat to` takes it.
    var address: String { "\(ip):\(port)" }

    /// Whether the endpoint may take connections while terminating (kube-proxy's fallback when a
    /// service has no ready endpoint).
    var servingTerminating: Bool { serving && terminating }

    /// How much an endpoint is worth when two slices list one address and port.
    var rank: Int { ready ? 2 : servingTerminating ? 1 : 0 }

    static func < (a: ProxiedEndpoint, b: ProxiedEndpoint) -> Bool {
        let x = IPv4CIDR.parse(a.ip) ?? 0, y = IPv4CIDR.parse(b.ip) ?? 0
        return (x, a.port) < (y, b.port)
    }
}

/// The endpoints of every service port, read from EndpointSlices (kube-proxy's endpoint slice
/// cache): a slice belongs to the service named by its `kubernetes.io/service-name` label in its
/// namespace; a slice port belongs to the service port of the same name and protocol.
/// Only IPv4 slices count; an endpoint's first IPv4 address is used, as kube-proxy uses the first.
struct EndpointIndex: Sendable {
    /// The label that ties an EndpointSlice to its Service.
    static let serviceNameLabel = WellKnownEndpointLabels.serviceName

    struct Key: Hashable, Sendable {
        var namespace: String
        var service: String
        var portName: String
        var transport: ProxiedServicePort.TransportProtocol
    }

    private var endpoints: [Key: [ProxiedEndpoint]] = [:]

    /// Indexes `slices`; the result does not depend on their order.
    init(slices: [EndpointSlice]) {
        var byKey: [Key: [String: ProxiedEndpoint]] = [:]
        let ordered = slices.sorted {
            ($0.metadata?.namespace ?? "", $0.metadata?.name ?? "") < ($1.metadata?.namespace ?? "", $1.metadata?.name ?? "")
        }
        for slice in ordered {
            guard let service = slice.metadata?.labels?[Self.serviceNameLabel], !service.isEmpty,
                  slice.addressType == nil || slice.addressType == "IPv4"
            else { continue }
            let namespace = slice.metadata?.namespace ?? "default"
            for port in slice.ports ?? [] {
                guard let number = port.port.map(Int.init), (1...65535).contains(number),
                      let transport = ProxiedServicePort.TransportProtocol(rawValue: (port.protocol ?? "TCP").lowercased())
                else { continue }
                let key = Key(namespace: namespace, service: service, portName: port.name ?? "", transport: transport)
                for endpoint in slice.endpoints ?? [] {
                    guard let ip = (endpoint.addresses ?? []).lazy.compactMap(ProxiedServicePort.canonicalIPv4).first
                    else { continue }
                    let ready = endpoint.conditions?.ready ?? true
                    let candidate = ProxiedEndpoint(
                        ip: ip, port: number, nodeName: endpoint.nodeName, ready: ready,
                        serving: endpoint.conditions?.serving ?? true,
                        terminating: endpoint.conditions?.terminating ?? false)
                    if let existing = byKey[key]?[candidate.address], existing.rank >= candidate.rank { continue }
                    byKey[key, default: [:]][candidate.address] = candidate
                }
            }
        }
        endpoints = byKey.mapValues { $0.values.sorted() }
    }

    /// The endpoints of one service port, sorted by address and port.
    func endpoints(for port: ProxiedServicePort) -> [ProxiedEndpoint] {
        endpoints[Key(namespace: port.namespace, service: port.name, portName: port.portName, transport: port.transport)] ?? []
    }
}

/// Which endpoints a service port's traffic may use on this node (kube-proxy's
/// `CategorizeEndpoints`, without topology hints).
struct EndpointSelection: Sendable, Hashable {
    /// The endpoints for Cluster traffic policy: the ready ones, else the serving terminating ones.
    var cluster: [ProxiedEndpoint] = []
    /// The endpoints for Local traffic policy: this node's ready ones, else its serving terminating ones.
    var local: [ProxiedEndpoint] = []
    /// Every endpoint some rule may reach (each gets an endpoint chain).
    var reachable: [ProxiedEndpoint] = []
    /// Whether the service has a usable endpoint anywhere in the cluster.
    var hasAny = false

    /// Selects from `all` (one service port's endpoints) for `nodeName`. (A service that publishes
    /// not-ready addresses has them marked ready by the EndpointSlice controller already.)
    init(port: ProxiedServicePort, endpoints all: [ProxiedEndpoint], nodeName: String) {
        if port.usesClusterEndpoints {
            cluster = all.filter(\.ready)
            if cluster.isEmpty { cluster = all.filter(\.servingTerminating) }
            hasAny = !cluster.isEmpty
        }
        guard port.usesLocalEndpoints else {
            reachable = cluster
            return
        }
        let mine = all.filter { $0.nodeName == nodeName }
        if all.contains(where: { $0.ready || $0.servingTerminating }) { hasAny = true }
        local = mine.filter(\.ready)
        if local.isEmpty { local = mine.filter(\.servingTerminating) }
        reachable = port.usesClusterEndpoints ? Array(Set(cluster).union(local)).sorted() : local
    }
}
