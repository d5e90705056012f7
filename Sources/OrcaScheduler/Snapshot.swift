import OrcaClient

/// Every node of the cluster with its pods, as one scheduling cycle sees them (the
/// scheduler's cache snapshot), plus the namespaces' labels for namespace selectors.
public struct Snapshot: Sendable {
    /// The nodes, in the order the cycle visits them (by name).
    public let nodes: [NodeInfo]
    /// Labels of every namespace, by name.
    public let namespaceLabels: [String: [String: String]]
    let indexByName: [String: Int]

    /// A snapshot of `nodes` (kept in the order given).
    public init(nodes: [NodeInfo], namespaceLabels: [String: [String: String]] = [:]) {
        self.nodes = nodes
        self.namespaceLabels = namespaceLabels
        var index: [String: Int] = [:]
        for (i, node) in nodes.enumerated() { index[node.name] = i }
        indexByName = index
    }

    /// The node called `name`.
    public subscript(name: String) -> NodeInfo? {
        indexByName[name].map { nodes[$0] }
    }

    /// Nodes with pods that have pod affinity or anti-affinity (`HavePodsWithAffinityList`).
    var nodesWithPodsWithAffinity: [NodeInfo] { nodes.filter { !$0.podsWithAffinity.isEmpty } }

    /// Nodes with pods that have required anti-affinity (`HavePodsWithRequiredAntiAffinityList`).
    var nodesWithPodsWithRequiredAntiAffinity: [NodeInfo] { nodes.filter { !$0.podsWithRequiredAntiAffinity.isEmpty } }

    /// The labels of `namespace` (empty when unknown).
    func labels(ofNamespace namespace: String) -> [String: String] { namespaceLabels[namespace] ?? [:] }
}
