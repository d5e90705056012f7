import OrcaAPI

/// Writes `ServiceProxyRules`' table: the fixed skeleton here, one service port at a time in
/// `ServiceProxyScriptWriter+ServicePort.swift`.
///
/// The table (all in family `ip`):
///
/// ```
/// base chains                                           regular chains
/// filter-prerouting  filter prerouting -110 ─ct new─▶ firewall-check   → vmap @firewall-ips
/// filter-input       filter input      -110 ─ct new─▶ endpoints-check  → vmap @no-endpoint-services,
/// filter-forward     filter forward    -110 ─ct new─▶ endpoints-check      local-address vmap @no-endpoint-nodeports
/// filter-output      filter output     -110 ─ct new─▶ endpoints-check, firewall-check
/// nat-prerouting     nat    prerouting -100 ────────▶ services         → vmap @service-ips,
/// nat-output         nat    output     -100 ────────▶ services             local-address vmap @service-nodeports
/// nat-postrouting    nat    postrouting 100 ────────▶ masquerading     (mark 0x4000 → masquerade)
///
/// reject-chain        tcp reset / icmp port unreachable (services with no endpoints)
/// no-local-endpoints  drop, except the node's own traffic (Local external policy, none here)
/// mark-for-masquerade meta mark |= 0x4000
/// cluster-dns         dnat to the node-local DNS server (optional)
/// per service port:   service-/local-/external-/firewall-HASH-ns/name/proto/port
/// per endpoint:       endpoint-HASH-ns/name/proto/port__ip/port, set affinity-HASH-… (ClientIP)
/// ```
struct ServiceProxyScriptWriter: Sendable {
    static let servicesChain = "services"
    static let endpointsCheckChain = "endpoints-check"
    static let firewallCheckChain = "firewall-check"
    static let rejectChain = "reject-chain"
    static let noLocalEndpointsChain = "no-local-endpoints"
    static let markMasqueradeChain = "mark-for-masquerade"
    static let masqueradingChain = "masquerading"
    static let clusterDNSChain = "cluster-dns"

    static let serviceIPsMap = "service-ips"
    static let serviceNodePortsMap = "service-nodeports"
    static let noEndpointServicesMap = "no-endpoint-services"
    static let noEndpointNodePortsMap = "no-endpoint-nodeports"
    static let firewallIPsMap = "firewall-ips"

    /// Filter chains run before DNAT (they see the service address); nat chains at dstnat/srcnat.
    static let filterPriority = -110
    static let dstnatPriority = -100
    static let srcnatPriority = 100

    /// Node ports are taken on every local address except loopback.
    static let localNonLoopback = "fib daddr type local ip daddr != 127.0.0.0/8"

    var script: NFTScript
    let nodeName: String
    let clusterCIDR: IPv4CIDR?
    var problems: [ServiceProxyRules.Problem] = []
    /// Service-IP map keys taken by the cluster DNS redirect (no service may claim or reject them).
    var reservedKeys = Set<String>()

    init(table: String, nodeName: String, clusterCIDR: IPv4CIDR?) {
        script = NFTScript(table: table)
        self.nodeName = nodeName
        self.clusterCIDR = clusterCIDR
    }

