import OrcaClient

/// The InterPodAffinity filter, for required pod affinity and anti-affinity. PreFilter counts,
/// per topology pair (key, value): pods matching all of the pod's affinity terms, pods
/// matching each anti-affinity term, and existing pods whose own required anti-affinity
/// selects the incoming pod (symmetry). Filter: the node's domain must hold a pod for every
/// affinity term — unless no pod matches anywhere and the pod matches its own terms (the
/// first pod of a group) — no pod matching an anti-affinity term, and no pod that refuses it.
struct InterPodAffinity: FilterPlugin {
    static let name = "InterPodAffinity"
    static let affinityReason = "node(s) didn't match pod affinity rules"
    static let antiAffinityReason = "node(s) didn't match pod anti-affinity rules"
    static let existingAntiAffinityReason = "node(s) didn't satisfy existing pods anti-affinity rules"
    var name: String { Self.name }

    /// A topology key and one of its values.
    struct TopologyPair: Hashable, Sendable {
        var key: String
        var value: String
    }

    let pod: PodInfo
    /// The pod's required affinity terms, namespace selectors resolved.
    let affinityTerms: [AffinityTerm]
    /// The pod's required anti-affinity terms, namespace selectors resolved.
    let antiAffinityTerms: [AffinityTerm]
    /// The labels of the pod's namespace.
    let namespaceLabels: [String: String]
    private(set) var affinityCounts: [TopologyPair: Int] = [:]
    private(set) var antiAffinityCounts: [TopologyPair: Int] = [:]
    private(set) var existingAntiAffinityCounts: [TopologyPair: Int] = [:]

    init(pod: PodInfo, snapshot: Snapshot) {
        self.pod = pod
        affinityTerms = pod.requiredAffinityTerms.map {
            var term = $0
            term.resolveNamespaceSelector(snapshot.namespaceLabels)
            return term
        }
        antiAffinityTerms = pod.requiredAntiAffinityTerms.map {
            var term = $0
            term.resolveNamespaceSelector(snapshot.namespaceLabels)
            return term
        }
        namespaceLabels = snapshot.labels(ofNamespace: pod.namespace)
        for node in snapshot.nodesWithPodsWithRequiredAntiAffinity {
            for existing in node.podsWithRequiredAntiAffinity {
                Self.update(&existingAntiAffinityCounts, existing.requiredAntiAffinityTerms, matching: pod,
                            namespaceLabels: namespaceLabels, node: node, by: 1)
            }
        }
        if !affinityTerms.isEmpty || !antiAffinityTerms.isEmpty {
            for node in snapshot.nodes {
                for existing in node.pods { count(existing, on: node, by: 1) }
            }
        }
    }

    /// Whether there is nothing to check (PreFilter's Skip).
    var isSkipped: Bool {
        existingAntiAffinityCounts.isEmpty && affinityTerms.isEmpty && antiAffinityTerms.isEmpty
    }

    /// Adds `delta` for `existing` on `node` to the incoming pod's affinity and anti-affinity counts.
    mutating func count(_ existing: PodInfo, on node: NodeInfo, by delta: Int) {
        if Self.matchesAll(affinityTerms, existing, namespaceLabels: [:]) {
            for term in affinityTerms { Self.add(&affinityCounts, term.topologyKey, node, delta) }
        }
        Self.update(&antiAffinityCounts, antiAffinityTerms, matching: existing, namespaceLabels: [:], node: node, by: delta)
    }

    /// Adds `delta` to the pair of `node` for each term that selects `pod`.
    static func update(_ counts: inout [TopologyPair: Int], _ terms: [AffinityTerm], matching pod: PodInfo,
                       namespaceLabels: [String: String], node: NodeInfo, by delta: Int) {
        for term in terms where term.matches(pod, namespaceLabels: namespaceLabels) {
            add(&counts, term.topologyKey, node, delta)
        }
    }

    static func add(_ counts: inout [TopologyPair: Int], _ key: String, _ node: NodeInfo, _ delta: Int) {
        guard let value = node.labels[key] else { return }
        let pair = TopologyPair(key: key, value: value)
        counts[pair, default: 0] += delta
        if counts[pair] == 0 { counts[pair] = nil }
    }

    /// Whether `pod` is selected by every one of `terms` (false when there are none).
    static func matchesAll(_ terms: [AffinityTerm], _ pod: PodInfo, namespaceLabels: [String: String]) -> Bool {
        !terms.isEmpty && terms.allSatisfy { $0.matches(pod, namespaceLabels: namespaceLabels) }
    }

    func satisfiesAffinity(_ node: NodeInfo) -> Bool {
        var podsExist = true
        for term in affinityTerms {
            guard let value = node.labels[term.topologyKey] else { return false }
            if (affinityCounts[TopologyPair(key: term.topologyKey, value: value)] ?? 0) <= 0 { podsExist = false }
        }
        if podsExist { return true }
        // The first pod of a group whose affinity selects itself may go anywhere its
        // topology keys exist, while no pod anywhere matches.
        return affinityCounts.isEmpty && Self.matchesAll(affinityTerms, pod, namespaceLabels: namespaceLabels)
    }

    func satisfiesAntiAffinity(_ node: NodeInfo) -> Bool {
        guard !antiAffinityCounts.isEmpty else { return true }
        return !antiAffinityTerms.contains { term in
            guard let value = node.labels[term.topologyKey] else { return false }
            return (antiAffinityCounts[TopologyPair(key: term.topologyKey, value: value)] ?? 0) > 0
        }
    }

    func satisfiesExistingPodsAntiAffinity(_ node: NodeInfo) -> Bool {
        guard !existingAntiAffinityCounts.isEmpty else { return true }
        return !node.labels.contains { (existingAntiAffinityCounts[TopologyPair(key: $0.key, value: $0.value)] ?? 0) > 0 }
    }

    func filter(_ node: NodeInfo) -> FilterStatus? {
        if !satisfiesAffinity(node) { return FilterStatus(.unschedulableAndUnresolvable, Self.affinityReason, plugin: name) }
        if !satisfiesAntiAffinity(node) { return FilterStatus(.unschedulable, Self.antiAffinityReason, plugin: name) }
        if !satisfiesExistingPodsAntiAffinity(node) {
            return FilterStatus(.unschedulable, Self.existingAntiAffinityReason, plugin: name)
        }
        return nil
    }

    func removing(_ victim: PodInfo, from node: NodeInfo) -> any FilterPlugin {
        var copy = self
        Self.update(&copy.existingAntiAffinityCounts, victim.requiredAntiAffinityTerms, matching: pod,
                    namespaceLabels: namespaceLabels, node: node, by: -1)
        copy.count(victim, on: node, by: -1)
        return copy
    }
}
