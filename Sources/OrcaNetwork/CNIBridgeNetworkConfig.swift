/// The network configuration of the CNI `bridge` plugin with `host-local` IPAM, as Orca writes it.
///
/// Pods get a veth into a Linux bridge whose address is the gateway; `ipMasq` is off, so nothing is
/// NAT'ed to the outside.
public struct CNIBridgeNetworkConfig: Codable, Hashable, Sendable {
    /// CNI spec version of the config.
    public var cniVersion: String
    /// Network name; host-local keeps its allocations in `<dataDir>/<name>`.
    public var name: String
    /// Plugin type (`bridge`).
    public var type: String
    /// Linux bridge device name (at most 15 bytes).
    public var bridge: String
    /// Whether the bridge gets the gateway address (and the host forwards).
    public var isGateway: Bool
    /// Whether to masquerade traffic leaving the subnet. Orca keeps this off.
    public var ipMasq: Bool
    /// Whether a pod can reach itself through its service address (hairpin on the bridge port).
    public var hairpinMode: Bool
    /// MTU of the veth, when not the default.
    public var mtu: Int?
    /// Address management.
    public var ipam: IPAM
    /// The result of the matching `ADD`, passed on `DEL` and `CHECK`.
    public var prevResult: CNIResult?

    /// `host-local` IPAM settings.
    public struct IPAM: Codable, Hashable, Sendable {
        /// IPAM plugin type (`host-local`).
        public var type: String
        /// Range sets: each inner list is one set of ranges an address is taken from.
        public var ranges: [[Range]]
        /// Routes to install in the sandbox.
        public var routes: [CNIResult.Route]
        /// Where host-local stores allocations (`<data-dir>/cni/networks`).
        public var dataDir: String

        /// Creates IPAM settings.
        public init(type: String = "host-local", ranges: [[Range]], routes: [CNIResult.Route], dataDir: String) {
            self.type = type
            self.ranges = ranges
            self.routes = routes
            self.dataDir = dataDir
        }
    }

    /// One host-local address range.
    public struct Range: Codable, Hashable, Sendable {
        /// Subnet in CIDR form.
        public var subnet: String
        /// First address to hand out.
        public var rangeStart: String?
        /// Last address to hand out.
        public var rangeEnd: String?
        /// Gateway; defaults to the subnet's first address.
        public var gateway: String?

        /// Creates a range.
        public init(subnet: String, rangeStart: String? = nil, rangeEnd: String? = nil, gateway: String? = nil) {
            self.subnet = subnet
            self.rangeStart = rangeStart
            self.rangeEnd = rangeEnd
            self.gateway = gateway
        }
    }

    /// Creates a bridge config; the defaults are Orca's.
    public init(cniVersion: String = "1.0.0", name: String = "orca", type: String = "bridge", bridge: String = "orca0",
                isGateway: Bool = true, ipMasq: Bool = false, hairpinMode: Bool = true, mtu: Int? = nil,
                ipam: IPAM, prevResult: CNIResult? = nil) {
        self.cniVersion = cniVersion
        self.name = name
        self.type = type
        self.bridge = bridge
        self.isGateway = isGateway
        self.ipMasq = ipMasq
        self.hairpinMode = hairpinMode
        self.mtu = mtu
        self.ipam = ipam
        self.prevResult = prevResult
    }
}
