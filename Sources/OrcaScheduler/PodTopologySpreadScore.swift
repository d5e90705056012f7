import Foundation
import OrcaClient

/// The PodTopologySpread score (weight 2), for the pod's `whenUnsatisfiable: ScheduleAnyway`
/// constraints — or, for a pod without constraints, the system defaults (hostname maxSkew 3,
/// zone maxSkew 5) over the selectors of its services and owning ReplicaSet, StatefulSet or
/// ReplicationController, so replicas of one owner spread. A node's raw score sums, per
/// constraint, the matching pods in its domain weighted by log(domains + 2) plus maxSkew − 1;
/// normalizing turns fewer matching pods into a higher score.
struct PodTopologySpreadScore: ScorePlugin {
    var name: String { PodTopologySpread.name }
    let weight: Int64 = 2

    let pod: PodInfo
    let constraints: [SpreadConstraint]
    /// Feasible nodes that lack a topology key of the pod's own constraints (they score 0).
    let ignoredNodes: Set<String>
    /// Per constraint (hostname ones excepted): matching pods per topology value of the
    /// feasible nodes' domains.
    let counts: [[String: Int]]
    /// Per constraint: log(number of domains + 2).
    let normalizingWeights: [Double]

    /// PreScore over the nodes that passed the filters; nil when the plugin has nothing to
    /// score (Skip).
    init?(pod: PodInfo, feasible: [NodeInfo], snapshot: Snapshot, defaultSelector: LabelMatcher?) {
        let constraints = SpreadConstraint.constraints(of: pod, action: "ScheduleAnyway", defaultSelector: defaultSelector)
        guard !constraints.isEmpty, !snapshot.nodes.isEmpty else { return nil }
        self.pod = pod
        self.constraints = constraints
        // System defaults also spread over nodes that have no zone label.
        let requireAllTopologies = !(pod.pod.spec?.topologySpreadConstraints ?? []).isEmpty
        var ignored = Set<String>()
        var counts = Array(repeating: [String: Int](), count: constraints.count)
        var domains = Array(repeating: 0, count: constraints.count)
        for node in feasible {
            if requireAllTopologies && !SpreadConstraint.nodeHasAllKeys(node.labels, constraints) {
                ignored.insert(node.name)
                continue
            }
            for (i, c) in constraints.enumerated() where c.topologyKey != Self.hostnameKey {
                let value = node.labels[c.topologyKey] ?? ""
                if counts[i][value] == nil {
                    counts[i][value] = 0
                    domains[i] += 1
                }
            }
        }
        normalizingWeights = constraints.enumerated().map { i, c in
            let size = c.topologyKey == Self.hostnameKey ? feasible.count - ignored.count : domains[i]
            return log(Double(size + 2))
        }
        for node in snapshot.nodes {
            if requireAllTopologies && !SpreadConstraint.nodeHasAllKeys(node.labels, constraints) { continue }
            for (i, c) in constraints.enumerated() where c.includes(node, for: pod.pod) {
                let value = node.labels[c.topologyKey] ?? ""
                guard counts[i][value] != nil else { continue }
                counts[i][value]! += c.matchingPods(on: node, namespace: pod.namespace)
            }
        }
        ignoredNodes = ignored
        self.counts = counts
    }

    static let hostnameKey = "kubernetes.io/hostname"

    func score(_ node: NodeInfo) -> Int64 {
        if ignoredNodes.contains(node.name) { return 0 }
        var score = 0.0
        for (i, c) in constraints.enumerated() {
            guard let value = node.labels[c.topologyKey] else { continue }
            let count = c.topologyKey == Self.hostnameKey ? c.matchingPods(on: node, namespace: pod.namespace) : counts[i][value] ?? 0
            score += Double(count) * normalizingWeights[i] + Double(c.maxSkew - 1)
        }
        return Int64(score.rounded())
    }

    /// `NormalizeScore`: ignored nodes get 0; the others `100 × (max + min − score) / max`
    /// over the non-ignored scores (all 100 when the max is 0).
    func normalize(_ scores: inout [Int64], of nodes: [NodeInfo]) {
        let names = nodes.map(\.name)
        var minScore = Int64.max
        var maxScore: Int64 = 0
        for (i, score) in scores.enumerated() where !ignoredNodes.contains(names[i]) {
            minScore = min(minScore, score)
            maxScore = max(maxScore, score)
        }
        for i in scores.indices {
            if ignoredNodes.contains(names[i]) {
                scores[i] = 0
            } else if maxScore == 0 {
                scores[i] = NodeScore.max
            } else {
                scores[i] = NodeScore.max * (maxScore + minScore - scores[i]) / maxScore
            }
        }
    }
}
