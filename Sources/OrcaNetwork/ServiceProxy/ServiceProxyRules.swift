import OrcaAPI

/// The service proxy's nftables rules for one node — kube-proxy's nftables mode, as one script
/// built from a snapshot of Services and EndpointSlices, with no I/O.
///
/// The script (see `NFTScript`) brings one `ip` table to the snapshot's rules in a single
/// transaction, so applying it with `nft -f` is atomic: a failed apply leaves the previous rules
/// in place. Given what the last applied script left (`current`), it updates the table in place
/// so that ClientIP affinity sets of endpoints that remain keep what they learnt — as kube-proxy
/// does, by default only what changed (new chains, the chains whose rules changed, the map
/// elements that changed, what is no longer wanted), or with `fullSync` every chain and map
/// flushed and refilled; without `current`, it recreates the table. It is deterministic — the
/// same snapshot, `current` and mode give the same text — and `Output.rules` depends on the
/// snapshot alone, so a caller can skip an unchanged state. Only IPv4 is programmed; IPv6
/// addresses and families are skipped.
///
/// What it does, as kube-proxy does:
/// - ClusterIPs, ExternalIPs and load balancer ingress IPs (`ip daddr . l4proto . dport` in the
///   `service-ips` map) and node ports on every local address but loopback (`fib daddr type
///   local`, `service-nodeports`) are DNATed to an endpoint chosen by `numgen random`, with
///   ClientIP session affinity kept in per-endpoint sets with timeouts;
/// - endpoints are the ready ones, or when none is ready the serving terminating ones;
///   `internalTrafficPolicy: Local` and `externalTrafficPolicy: Local` use only this node's;
/// - traffic is marked (0x4000) for masquerade when an endpoint reaches itself through its
///   service (hairpin), when it comes to a ClusterIP from outside the cluster CIDR, and when it
///   comes from outside to an external address of a service with external policy Cluster;
/// - connections to a service with no endpoints are rejected (TCP reset, else ICMP port
///   unreachable), and to a Local-policy service without local endpoints dropped;
/// - `loadBalancerSourceRanges` drop other sources to load balancer IPs;
/// - optionally the cluster DNS address (port 53, UDP and TCP) is DNATed to a node-local server.
///
/// A service the proxy cannot program (an unparseable ClusterIP, a port 0) is left out and
/// reported in `Output.problems`; it never breaks the rest of the script.
public struct ServiceProxyRules: Sendable {
    /// A static DNAT of the cluster DNS address (port 53, UDP and TCP) to a node-local DNS server.
    public struct ClusterDNSRedirect: Sendable, Hashable {
        /// The cluster DNS service address, e.g. `10.43.0.10`.
        public var ip: String
        /// The node-local server's address.
        public var target: String
        /// The node-local server's port.
        public var port: Int

        public init(ip: String, target: String, port: Int) {
            self.ip = ip
            self.target = target
            self.port = port
        }
    }

    /// Something in the snapshot that got no rules, and why.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// `namespace/name` of the service, or `cluster DNS` / `cluster CIDR`.
        public var subject: String
        public var message: String

        public init(subject: String, message: String) {
            self.subject = subject
            self.message = message
        }

