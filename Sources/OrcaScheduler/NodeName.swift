/// The NodeName filter: a pod that names its node (`spec.nodeName`) fits only there.
struct NodeName: FilterPlugin {
    static let name = "NodeName"
    static let reason = "node(s) didn't match the requested node name"
    var name: String { Self.name }

    let nodeName: String

    init(pod: PodInfo) {
        nodeName = pod.pod.spec?.nodeName ?? ""
    }

    func filter(_ node: NodeInfo) -> FilterStatus? {
        if nodeName.isEmpty || nodeName == node.name { return nil }
        return FilterStatus(.unschedulableAndUnresolvable, Self.reason, plugin: name)
    }
}
