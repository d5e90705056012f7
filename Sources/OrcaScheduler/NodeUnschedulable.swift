import OrcaClient
import OrcaControllers

/// The NodeUnschedulable filter: a cordoned node (`spec.unschedulable`) takes only pods that
/// tolerate the `node.kubernetes.io/unschedulable:NoSchedule` taint.
struct NodeUnschedulable: FilterPlugin {
    static let name = "NodeUnschedulable"
    static let reason = "node(s) were unschedulable"
    var name: String { Self.name }

    let tolerations: [Toleration]

    init(pod: PodInfo) {
        tolerations = pod.pod.spec?.tolerations ?? []
    }

    func filter(_ node: NodeInfo) -> FilterStatus? {
        guard node.node.spec?.unschedulable == true else { return nil }
        let taint = Taint(effect: "NoSchedule", key: "node.kubernetes.io/unschedulable")
        if Toleration.any(tolerations, tolerate: taint) { return nil }
        return FilterStatus(.unschedulableAndUnresolvable, Self.reason, plugin: name)
    }
}
