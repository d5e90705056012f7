/// Where a pod's namespaces are held: files on which the namespaces are bind-mounted.
///
/// Containers join them by path (OCI `linux.namespaces[].path`); `nsenter --net=<network>` enters one.
public struct PodNamespacePaths: Codable, Hashable, Sendable {
    /// The network namespace file (CNI's `CNI_NETNS`).
    public var network: String
    /// The UTS namespace file (hostname).
    public var uts: String
    /// The IPC namespace file.
    public var ipc: String

    /// The network namespace of whoever opens the path (the agent, and the runtime it starts):
    /// a `hostNetwork` pod's.
    public static let hostNetwork = "/proc/self/ns/net"
    /// The UTS namespace of whoever opens the path: a `hostNetwork` pod's (the node's hostname).
    public static let hostUTS = "/proc/self/ns/uts"

    /// Creates a set of namespace paths.
    public init(network: String, uts: String, ipc: String) {
        self.network = network
        self.uts = uts
        self.ipc = ipc
    }

    /// All three paths, network first.
    public var all: [String] { [network, uts, ipc] }
}
