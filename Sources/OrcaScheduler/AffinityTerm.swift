import OrcaClient

/// A parsed `PodAffinityTerm` (the framework's `AffinityTerm`): which pods it selects — by
/// label selector, in a set of namespaces or in namespaces matching a selector — and the
/// topology key whose value defines "together".
public struct AffinityTerm: Sendable, Hashable {
    /// Namespaces named by the term (the owning pod's own when it names none and has no
    /// namespace selector).
    public var namespaces: Set<String>
    /// The pods selected; nil selects none (a term without a label selector, or one that
    /// does not parse).
    public var selector: LabelMatcher?
    /// Namespaces selected by their labels; nil selects none, an empty matcher all.
    public var namespaceSelector: LabelMatcher?
    /// The node label that groups nodes into one topology domain.
    public var topologyKey: String

    /// Parses `term` of a pod in `namespace` (`newAffinityTerm`).
    public init(_ term: PodAffinityTerm, podNamespace namespace: String) {
        if (term.namespaces ?? []).isEmpty && term.namespaceSelector == nil {
            namespaces = [namespace]
        } else {
            namespaces = Set(term.namespaces ?? [])
        }
        selector = term.labelSelector.flatMap { try? LabelMatcher($0) }
        namespaceSelector = term.namespaceSelector.flatMap { try? LabelMatcher($0) }
        topologyKey = term.topologyKey ?? ""
    }

    /// Whether `pod` is selected: in one of the namespaces or in a namespace whose labels
    /// (`namespaceLabels`, the labels of `pod`'s namespace) match, and with matching labels
    /// (`AffinityTerm.Matches`).
    public func matches(_ pod: PodInfo, namespaceLabels: [String: String]) -> Bool {
        guard namespaces.contains(pod.namespace) || namespaceSelector?.matches(namespaceLabels) == true else { return false }
        return selector?.matches(pod.labels) ?? false
    }

    /// Resolves a non-empty namespace selector into namespace names, from every namespace's
    /// labels (`mergeAffinityTermNamespacesIfNotEmpty`), so the term can be matched against
    /// pods without their namespace's labels. An empty selector (all namespaces) stays.
    mutating func resolveNamespaceSelector(_ namespaceLabels: [String: [String: String]]) {
        guard let nsSelector = namespaceSelector, !nsSelector.isEmpty else { return }
        for (name, labels) in namespaceLabels where nsSelector.matches(labels) { namespaces.insert(name) }
        namespaceSelector = nil
    }
}

/// A preferred affinity term and its weight (the framework's `WeightedAffinityTerm`).
public struct WeightedAffinityTerm: Sendable, Hashable {
    /// The term.
    public var term: AffinityTerm
    /// Its weight, 1–100.
    public var weight: Int64
}
