import Foundation
import OrcaAPI

/// One port of one Service as the service proxy programs it (kube-proxy's `ServicePortInfo`):
/// its IPv4 addresses, ports and policies, checked and in canonical form.
struct ProxiedServicePort: Sendable, Hashable {
    /// The transport protocols a Service port can have.
    enum TransportProtocol: String, Sendable, Hashable, CaseIterable {
        case tcp, udp, sctp
    }

    var namespace: String
    var name: String
    /// The port's name; empty for the single unnamed port.
    var portName: String
    var transport: TransportProtocol
    var port: Int
    /// The IPv4 ClusterIP (dotted quad, canonical).
    var clusterIP: String
    /// The node port, when the service has one.
    var nodePort: Int?
    /// `spec.externalIPs` that are IPv4 (canonical).
    var externalIPs: [String] = []
    /// `status.loadBalancer.ingress[].ip` that are IPv4 and not in `Proxy` IP mode (canonical).
    var loadBalancerIPs: [String] = []
    /// `spec.loadBalancerSourceRanges` as IPv4 CIDRs: nil when unrestricted; empty when the
    /// service restricts sources but names no IPv4 range (every IPv4 source is then refused).
    var sourceRanges: [String]?
    /// The ClientIP affinity timeout in seconds; nil without session affinity.
    var affinityTimeout: Int?
    /// `internalTrafficPolicy: Local`.
    var internalPolicyLocal = false
    /// `externalTrafficPolicy: Local` (only meaningful when externally accessible).
    var externalPolicyLocal = false

    /// `namespace/name:port` for messages.
    var displayName: String { portName.isEmpty ? "\(namespace)/\(name)" : "\(namespace)/\(name):\(portName)" }
    /// The readable part of this port's chain names: `namespace/name/protocol/port`.
    var chainBase: String { "\(namespace)/\(name)/\(transport.rawValue)/\(portName)" }

    /// Whether node ports, external IPs or load balancer IPs reach the service.
    var externallyAccessible: Bool { nodePort != nil || !externalIPs.isEmpty || !loadBalancerIPs.isEmpty }
    /// Whether traffic may go to endpoints on any node (internal policy Cluster, or external
    /// traffic, whose pod- and node-originated part always goes cluster-wide).
    var usesClusterEndpoints: Bool { !internalPolicyLocal || externallyAccessible }
    /// Whether some traffic may go only to this node's endpoints.
    var usesLocalEndpoints: Bool { internalPolicyLocal || (externalPolicyLocal && externallyAccessible) }
    /// External traffic policy Local, for a port that takes external traffic.
    var externalLocal: Bool { externalPolicyLocal && externallyAccessible }

    /// The default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours).
    static let defaultAffinityTimeout = 10800
    /// The longest affinity timeout the API allows (1 day).
    static let maximumAffinityTimeout = 86400

