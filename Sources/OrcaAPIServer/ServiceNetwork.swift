import OrcaAPI

/// The addresses Services get: the service CIDR their cluster IPs come from
/// (kube-apiserver's `--service-cluster-ip-range`), the node-port range
/// (`--service-node-port-range`), and the addresses held back: the `kubernetes` Service's
/// (the CIDR's first address) and the cluster DNS address, which Orca serves itself.
public struct ServiceNetwork: Sendable, Hashable {
    /// Where cluster IPs come from.
    public var serviceCIDR: IPv4CIDR
    /// The cluster DNS address (in `serviceCIDR`), never given to a Service.
    public var clusterDNS: String
    /// Node ports.
    public var nodePorts: ClosedRange<Int64>

    /// 10.43.0.0/16, DNS on 10.43.0.10, node ports 30000–32767 (k3s's defaults).
    public static let standard = ServiceNetwork(serviceCIDR: IPv4CIDR("10.43.0.0/16")!, clusterDNS: "10.43.0.10")

    public init(serviceCIDR: IPv4CIDR, clusterDNS: String, nodePorts: ClosedRange<Int64> = 30000...32767) {
        self.serviceCIDR = serviceCIDR
        self.clusterDNS = clusterDNS
        self.nodePorts = nodePorts
    }

    /// The `kubernetes` Service's cluster IP: the CIDR's first address.
    public var apiServiceIP: String { serviceCIDR.address(at: 1) ?? "" }

    /// The default cluster DNS address of a service CIDR: its tenth address (k3s's rule).
    public static func defaultClusterDNS(_ cidr: IPv4CIDR) -> String { cidr.address(at: 10) ?? "" }

    /// Whether `ip` can be a Service's: inside the CIDR, neither its network nor broadcast address.
    public func isAllocatable(_ ip: String) -> Bool {
        guard let offset = serviceCIDR.offset(of: ip) else { return false }
        return offset != 0 && offset != serviceCIDR.size - 1
    }
}
