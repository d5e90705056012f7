import OrcaClient

/// The NodePorts filter: the pod's host ports (port, protocol and host IP) must be free on
/// the node.
struct NodePorts: FilterPlugin {
    static let name = "NodePorts"
    static let reason = "node(s) didn't have free ports for the requested pod ports"
    var name: String { Self.name }

    let wanted: [ContainerPort]

    init(pod: PodInfo) {
        wanted = pod.hostPorts
    }

    /// Whether the plugin has anything to check (PreFilter's Skip when the pod binds no port).
    var isSkipped: Bool { wanted.isEmpty }

    func filter(_ node: NodeInfo) -> FilterStatus? {
        guard wanted.contains(where: { node.usedPorts.conflicts(with: $0) }) else { return nil }
        return FilterStatus(.unschedulable, Self.reason, plugin: name)
    }
}
