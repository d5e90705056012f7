import OrcaClient
import OrcaControllers

/// The TaintToleration plugin. Filter: a node with a NoSchedule or NoExecute taint the pod
/// does not tolerate is out (the first such taint is named). Score (weight 3): fewer
/// untolerated PreferNoSchedule taints is better.
struct TaintToleration: FilterPlugin, ScorePlugin {
    static let name = "TaintToleration"
    var name: String { Self.name }
    let weight: Int64 = 3

    let tolerations: [Toleration]

    init(pod: PodInfo) {
        tolerations = pod.pod.spec?.tolerations ?? []
    }

    func filter(_ node: NodeInfo) -> FilterStatus? {
        guard let taint = Toleration.firstUntolerated(node.taints, by: tolerations, where: {
            $0.effect == "NoSchedule" || $0.effect == "NoExecute"
        }) else { return nil }
        return FilterStatus(.unschedulableAndUnresolvable, "node(s) had untolerated taint {\(taint.key ?? ""): \(taint.value ?? "")}",
                            plugin: name)
    }

    /// The number of PreferNoSchedule taints not tolerated by a toleration with that effect
    /// or none (`countIntolerableTaintsPreferNoSchedule`).
    func score(_ node: NodeInfo) -> Int64 {
        let preferNoSchedule = tolerations.filter { ($0.effect ?? "").isEmpty || $0.effect == "PreferNoSchedule" }
        return Int64(node.taints.filter { $0.effect == "PreferNoSchedule" && !Toleration.any(preferNoSchedule, tolerate: $0) }.count)
    }

    func normalize(_ scores: inout [Int64], of nodes: [NodeInfo]) {
        NodeScore.defaultNormalize(&scores, reverse: true)
    }
}
