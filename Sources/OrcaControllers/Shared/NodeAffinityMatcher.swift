import OrcaClient

/// `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution` as the
/// scheduler's NodeAffinity filter reads it: terms are ORed, a term's requirements ANDed;
/// `matchFields` supports `metadata.name` (how DaemonSet pods are pinned to their node).
/// Shared by the scheduler and the DaemonSet controller.
public enum NodeAffinityMatcher {
    /// Whether `node` satisfies the pod's `nodeSelector` and its required node affinity
    /// (`nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`).
    public static func requiredNodeAffinityMatches(_ pod: Pod, node: Node) -> Bool {
        let labels = node.metadata?.labels ?? [:]
        let selector = pod.spec?.nodeSelector ?? [:]
        if selector.contains(where: { labels[$0.key] != $0.value }) { return false }
        return requiredMatches(pod, node: node)
    }

    /// Whether `node` satisfies the pod's required node affinity (true when it has none).
    public static func requiredMatches(_ pod: Pod, node: Node) -> Bool {
        guard let selector = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution else { return true }
        return matches(selector, node: node)
    }

    /// Whether `node` matches any term of `selector`.
    public static func matches(_ selector: NodeSelector, node: Node) -> Bool {
        let labels = node.metadata?.labels ?? [:]
        let fields = ["metadata.name": node.metadata?.name ?? ""]
        return (selector.nodeSelectorTerms ?? []).contains { term in
            let expressions = term.matchExpressions ?? []
            let matchFields = term.matchFields ?? []
            if expressions.isEmpty && matchFields.isEmpty { return false }
            return expressions.allSatisfy { matches($0, labels) } && matchFields.allSatisfy { matches($0, fields) }
        }
    }

    static func matches(_ r: NodeSelectorRequirement, _ labels: [String: String]) -> Bool {
        let key = r.key ?? ""
        let values = r.values ?? []
        let value = labels[key]
        switch r.operator ?? "" {
        case "In": return value.map { values.contains($0) } ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let v = value.flatMap({ Int64($0) }), values.count == 1, let bound = Int64(values[0]) else { return false }
            return r.operator == "Gt" ? v > bound : v < bound
        default: return false
        }
    }
}
