import OrcaClient

/// The PodTopologySpread filter, for the pod's `whenUnsatisfiable: DoNotSchedule`
/// constraints: placing the pod in a node's domain must keep that domain's count of matching
/// pods within `maxSkew` of the emptiest eligible domain (taken as 0 while fewer than
/// `minDomains` domains exist). Its PreFilter counts matching pods per domain over every
/// node that carries all the constraints' keys and passes their inclusion policies.
struct PodTopologySpread: FilterPlugin {
    static let name = "PodTopologySpread"
    static let reason = "node(s) didn't match pod topology spread constraints"
    static let missingLabelReason = reason + " (missing required label)"
    var name: String { Self.name }

    let pod: PodInfo
    let constraints: [SpreadConstraint]
    /// Per constraint: matching pods per topology value.
    private(set) var counts: [[String: Int]]

    init(pod: PodInfo, snapshot: Snapshot) {
        self.pod = pod
        constraints = SpreadConstraint.constraints(of: pod, action: "DoNotSchedule", defaultSelector: nil)
        counts = Array(repeating: [:], count: constraints.count)
        if constraints.isEmpty { return }
        for node in snapshot.nodes where SpreadConstraint.nodeHasAllKeys(node.labels, constraints) {
            for (i, constraint) in constraints.enumerated() where constraint.includes(node, for: pod.pod) {
                let value = node.labels[constraint.topologyKey] ?? ""
                counts[i][value, default: 0] += constraint.matchingPods(on: node, namespace: pod.namespace)
            }
        }
    }

    /// Whether there is nothing to check (PreFilter's Skip).
    var isSkipped: Bool { constraints.isEmpty }

    /// The global minimum of constraint `i`: the emptiest domain, or 0 while there are fewer
    /// domains than `minDomains` (`minMatchNum`).
    func minMatch(_ i: Int) -> Int {
        if counts[i].count < constraints[i].minDomains { return 0 }
        return counts[i].values.min() ?? 0
    }

    func filter(_ node: NodeInfo) -> FilterStatus? {
        for (i, constraint) in constraints.enumerated() {
            guard let value = node.labels[constraint.topologyKey] else {
                return FilterStatus(.unschedulableAndUnresolvable, Self.missingLabelReason, plugin: name)
            }
            let selfMatch = constraint.selector?.matches(pod.labels) == true ? 1 : 0
            let skew = (counts[i][value] ?? 0) + selfMatch - minMatch(i)
            if skew > constraint.maxSkew {
                return FilterStatus(.unschedulable, Self.reason, plugin: name)
            }
        }
        return nil
    }

    func removing(_ victim: PodInfo, from node: NodeInfo) -> any FilterPlugin {
        var copy = self
        guard victim.namespace == pod.namespace, SpreadConstraint.nodeHasAllKeys(node.labels, constraints) else { return copy }
        for (i, constraint) in constraints.enumerated()
        where constraint.selector?.matches(victim.labels) == true && constraint.includes(node, for: pod.pod) {
            copy.counts[i][node.labels[constraint.topologyKey] ?? "", default: 0] -= 1
        }
        return copy
    }
}
