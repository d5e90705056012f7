/// The result of a CNI `ADD` (spec 1.0.0): the interfaces made, their addresses, routes and DNS.
///
/// Unknown fields are ignored; encoding omits absent fields, so a result can be passed back to a
/// plugin as `prevResult`.
public struct CNIResult: Codable, Hashable, Sendable {
    /// The spec version the plugin answered in.
    public var cniVersion: String?
    /// Interfaces the plugin created or configured, host side and sandbox side.
    public var interfaces: [Interface]?
    /// Addresses assigned; `interface` indexes `interfaces`.
    public var ips: [IPConfig]?
    /// Routes installed in the sandbox.
    public var routes: [Route]?
    /// DNS settings the plugin suggests.
    public var dns: DNS?

    /// Creates a result.
    public init(cniVersion: String? = nil, interfaces: [Interface]? = nil, ips: [IPConfig]? = nil,
                routes: [Route]? = nil, dns: DNS? = nil) {
        self.cniVersion = cniVersion
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }

    /// A network interface in a result.
    public struct Interface: Codable, Hashable, Sendable {
        /// Interface name (`eth0`, `veth1234abcd`, `orca0`).
        public var name: String
        /// Hardware address.
        public var mac: String?
        /// MTU, when the plugin reports one.
        public var mtu: Int?
        /// The netns path for interfaces inside the sandbox; absent for host-side ones.
        public var sandbox: String?
        /// Creates an interface entry.
        public init(name: String, mac: String? = nil, mtu: Int? = nil, sandbox: String? = nil) {
            self.name = name
            self.mac = mac
            self.mtu = mtu
            self.sandbox = sandbox
        }
    }

    /// An address assigned to an interface.
    public struct IPConfig: Codable, Hashable, Sendable {
        /// Address in CIDR form, e.g. `10.42.0.5/24`.
        public var address: String
        /// The gateway of the address's network, when there is one.
        public var gateway: String?
        /// Index into `interfaces` of the interface holding the address.
        public var interface: Int?
        /// Creates an address entry.
        public init(address: String, gateway: String? = nil, interface: Int? = nil) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }

        /// The address without its prefix length (`10.42.0.5`).
        public var ip: String { address.split(separator: "/", maxSplits: 1).first.map(String.init) ?? address }
        /// The prefix length (`24`), when the address has one.
        public var prefixLength: Int? {
            let parts = address.split(separator: "/", maxSplits: 1)
            return parts.count == 2 ? Int(parts[1]) : nil
        }
        /// Whether this is an IPv4 address.
        public var isIPv4: Bool { !ip.contains(":") }
    }

    /// A route in the sandbox.
    public struct Route: Codable, Hashable, Sendable {
        /// Destination in CIDR form (`0.0.0.0/0`).
        public var dst: String
        /// Next hop; absent means the gateway of the matching address.
        public var gw: String?
        /// Creates a route.
        public init(dst: String, gw: String? = nil) {
            self.dst = dst
            self.gw = gw
        }
    }

    /// DNS settings in a result.
    public struct DNS: Codable, Hashable, Sendable {
        /// Name servers, in order of preference.
        public var nameservers: [String]?
        /// Local domain.
        public var domain: String?
        /// Search domains.
        public var search: [String]?
        /// resolver options.
        public var options: [String]?
        /// Creates DNS settings.
        public init(nameservers: [String]? = nil, domain: String? = nil, search: [String]? = nil, options: [String]? = nil) {
            self.nameservers = nameservers
            self.domain = domain
            self.search = search
            self.options = options
        }
    }

    /// The sandbox-side interface named `name`.
    public func sandboxInterface(named name: String) -> Interface? {
        interfaces?.first { $0.name == name && $0.sandbox != nil }
    }

    /// The first IPv4 address assigned to the interface `name` (or to any interface when no address names one).
    public func ipv4(interfaceName name: String) -> IPConfig? {
        let v4 = (ips ?? []).filter(\.isIPv4)
        if let interfaces {
            if let match = v4.first(where: { ip in ip.interface.map { $0 >= 0 && $0 < interfaces.count && interfaces[$0].name == name } ?? false }) {
                return match
            }
        }
        return v4.first
    }

    /// Host-side interfaces (no `sandbox`), e.g. the bridge and the host end of a veth.
    public var hostInterfaces: [Interface] { (interfaces ?? []).filter { $0.sandbox == nil } }
}

/// The answer to CNI `VERSION`.
public struct CNIVersionInfo: Codable, Hashable, Sendable {
    /// The version the plugin answered in.
    public var cniVersion: String
    /// Every spec version the plugin accepts.
    public var supportedVersions: [String]
    /// Creates version info.
    public init(cniVersion: String, supportedVersions: [String]) {
        self.cniVersion = cniVersion
        self.supportedVersions = supportedVersions
    }
}

/// A CNI plugin's error, printed as JSON on stdout with a nonzero exit.
public struct CNIErrorResult: Codable, Hashable, Sendable {
    /// The version the plugin answered in.
    public var cniVersion: String?
    /// Well-known codes: 1 incompatible version, 2 unsupported field, 3 unknown container,
    /// 4 invalid environment variables, 5 I/O failure, 6 decoding failure, 7 invalid network config,
    /// 11 try again later, 50–99 CNI reserved, 100+ plugin specific.
    public var code: Int
    /// A short message.
    public var msg: String
    /// Longer details, when the plugin gives them.
    public var details: String?
    /// Creates an error result.
    public init(cniVersion: String? = nil, code: Int, msg: String, details: String? = nil) {
        self.cniVersion = cniVersion
        self.code = code
        self.msg = msg
        self.details = details
    }
}