    /// The ports of `service` that get rules, and what was wrong with the ones that do not.
    /// ExternalName and headless services, and services without an IPv4 ClusterIP, get no ports
    /// (and no problem); a ClusterIP that is not an address skips the whole service; a bad port or
    /// address skips only that port or address.
    static func ports(of service: Service) -> (ports: [ProxiedServicePort], problems: [String]) {
        guard let spec = service.spec, spec.type != "ExternalName" else { return ([], []) }
        let namespace = service.metadata?.namespace ?? "default"
        guard let name = service.metadata?.name, !name.isEmpty else { return ([], ["service without a name"]) }
        var problems: [String] = []

        let candidates = ([spec.clusterIP] + (spec.clusterIPs ?? []).map(Optional.some)).compactMap { $0 }
        if candidates.isEmpty || candidates.contains("None") || candidates.allSatisfy(\.isEmpty) { return ([], []) }
        guard let clusterIP = candidates.lazy.compactMap(canonicalIPv4).first else {
            if candidates.contains(where: { $0.contains(":") }) { return ([], []) } // IPv6 only
            return ([], ["clusterIP \(candidates[0]) is not an IP address"])
        }

        var externalIPs: [String] = []
        for ip in spec.externalIPs ?? [] {
            if let v4 = canonicalIPv4(ip) {
                if !externalIPs.contains(v4) { externalIPs.append(v4) }
            } else if !ip.contains(":") {
                problems.append("externalIP \(ip) is not an IP address")
            }
        }
        var loadBalancerIPs: [String] = []
        for ingress in service.status?.loadBalancer?.ingress ?? [] where ingress.ipMode != "Proxy" {
            guard let ip = ingress.ip, !ip.isEmpty else { continue }
            if let v4 = canonicalIPv4(ip) {
                if !loadBalancerIPs.contains(v4) { loadBalancerIPs.append(v4) }
            } else if !ip.contains(":") {
                problems.append("load balancer ingress IP \(ip) is not an IP address")
            }
        }
        var sourceRanges: [String]?
        if let ranges = spec.loadBalancerSourceRanges, !ranges.isEmpty {
            var v4: [String] = []
            for range in ranges {
                let text = range.trimmingCharacters(in: .whitespaces)
                if let cidr = IPv4CIDR(text) ?? canonicalIPv4(text).flatMap({ IPv4CIDR("\($0)/32") }) {
                    if !v4.contains(cidr.description) { v4.append(cidr.description) }
                } else if !text.contains(":") {
                    problems.append("loadBalancerSourceRange \(range) is not a CIDR")
                }
            }
            sourceRanges = v4
        }
        var affinityTimeout: Int?
        if spec.sessionAffinity == "ClientIP" {
            let configured = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds.map(Int.init)
            if let configured, !(1...maximumAffinityTimeout).contains(configured) {
                problems.append("session affinity timeout \(configured) s is out of range, using \(defaultAffinityTimeout) s")
                affinityTimeout = defaultAffinityTimeout
            } else {
                affinityTimeout = configured ?? defaultAffinityTimeout
            }
        }

        var ports: [ProxiedServicePort] = []
        var seen = Set<String>()
        for sp in spec.ports ?? [] {
            let portName = sp.name ?? ""
            let label = portName.isEmpty ? "port \(sp.port.map(String.init) ?? "?")" : "port \(portName)"
            guard let transport = TransportProtocol(rawValue: (sp.protocol ?? "TCP").lowercased()) else {
                problems.append("\(label): protocol \(sp.protocol ?? "") is not TCP, UDP or SCTP")
                continue
            }
            guard let port = sp.port.map(Int.init), (1...65535).contains(port) else {
                problems.append("\(label): port \(sp.port.map(String.init) ?? "(none)") is not in 1-65535")
                continue
            }
            var nodePort: Int?
            if let np = sp.nodePort, np != 0 {
                guard (1...65535).contains(Int(np)) else {
                    problems.append("\(label): nodePort \(np) is not in 1-65535")
                    continue
                }
                nodePort = Int(np)
            }
            guard seen.insert("\(portName)/\(transport.rawValue)").inserted else {
                problems.append("\(label): a second \(transport.rawValue) port of that name")
                continue
            }
            ports.append(ProxiedServicePort(
                namespace: namespace, name: name, portName: portName, transport: transport, port: port,
                clusterIP: clusterIP, nodePort: nodePort, externalIPs: externalIPs, loadBalancerIPs: loadBalancerIPs,
                sourceRanges: loadBalancerIPs.isEmpty ? nil : sourceRanges, affinityTimeout: affinityTimeout,
                internalPolicyLocal: spec.internalTrafficPolicy == "Local",
                externalPolicyLocal: spec.externalTrafficPolicy == "Local"))
        }
        return (ports, problems)
    }

    /// `text` as a canonical dotted quad, or nil when it is not an IPv4 address.
    static func canonicalIPv4(_ text: String) -> String? {
        IPv4CIDR.parse(text.trimmingCharacters(in: .whitespaces)).map(IPv4CIDR.format)
    }
}
