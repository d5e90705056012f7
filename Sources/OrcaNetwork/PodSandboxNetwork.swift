/// A pod sandbox's namespaces and network as set up: what the agent puts in the OCI spec
/// (namespace paths) and in the pod status (IP).
public struct PodSandboxNetwork: Codable, Hashable, Sendable {
    /// The sandbox (pod) ID the namespaces and CNI attachment are keyed by.
    public var podID: String
    /// The bind-mounted network, UTS and IPC namespaces.
    public var namespaces: PodNamespacePaths
    /// The pod's interface inside the network namespace (`eth0`).
    public var interfaceName: String
    /// The pod IP (`10.42.0.5`).
    public var podIP: String
    /// The prefix length of the pod subnet (`24`).
    public var prefixLength: Int
    /// The gateway (the bridge's address), when the plugin reported one.
    public var gateway: String?
    /// The host end of the pod's veth, when the plugin reported it.
    public var hostInterfaceName: String?
    /// The bridge plugin's full `ADD` result.
    public var cniResult: CNIResult

    /// Creates a sandbox network description.
    public init(podID: String, namespaces: PodNamespacePaths, interfaceName: String, podIP: String, prefixLength: Int,
                gateway: String? = nil, hostInterfaceName: String? = nil, cniResult: CNIResult) {
        self.podID = podID
        self.namespaces = namespaces
        self.interfaceName = interfaceName
        self.podIP = podIP
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.hostInterfaceName = hostInterfaceName
        self.cniResult = cniResult
    }
}
