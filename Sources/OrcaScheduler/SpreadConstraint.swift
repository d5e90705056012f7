import OrcaClient
import OrcaControllers

/// A pod's topology spread constraint as the PodTopologySpread plugin reads it (its
/// `topologySpreadConstraint`): the selector with `matchLabelKeys` merged in and the 1.32
/// defaults — minDomains 1, nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore.
struct SpreadConstraint: Sendable, Hashable {
    var maxSkew: Int
    var topologyKey: String
    /// The pods counted; nil counts none.
    var selector: LabelMatcher?
    var minDomains: Int
    /// Count only nodes matching the pod's nodeSelector and required node affinity.
    var honorNodeAffinity: Bool
    /// Count only nodes whose NoSchedule/NoExecute taints the pod tolerates.
    var honorNodeTaints: Bool

    /// The system default constraints for pods that set none (`systemDefaultConstraints`):
    /// spread over hostnames with maxSkew 3 and over zones with maxSkew 5, ScheduleAnyway.
    static let systemDefaults: [(topologyKey: String, maxSkew: Int)] = [
        ("kubernetes.io/hostname", 3), ("topology.kubernetes.io/zone", 5),
    ]

    /// The pod's constraints with `whenUnsatisfiable == action`; for a pod without any, the
    /// system defaults (ScheduleAnyway only) on `defaultSelector` — the selectors of the
    /// services and the ReplicaSet, StatefulSet or ReplicationController it belongs to — when
    /// there is one (`filterTopologySpreadConstraints`, `buildDefaultConstraints`).
    static func constraints(of pod: PodInfo, action: String, defaultSelector: LabelMatcher?) -> [SpreadConstraint] {
        let declared = pod.pod.spec?.topologySpreadConstraints ?? []
        guard declared.isEmpty else {
            return declared.filter { ($0.whenUnsatisfiable ?? "") == action }.map { SpreadConstraint($0, podLabels: pod.labels) }
        }
        guard action == "ScheduleAnyway", let selector = defaultSelector, !selector.isEmpty else { return [] }
        return systemDefaults.map {
            SpreadConstraint(maxSkew: $0.maxSkew, topologyKey: $0.topologyKey, selector: selector, minDomains: 1,
                             honorNodeAffinity: true, honorNodeTaints: false)
        }
    }

    init(maxSkew: Int, topologyKey: String, selector: LabelMatcher?, minDomains: Int, honorNodeAffinity: Bool, honorNodeTaints: Bool) {
        self.maxSkew = maxSkew
        self.topologyKey = topologyKey
        self.selector = selector
        self.minDomains = minDomains
        self.honorNodeAffinity = honorNodeAffinity
        self.honorNodeTaints = honorNodeTaints
    }

    init(_ c: TopologySpreadConstraint, podLabels: [String: String]) {
        var selector = c.labelSelector.flatMap { try? LabelMatcher($0) }
        var keyed: [LabelMatcher.Requirement] = []
        for key in c.matchLabelKeys ?? [] {
            if let value = podLabels[key] { keyed.append(LabelMatcher.Requirement(key: key, op: .equals, values: [value])) }
        }
        if !keyed.isEmpty {
            selector = LabelMatcher(requirements: keyed + (selector?.requirements ?? []))
        }
        self.init(maxSkew: Int(c.maxSkew ?? 1), topologyKey: c.topologyKey ?? "", selector: selector,
                  minDomains: Int(c.minDomains ?? 1), honorNodeAffinity: (c.nodeAffinityPolicy ?? "Honor") == "Honor",
                  honorNodeTaints: (c.nodeTaintsPolicy ?? "Ignore") == "Honor")
    }

    /// Whether `node` counts for this constraint under its inclusion policies
    /// (`matchNodeInclusionPolicies`).
    func includes(_ node: NodeInfo, for pod: Pod) -> Bool {
        if honorNodeAffinity, !NodeAffinityMatcher.requiredNodeAffinityMatches(pod, node: node.node) { return false }
        if honorNodeTaints {
            let tolerations = pod.spec?.tolerations ?? []
            if Toleration.firstUntolerated(node.taints, by: tolerations, where: { $0.effect == "NoSchedule" || $0.effect == "NoExecute" }) != nil {
                return false
            }
        }
        return true
    }

    /// Whether `pod` is counted: selected, in `namespace`, and not being deleted
    /// (`countPodsMatchSelector`).
    func counts(_ pod: PodInfo, namespace: String) -> Bool {
        !pod.isTerminating && pod.namespace == namespace && selector?.matches(pod.labels) == true
    }

    /// The number of counted pods on `node`.
    func matchingPods(on node: NodeInfo, namespace: String) -> Int {
        node.pods.reduce(0) { $0 + (counts($1, namespace: namespace) ? 1 : 0) }
    }

    /// Whether `labels` carry every constraint's topology key (`nodeLabelsMatchSpreadConstraints`).
    static func nodeHasAllKeys(_ labels: [String: String], _ constraints: [SpreadConstraint]) -> Bool {
        constraints.allSatisfy { labels[$0.topologyKey] != nil }
    }
}