    /// The base chains, dispatch chains and maps every script has.
    mutating func writeSkeleton() {
        for (name, type, hook, priority) in [
            ("filter-prerouting", "filter", "prerouting", Self.filterPriority),
            ("filter-input", "filter", "input", Self.filterPriority),
            ("filter-forward", "filter", "forward", Self.filterPriority),
            ("filter-output", "filter", "output", Self.filterPriority),
            ("nat-prerouting", "nat", "prerouting", Self.dstnatPriority),
            ("nat-output", "nat", "output", Self.dstnatPriority),
            ("nat-postrouting", "nat", "postrouting", Self.srcnatPriority),
        ] {
            script.baseChain(.init(name: name, type: type, hook: hook, priority: priority))
        }
        for chain in [Self.servicesChain, Self.endpointsCheckChain, Self.firewallCheckChain, Self.rejectChain,
                      Self.noLocalEndpointsChain, Self.markMasqueradeChain, Self.masqueradingChain] {
            script.chain(chain)
        }
        let ipKey = "ipv4_addr . inet_proto . inet_service"
        script.verdictMap(Self.serviceIPsMap, keyType: ipKey)
        script.verdictMap(Self.serviceNodePortsMap, keyType: "inet_proto . inet_service")
        script.verdictMap(Self.noEndpointServicesMap, keyType: ipKey)
        script.verdictMap(Self.noEndpointNodePortsMap, keyType: "inet_proto . inet_service")
        script.verdictMap(Self.firewallIPsMap, keyType: ipKey)

        script.rule("filter-prerouting", "ct state new jump \(Self.firewallCheckChain)")
        script.rule("filter-input", "ct state new jump \(Self.endpointsCheckChain)")
        script.rule("filter-forward", "ct state new jump \(Self.endpointsCheckChain)")
        script.rule("filter-output", "ct state new jump \(Self.endpointsCheckChain)")
        script.rule("filter-output", "ct state new jump \(Self.firewallCheckChain)")
        script.rule("nat-prerouting", "jump \(Self.servicesChain)")
        script.rule("nat-output", "jump \(Self.servicesChain)")
        script.rule("nat-postrouting", "jump \(Self.masqueradingChain)")

        script.rule(Self.servicesChain, "ip daddr . meta l4proto . th dport vmap @\(Self.serviceIPsMap)")
        script.rule(Self.servicesChain, "\(Self.localNonLoopback) meta l4proto . th dport vmap @\(Self.serviceNodePortsMap)")
        script.rule(Self.endpointsCheckChain, "ip daddr . meta l4proto . th dport vmap @\(Self.noEndpointServicesMap)")
        script.rule(Self.endpointsCheckChain, "\(Self.localNonLoopback) meta l4proto . th dport vmap @\(Self.noEndpointNodePortsMap)")
        script.rule(Self.firewallCheckChain, "ip daddr . meta l4proto . th dport vmap @\(Self.firewallIPsMap)")

        script.rule(Self.rejectChain, "meta l4proto tcp reject with tcp reset")
        script.rule(Self.rejectChain, "reject")
        // Filter chains run before nat-output, so the node's own connections to an external
        // address of a Local-policy service reach this before the external chain sends them
        // cluster-wide; let those through.
        script.rule(Self.noLocalEndpointsChain, "fib saddr type local return")
        script.rule(Self.noLocalEndpointsChain, "drop")

        let mark = "0x" + String(ServiceProxyRules.masqueradeMark, radix: 16)
        script.rule(Self.markMasqueradeChain, "meta mark set meta mark or \(mark)")
        script.rule(Self.masqueradingChain, "meta mark & \(mark) == 0 return")
        script.rule(Self.masqueradingChain, "meta mark set meta mark xor \(mark)")
        script.rule(Self.masqueradingChain, "masquerade fully-random")
    }

    /// The static DNAT of `dns.ip`:53 (UDP and TCP) to `dns.target`:`dns.port`; written before any
    /// service so it wins over a Service with the same address.
    mutating func writeClusterDNS(_ dns: ServiceProxyRules.ClusterDNSRedirect) {
        guard let ip = ProxiedServicePort.canonicalIPv4(dns.ip), let target = ProxiedServicePort.canonicalIPv4(dns.target),
              (1...65535).contains(dns.port)
        else {
            problems.append(.init(subject: "cluster DNS", message: "redirect \(dns.ip) → \(dns.target):\(dns.port) is not IPv4 addresses and a port; not programmed"))
            return
        }
        script.chain(Self.clusterDNSChain)
        script.comment("cluster DNS \(ip):53 → \(target):\(dns.port)")
        script.rule(Self.clusterDNSChain, "meta l4proto { tcp, udp } dnat to \(target):\(dns.port)")
        for proto in ["tcp", "udp"] {
            let key = "\(ip) . \(proto) . 53"
            reservedKeys.insert(key)
            script.element(Self.serviceIPsMap, key: key, value: "goto \(Self.clusterDNSChain)")
        }
    }
}
