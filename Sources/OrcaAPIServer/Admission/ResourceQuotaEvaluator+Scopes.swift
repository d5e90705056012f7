import OrcaAPI

extension ResourceQuotaEvaluator {
    /// `podMatchesScopeFunc`: whether a pod is in the scope of one `scopeSelector` expression
    /// (a `spec.scopes` entry is the expression `{scopeName, operator: Exists}`). Only
    /// PriorityClass reads the operator and values, as in kube.
    static func podMatches(_ selector: JSONValue, _ pod: JSONValue) -> Bool {
        switch selector["scopeName"]?.stringValue {
        case "Terminating": return isTerminating(pod)
        case "NotTerminating": return !isTerminating(pod)
        case "BestEffort": return isBestEffort(pod)
        case "NotBestEffort": return !isBestEffort(pod)
        case "PriorityClass":
            let name = pod[path: ["spec", "priorityClassName"]]?.stringValue ?? ""
            let values = selector["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch selector["operator"]?.stringValue {
            case "Exists": return !name.isEmpty
            case "In": return values.contains(name)
            case "NotIn": return !values.contains(name)
            // kube matches against the label set {PriorityClass: name}, which always has the key.
            default: return false
            }
        case "CrossNamespacePodAffinity": return usesCrossNamespaceAffinity(pod)
        default: return false
        }
    }

    /// A pod with `activeDeadlineSeconds` (≥ 0) is in the Terminating scope.
    static func isTerminating(_ pod: JSONValue) -> Bool {
        (pod[path: ["spec", "activeDeadlineSeconds"]]?.intValue).map { $0 >= 0 } ?? false
    }

    /// The BestEffort QoS class (`qos.GetPodQOS`): no container, init container or pod-level
    /// `resources` asks or limits a positive amount of cpu or memory.
    static func isBestEffort(_ pod: JSONValue) -> Bool {
        let spec = pod["spec"] ?? [:]
        var parts = [spec["resources"] ?? [:]]
        for list in ["containers", "initContainers"] {
            parts += (spec[list]?.arrayValue ?? []).map { $0["resources"] ?? [:] }
        }
        return !parts.contains { resources in
            ["requests", "limits"].contains { kind in
                let list = ResourceList(json: resources[kind])
                return ["cpu", "memory"].contains { list[$0].map { $0.compare(to: ResourceList.zero) > 0 } ?? false }
            }
        }
    }

    /// The CrossNamespacePodAffinity scope: a pod (anti-)affinity term names namespaces or
    /// has a namespace selector.
    static func usesCrossNamespaceAffinity(_ pod: JSONValue) -> Bool {
        for kind in ["podAffinity", "podAntiAffinity"] {
            let affinity = pod[path: ["spec", "affinity", kind]] ?? [:]
            var terms = affinity["requiredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
            terms += (affinity["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []).compactMap { $0["podAffinityTerm"] }
            for term in terms {
                if !(term["namespaces"]?.arrayValue ?? []).isEmpty { return true }
                if let selector = term["namespaceSelector"], !selector.isNull { return true }
            }
        }
        return false
    }
}
