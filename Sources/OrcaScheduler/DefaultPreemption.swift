/// The DefaultPreemption PostFilter (kube-scheduler's `defaultpreemption`): when a pod fits no
/// node, it looks for a node where evicting pods of lower priority makes room.
///
/// - Dry run: on each node a filter rejected as resolvable, every lower-priority pod is taken
///   off and the filters run again; a node without such pods has "No preemption victims", one
///   that still fails gives the filter's reasons. On a node that fits, the victims are put back
///   one by one, most important first, as long as the pod still fits (kube's reprieve), so only
///   the fewest needed are evicted.
/// - Choice: the node whose most important victim has the lowest priority, then the lowest sum
///   of victim priorities, then the fewest victims (kube's `pickOneNodeForPreemption`, without
///   its PodDisruptionBudget and start-time criteria).
/// - A pod with `preemptionPolicy: Never`, or whose nominated node still has lower-priority
///   pods terminating (victims of its last preemption), preempts nothing.
///
/// When no node can be made to fit, the message (`preemption: …`) says why per node.
enum DefaultPreemption {
    static let notHelpful = "Preemption is not helpful for scheduling"
    static let noVictims = "No preemption victims found for incoming pod"

    /// A node where preemption makes room, and the pods evicted there.
    struct Candidate: Sendable, Equatable {
        var node: String
        /// The pods to evict, most important first.
        var victims: [PodInfo]

        static func == (a: Candidate, b: Candidate) -> Bool {
            a.node == b.node && a.victims.map(\.key) == b.victims.map(\.key)
        }
    }

    /// What the PostFilter concluded.
    enum Result: Sendable, Equatable {
        /// Evict the victims on the node; the pod is nominated to it.
        case preempt(Candidate)
        /// Nothing to do; the message (`preemption: …`) says why.
        case message(String)
    }

    /// The PostFilter of a failed cycle. `fitError` is the cycle's, `filters` its filter
    /// plugins as set up by PreFilter (empty when PreFilter rejected the pod).
    static func postFilter(for pod: PodInfo, fitError: FitError, snapshot: Snapshot, filters: [any FilterPlugin]) -> Result {
        if pod.pod.spec?.preemptionPolicy == "Never" {
            return .message("preemption: not eligible due to preemptionPolicy=Never.")
        }
        if let nominated = pod.pod.status?.nominatedNodeName, !nominated.isEmpty,
           let node = snapshot.nodes.first(where: { $0.name == nominated }),
           node.pods.contains(where: { $0.pod.metadata?.deletionTimestamp != nil && $0.priority < pod.priority }) {
            return .message("preemption: not eligible due to a terminating pod on the nominated node.")
        }
        var statuses: [String: FilterStatus] = [:]
        var candidates: [Candidate] = []
        for node in snapshot.nodes {
            let status = fitError.nodeStatuses[node.name] ?? fitError.absentNodesStatus
            guard status?.code == .unschedulable, fitError.preFilterMessage == nil else { continue }
            switch victims(for: pod, on: node, filters: filters) {
            case .success(let victims):
                candidates.append(Candidate(node: node.name, victims: victims))
            case .failure(let failure):
                statuses[node.name] = failure.status
            }
        }
        if let best = candidates.min(by: { rank($0) < rank($1) }) { return .preempt(best) }
        let dryRun = FitError(numAllNodes: snapshot.nodes.count, nodeStatuses: statuses,
                              absentNodesStatus: FilterStatus(.unschedulableAndUnresolvable, notHelpful, plugin: "DefaultPreemption"))
        return .message("preemption: " + dryRun.message)
    }

    /// Why a node cannot be made to fit.
    struct Rejection: Error {
        var status: FilterStatus
    }

    /// The fewest lower-priority pods on `node` whose eviction lets `pod` fit there.
    static func victims(for pod: PodInfo, on node: NodeInfo, filters: [any FilterPlugin]) -> Swift.Result<[PodInfo], Rejection> {
        let lower = node.pods.filter { $0.priority < pod.priority }
        guard !lower.isEmpty else {
            return .failure(Rejection(status: FilterStatus(.unschedulableAndUnresolvable, noVictims, plugin: "DefaultPreemption")))
        }
        func failure(evicting evicted: [PodInfo]) -> FilterStatus? {
            var trial = node
            var plugins = filters
            for victim in evicted {
                trial.remove(victim.key)
                plugins = plugins.map { $0.removing(victim, from: node) }
            }
            return plugins.lazy.compactMap { $0.filter(trial) }.first
        }
        if let status = failure(evicting: lower) { return .failure(Rejection(status: status)) }
        var victims = lower.sorted { $0.priority > $1.priority }
        for reprieved in victims {
            let rest = victims.filter { $0.key != reprieved.key }
            if failure(evicting: rest) == nil { victims = rest }
        }
        return .success(victims)
    }

    /// A candidate's rank: lower is better. Priorities are summed offset to be positive, as kube
    /// does, so more victims never rank better for being negative.
    static func rank(_ c: Candidate) -> (Int32, Int64, Int) {
        let priorities = c.victims.map(\.priority)
        return (priorities.max() ?? Int32.min, priorities.reduce(Int64(0)) { $0 + Int64($1) + Int64(Int32.max) + 1 }, priorities.count)
    }
}