        public var description: String { "\(subject): \(message)" }
    }

    /// A built script and what was left out of it.
    public struct Output: Sendable, Hashable {
        /// The `nft -f` script.
        public var script: String
        /// Services, ports and addresses that were skipped, in service order.
        public var problems: [Problem]
        /// The table once `script` is applied: the next `build`'s `current`.
        public var contents: TableContents
        /// How `script` updates the table.
        public var sync: Sync
        /// The rules and map elements alone: equal snapshots give equal `rules` whatever `current`
        /// was, so with equal `contents` nothing needs applying.
        public var rules: String
        /// The same update leaving the chains it would delete only emptied (the next update deletes
        /// them), for kernels that refuse to delete a chain in the transaction that removes its
        /// last reference (kube-proxy defers those deletions for kernels before 6.2); nil when the
        /// script deletes no chain that had rules.
        public var deferringChainDeletion: Update?
        /// The UDP and SCTP service ports, for conntrack cleanup after the apply.
        public var datagramPorts: DatagramServicePorts
    }

    /// The table name the agent uses by default.
    public static let defaultTableName = "orca-proxy"
    /// The pod network, for telling cluster from outside traffic.
    public static let defaultClusterCIDR = "10.42.0.0/16"
    /// The mark bit that asks for masquerade in postrouting (kube-proxy's default bit 14).
    public static let masqueradeMark: UInt32 = 0x4000

    /// This node's name (endpoints with this `nodeName` are local).
    public var nodeName: String
    /// The `ip` table the script owns (made a valid nft identifier).
    public var tableName: String
    /// The pod CIDR of the whole cluster.
    public var clusterCIDR: String
    /// The cluster DNS redirect, if any.
    public var clusterDNS: ClusterDNSRedirect?

    /// Rules for `nodeName` in table `tableName` (characters nft does not allow become `_`).
    public init(nodeName: String, tableName: String = Self.defaultTableName,
                clusterCIDR: String = Self.defaultClusterCIDR, clusterDNS: ClusterDNSRedirect? = nil) {
        self.nodeName = nodeName
        self.tableName = NFTName.identifier(tableName)
        self.clusterCIDR = clusterCIDR
        self.clusterDNS = clusterDNS
    }

    /// The script for a snapshot of Services and EndpointSlices (in any order), updating a table
    /// that holds `current` (the `contents` of the last script applied) — only where it differs,
    /// or everything with `fullSync` — or recreating it when `current` is nil.
    public func build(services: [Service], slices: [EndpointSlice], current: TableContents? = nil,
                      fullSync: Bool = false) -> Output {
        var writer = ServiceProxyScriptWriter(table: tableName, nodeName: nodeName, clusterCIDR: IPv4CIDR(clusterCIDR))
        if writer.clusterCIDR == nil {
            writer.problems.append(Problem(subject: "cluster CIDR", message: "\(clusterCIDR) is not an IPv4 CIDR: no masquerade of outside traffic to ClusterIPs"))
        }
        writer.writeSkeleton()
        if let clusterDNS { writer.writeClusterDNS(clusterDNS) }
        let endpoints = EndpointIndex(slices: slices)
        var datagramPorts = DatagramServicePorts()
        let ordered = services.sorted {
            ($0.metadata?.namespace ?? "", $0.metadata?.name ?? "") < ($1.metadata?.namespace ?? "", $1.metadata?.name ?? "")
        }
        for service in ordered {
            let subject = "\(service.metadata?.namespace ?? "default")/\(service.metadata?.name ?? "")"
            let (ports, messages) = ProxiedServicePort.ports(of: service)
            writer.problems += messages.map { Problem(subject: subject, message: $0) }
            for port in ports {
                let all = endpoints.endpoints(for: port)
                writer.write(port, EndpointSelection(port: port, endpoints: all, nodeName: nodeName))
                datagramPorts.record(port, endpoints: all, reservedKeys: writer.reservedKeys)
            }
        }
        let header = ["Orca service proxy rules for node \(NFTName.sanitized(nodeName)) (generated; applied with nft -f as one transaction)"]
        let body = writer.script.renderBody()
        let sync: Sync = current == nil ? .recreate : fullSync ? .full : .partial
        let partial = sync == .partial
        let update = writer.script.render(header: header, body: body, current: current, partial: partial)
        var deferring: Update?
        if let current, current.chains.keys.contains(where: { update.contents.chains[$0] == nil }) {
            let kept = writer.script.render(header: header, body: body, current: current, partial: partial, deletingNewChains: false)
            deferring = Update(script: kept.script, contents: kept.contents)
        }
        return Output(script: update.script, problems: writer.problems, contents: update.contents, sync: sync, rules: body,
                      deferringChainDeletion: deferring, datagramPorts: datagramPorts)
    }
}
