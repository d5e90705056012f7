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

    /// Creates a set of namespace paths.
    public init(network: String, uts: String, ipc: String) {
        self.network = network
        self.uts = uts
        self.ipc = ipc
    }

    /// All three paths, network first.
    public var all: [String] { [network, uts, ipc] }
}
