import OrcaClient

/// The InterPodAffinity score (weight 2). Per topology pair, it sums: the weights of the
/// pod's preferred affinity terms that existing pods match (minus those of its preferred
/// anti-affinity terms), 1 for each existing pod whose required affinity selects the pod, and
/// the weights of existing pods' preferred affinity (minus anti-affinity) terms that select
/// the pod. A node scores the sum over its labels' pairs, scaled between the worst (0) and
/// best (100) feasible node.
struct InterPodAffinityScore: ScorePlugin {
    var name: String { InterPodAffinity.name }
    let weight: Int64 = 2

    /// kube-scheduler's `hardPodAffinityWeight` default.
    static let hardPodAffinityWeight: Int64 = 1

    /// Score per topology key and value.
    let topologyScore: [String: [String: Int64]]

    /// PreScore; nil when no existing pod or term contributes (Skip).
    init?(pod: PodInfo, feasible: [NodeInfo], snapshot: Snapshot) {
        guard !feasible.isEmpty else { return nil }
        let affinity = pod.pod.spec?.affinity
        let hasPreferredTerms = !(affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).isEmpty
            || !(affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).isEmpty
        func resolved(_ terms: [WeightedAffinityTerm]) -> [WeightedAffinityTerm] {
            terms.map {
                var weighted = $0
                weighted.term.resolveNamespaceSelector(snapshot.namespaceLabels)
                return weighted
            }
        }
        let preferredAffinity = resolved(pod.preferredAffinityTerms)
        let preferredAntiAffinity = resolved(pod.preferredAntiAffinityTerms)
        let namespaceLabels = snapshot.labels(ofNamespace: pod.namespace)
        var scores: [String: [String: Int64]] = [:]
        var contributed = false
        func process(_ term: AffinityTerm, weight: Int64, _ candidate: PodInfo, _ nsLabels: [String: String], _ node: NodeInfo) {
            guard term.matches(candidate, namespaceLabels: nsLabels), let value = node.labels[term.topologyKey] else { return }
            scores[term.topologyKey, default: [:]][value, default: 0] += weight
            contributed = true
        }
        for node in hasPreferredTerms ? snapshot.nodes : snapshot.nodesWithPodsWithAffinity where !node.labels.isEmpty {
            for existing in hasPreferredTerms ? node.pods : node.podsWithAffinity {
                for t in preferredAffinity { process(t.term, weight: t.weight, existing, [:], node) }
                for t in preferredAntiAffinity { process(t.term, weight: -t.weight, existing, [:], node) }
                for t in existing.requiredAffinityTerms { process(t, weight: Self.hardPodAffinityWeight, pod, namespaceLabels, node) }
                for t in existing.preferredAffinityTerms { process(t.term, weight: t.weight, pod, namespaceLabels, node) }
                for t in existing.preferredAntiAffinityTerms { process(t.term, weight: -t.weight, pod, namespaceLabels, node) }
            }
        }
        guard contributed else { return nil }
        topologyScore = scores
    }

    func score(_ node: NodeInfo) -> Int64 {
        var total: Int64 = 0
        for (key, values) in topologyScore {
            if let value = node.labels[key] { total += values[value] ?? 0 }
        }
        return total
    }

    /// Linear between the lowest (0) and highest (100) score; all 0 when they are equal.
    func normalize(_ scores: inout [Int64], of nodes: [NodeInfo]) {
        guard !topologyScore.isEmpty, let lowest = scores.min(), let highest = scores.max() else { return }
        let spread = highest - lowest
        scores = scores.map { spread > 0 ? Int64(Double(NodeScore.max) * (Double($0 - lowest) / Double(spread))) : 0 }
    }
}
