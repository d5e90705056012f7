/// The UDP and SCTP service ports of one snapshot, as conntrack cleanup compares them
/// (kube-proxy's `conntrack.CleanStaleEntries`), with no I/O.
///
/// A connection-tracking entry keeps a flow on the endpoint its first packet was DNATed to, and a
/// UDP or SCTP client that keeps sending keeps the entry alive — after the endpoint is gone, or
/// after a reject while the service had no endpoints. So after each apply the proxy deletes, from
/// what changed since the previous apply:
/// - for a port whose endpoint went away: entries to the port's ClusterIP, external and load
///   balancer IPs (and node port, DNATed) whose reply comes from that endpoint;
/// - for a UDP port that went from no endpoints (or not existing) to some, and for a UDP port that
///   went away: every entry to its addresses and node port.
/// The next packet of such a flow then goes through the rules again.
public struct DatagramServicePorts: Sendable, Hashable {
    /// One UDP or SCTP service port.
    struct Port: Sendable, Hashable {
        var transport: ProxiedServicePort.TransportProtocol
        var port: Int
        /// ClusterIP, external IPs, load balancer IPs (not those the cluster DNS redirect owns).
        var addresses: [String]
        var nodePort: Int?
        /// Endpoints the rules may use anywhere in the cluster (ready, or serving and terminating),
        /// whatever the traffic policies: a policy change alone does not move existing flows.
        var endpoints: Set<Endpoint>
    }

    struct Endpoint: Sendable, Hashable {
        var ip: String
        var port: Int
    }

    /// Keyed by `namespace/name/protocol/portName`.
    var ports: [String: Port] = [:]

    /// None (what the proxy compares its first apply with, as kube-proxy does after a start: every
    /// UDP service with endpoints counts as newly active).
    public init() {}

    /// Records `port` (TCP ones are not recorded) with its endpoints from every node.
    mutating func record(_ port: ProxiedServicePort, endpoints: [ProxiedEndpoint], reservedKeys: Set<String>) {
        guard port.transport != .tcp else { return }
        let addresses = ([port.clusterIP] + port.externalIPs + port.loadBalancerIPs).filter {
            !reservedKeys.contains("\($0) . \(port.transport.rawValue) . \(port.port)")
        }
        let usable = endpoints.filter { $0.ready || $0.servingTerminating }.map { Endpoint(ip: $0.ip, port: $0.port) }
        ports[port.chainBase] = Port(transport: port.transport, port: port.port, addresses: addresses,
                                     nodePort: port.nodePort, endpoints: Set(usable))
    }

    /// The conntrack deletions that moving from `previous` to this snapshot calls for, sorted and
    /// without repeats.
    public func staleFlows(since previous: DatagramServicePorts) -> [Conntrack.Filter] {
        var filters = Set<Conntrack.Filter>()
        for (key, port) in ports {
            let old = previous.ports[key]
            let proto = port.transport.rawValue
            // Old and new addresses: an address the service dropped has flows as stale as any.
            let addresses = Set(port.addresses + (old?.addresses ?? []))
            let nodePorts = Set([port.nodePort, old?.nodePort].compactMap { $0 })
            for e in (old?.endpoints ?? []).subtracting(port.endpoints) {
                for ip in addresses {
                    filters.insert(.init(transport: proto, originalDestination: ip, originalDestinationPort: port.port,
                                         replySource: e.ip, replySourcePort: e.port))
                }
                for nodePort in nodePorts {
                    filters.insert(.init(transport: proto, originalDestinationPort: nodePort,
                                         replySource: e.ip, replySourcePort: e.port, destinationNATed: true))
                }
            }
            // Newly active: what the reject (or nothing) answered must not stick.
            if port.transport == .udp, !port.endpoints.isEmpty, old?.endpoints.isEmpty ?? true {
                filters.formUnion(Self.everything(port, addresses: addresses, nodePorts: nodePorts))
            }
        }
        for (key, old) in previous.ports where ports[key] == nil && old.transport == .udp {
            filters.formUnion(Self.everything(old, addresses: Set(old.addresses), nodePorts: Set([old.nodePort].compactMap { $0 })))
        }
        return filters.sorted()
    }

    /// Every entry to the port's addresses and node ports.
    static func everything(_ port: Port, addresses: Set<String>, nodePorts: Set<Int>) -> [Conntrack.Filter] {
        let proto = port.transport.rawValue
        return addresses.map { Conntrack.Filter(transport: proto, originalDestination: $0, originalDestinationPort: port.port) }
            + nodePorts.map { Conntrack.Filter(transport: proto, originalDestinationPort: $0) }
    }
}
