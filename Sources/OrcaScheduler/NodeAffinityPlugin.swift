import OrcaClient
import OrcaControllers

/// The NodeAffinity plugin (named so as not to shadow the API's `NodeAffinity`). PreFilter:
/// a pod whose every required term pins `metadata.name` is only tried on those nodes.
/// Filter: the node must match the pod's `nodeSelector` and required node affinity. Score
/// (weight 2): the summed weights of the preferred terms the node matches, scaled so the
/// best node gets 100.
struct NodeAffinityPlugin: FilterPlugin, ScorePlugin {
    static let name = "NodeAffinity"
    static let reason = "node(s) didn't match Pod's node affinity/selector"
    static let conflictReason = "pod affinity terms conflict"
    var name: String { Self.name }
    let weight: Int64 = 2

    let pod: Pod

    init(pod: PodInfo) {
        self.pod = pod.pod
    }

    /// The nodes the pod's required terms pin by name, or nil when any node may do: every
    /// term must carry `metadata.name In (…)` (requirements of a term intersect, terms unite).
    /// An empty set means the terms contradict each other.
    var requiredNodeNames: Set<String>? {
        guard let terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
              !terms.isEmpty else { return nil }
        var names = Set<String>()
        for term in terms {
            var termNames: Set<String>?
            for field in term.matchFields ?? [] where field.key == "metadata.name" && field.operator == "In" {
                let values = Set(field.values ?? [])
                termNames = termNames.map { $0.intersection(values) } ?? values
            }
            guard let termNames else { return nil }
            names.formUnion(termNames)
        }
        return names
    }

    func filter(_ node: NodeInfo) -> FilterStatus? {
        if NodeAffinityMatcher.requiredNodeAffinityMatches(pod, node: node.node) { return nil }
        return FilterStatus(.unschedulableAndUnresolvable, Self.reason, plugin: name)
    }

    /// Preferred terms with a non-zero weight (PreScore skips the plugin when there are none).
    var preferredTerms: [PreferredSchedulingTerm] {
        (pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).filter { ($0.weight ?? 0) != 0 }
    }

    func score(_ node: NodeInfo) -> Int64 {
        var total: Int64 = 0
        for term in preferredTerms {
            guard let preference = term.preference else { continue }
            if NodeAffinityMatcher.matches(NodeSelector(nodeSelectorTerms: [preference]), node: node.node) {
                total += Int64(term.weight ?? 0)
            }
        }
        return total
    }

    func normalize(_ scores: inout [Int64], of nodes: [NodeInfo]) {
        NodeScore.defaultNormalize(&scores, reverse: false)
    }
}
