/// The DefaultPreemption PostFilter, as far as Orca goes: it works out what kube-scheduler's
/// preemption dry run would conclude, for the message, but evicts nothing (Orca has no
/// preemption yet). Nodes rejected as unresolvable are "not helpful"; on the others it takes
/// off every pod of lower priority and runs the filters again: a node without such pods has
/// "No preemption victims", one that still fails gives the filter's reasons. When some node
/// would fit, Kubernetes would preempt there and print no preemption part; so does this.
enum DefaultPreemption {
    static let notHelpful = "Preemption is not helpful for scheduling"
    static let noVictims = "No preemption victims found for incoming pod"

    /// The PostFilter message (`preemption: …`), or nil when preemption would find a node.
    /// `fitError` is the cycle's, `filters` its filter plugins as set up by PreFilter (empty
    /// when PreFilter rejected the pod).
    static func message(for pod: PodInfo, fitError: FitError, snapshot: Snapshot, filters: [any FilterPlugin]) -> String? {
        if pod.pod.spec?.preemptionPolicy == "Never" {
            return "preemption: not eligible due to preemptionPolicy=Never."
        }
        var statuses: [String: FilterStatus] = [:]
        for node in snapshot.nodes {
            let status = fitError.nodeStatuses[node.name] ?? fitError.absentNodesStatus
            guard status?.code == .unschedulable, fitError.preFilterMessage == nil else { continue }
            var trial = node
            var plugins = filters
            for victim in node.pods where victim.priority < pod.priority {
                trial.remove(victim.key)
                plugins = plugins.map { $0.removing(victim, from: node) }
            }
            if trial.pods.count == node.pods.count {
                statuses[node.name] = FilterStatus(.unschedulableAndUnresolvable, noVictims, plugin: "DefaultPreemption")
                continue
            }
            guard let failure = plugins.lazy.compactMap({ $0.filter(trial) }).first else { return nil }
            statuses[node.name] = failure
        }
        let dryRun = FitError(numAllNodes: snapshot.nodes.count, nodeStatuses: statuses,
                              absentNodesStatus: FilterStatus(.unschedulableAndUnresolvable, notHelpful, plugin: "DefaultPreemption"))
        return "preemption: " + dryRun.message
    }
}
