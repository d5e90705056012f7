/// What a pod's `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` are made from: plain values the
/// agent copies out of the pod (`spec.hostname`/name, `spec.subdomain`, namespace, pod IPs,
/// `spec.hostAliases`, `spec.hostNetwork`, `spec.dnsPolicy`, `spec.dnsConfig`).
public struct PodFilesSpec: Hashable, Sendable {
    /// The pod's hostname (`spec.hostname`, else the pod name cut to 63 characters).
    public var hostname: String
    /// `spec.subdomain`: when set the FQDN is `<hostname>.<subdomain>.<namespace>.svc.<cluster-domain>`.
    public var subdomain: String?
    /// The pod's namespace.
    public var namespace: String
    /// The pod's IPs (one per family); each gets a line mapping it to the hostname.
    public var podIPs: [String]
    /// `spec.hostAliases`, appended to `/etc/hosts`.
    public var hostAliases: [PodHostAlias]
    /// `spec.hostNetwork`: the host's `/etc/hosts` is used, and `ClusterFirst` acts as `Default`.
    public var hostNetwork: Bool
    /// `spec.dnsPolicy`.
    public var dnsPolicy: PodDNSPolicy
    /// `spec.dnsConfig`, merged after the policy's settings.
    public var dnsConfig: PodDNSConfig?

    /// Creates a spec.
    public init(hostname: String, subdomain: String? = nil, namespace: String, podIPs: [String],
                hostAliases: [PodHostAlias] = [], hostNetwork: Bool = false,
                dnsPolicy: PodDNSPolicy = .clusterFirst, dnsConfig: PodDNSConfig? = nil) {
        self.hostname = hostname
        self.subdomain = subdomain
        self.namespace = namespace
        self.podIPs = podIPs
        self.hostAliases = hostAliases
        self.hostNetwork = hostNetwork
        self.dnsPolicy = dnsPolicy
        self.dnsConfig = dnsConfig
    }
}

/// One `spec.hostAliases` entry: an IP and the names that resolve to it.
public struct PodHostAlias: Hashable, Sendable {
    /// The address.
    public var ip: String
    /// The names.
    public var hostnames: [String]
    /// Creates an alias.
    public init(ip: String, hostnames: [String]) {
        self.ip = ip
        self.hostnames = hostnames
    }
}

/// `spec.dnsPolicy`.
public enum PodDNSPolicy: String, Hashable, Sendable, CaseIterable {
    /// Cluster DNS, with the cluster search domains and `ndots:5` (host-network pods get `Default`).
    case clusterFirst = "ClusterFirst"
    /// Cluster DNS even for host-network pods.
    case clusterFirstWithHostNet = "ClusterFirstWithHostNet"
    /// The node's resolver settings.
    case `default` = "Default"
    /// Only what `dnsConfig` gives.
    case none = "None"
}

/// `spec.dnsConfig`: settings merged into the policy's.
public struct PodDNSConfig: Hashable, Sendable {
    /// Extra name servers, appended (duplicates dropped).
    public var nameservers: [String]
    /// Extra search domains, appended (duplicates dropped).
    public var searches: [String]
    /// Options; one of the same name replaces the policy's.
    public var options: [Option]

    /// One resolver option (`ndots` = `2`, `edns0` = nil).
    public struct Option: Hashable, Sendable {
        /// Option name.
        public var name: String
        /// Option value, if it takes one.
        public var value: String?
        /// Creates an option.
        public init(name: String, value: String? = nil) {
            self.name = name
            self.value = value
        }
    }

    /// Creates DNS settings.
    public init(nameservers: [String] = [], searches: [String] = [], options: [Option] = []) {
        self.nameservers = nameservers
        self.searches = searches
        self.options = options
    }
}
