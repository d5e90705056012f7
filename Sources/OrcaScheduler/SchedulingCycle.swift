import OrcaClient

/// One scheduling attempt of one pod with kube-scheduler's default profile, sans IO: PreFilter,
/// Filter over the snapshot's nodes (starting where the last cycle stopped, and stopping once
/// enough feasible nodes are found in a big cluster), PostFilter's message, PreScore/Score/
/// NormalizeScore with the profile's weights, and a random pick among the best nodes.
struct SchedulingCycle {
    /// What the scheduler knows about the pod beyond the snapshot, gathered before the cycle.
    struct Inputs: Sendable {
        /// Selector of the pod's services and owning workload, for the default spreading.
        var defaultSpreadSelector: LabelMatcher?
        /// VolumeBinding's PreFilter rejection (missing, deleted or unbound Immediate claims).
        var volumeRejection: String?
        /// The volumes bound to the pod's claims.
        var boundVolumes: [PersistentVolume] = []

        init(defaultSpreadSelector: LabelMatcher? = nil, volumeRejection: String? = nil, boundVolumes: [PersistentVolume] = []) {
            self.defaultSpreadSelector = defaultSpreadSelector
            self.volumeRejection = volumeRejection
            self.boundVolumes = boundVolumes
        }
    }

    /// How the attempt ended.
    enum Outcome: Sendable, Equatable {
        /// The pod goes to `node`.
        case scheduled(node: String)
        /// No node fits.
        case unschedulable(FitError)
        /// No node fits until the victims on `candidate.node` are evicted (the pod is nominated
        /// to it and waits); `fitError` says why it did not fit.
        case preempting(DefaultPreemption.Candidate, FitError)
        /// The cluster has no nodes (`ErrNoNodesAvailable`).
        case noNodes

        /// The PodScheduled=False message and FailedScheduling text, for the failures.
        var failureMessage: String? {
            switch self {
            case .scheduled: nil
            case .unschedulable(let error), .preempting(_, let error): error.message
            case .noNodes: "no nodes available to schedule pods"
            }
        }
    }

    /// The least number of feasible nodes to look for before scoring (`minFeasibleNodesToFind`).
    static let minFeasibleNodesToFind = 100
    /// The least share of nodes to look at in a big cluster (`minFeasibleNodesPercentageToFind`).
    static let minFeasibleNodesPercentageToFind = 5

    let pod: PodInfo
    let snapshot: Snapshot
    let inputs: Inputs

    /// How many feasible nodes are enough (`numFeasibleNodesToFind` with the adaptive
    /// percentage): all below 100 nodes, else 50% less 1% per 125 nodes, at least 5% and 100.
    static func numFeasibleNodesToFind(_ numAllNodes: Int) -> Int {
        if numAllNodes < minFeasibleNodesToFind { return numAllNodes }
        let percentage = max(50 - numAllNodes / 125, minFeasibleNodesPercentageToFind)
        return max(numAllNodes * percentage / 100, minFeasibleNodesToFind)
    }

    /// The filter plugins for the pod in profile order, and the node names PreFilter narrowed
    /// the search to; or PreFilter's rejection.
    func preFilter() -> Result<(filters: [any FilterPlugin], nodeNames: Set<String>?), PreFilterRejection> {
        var filters: [any FilterPlugin] = [NodeUnschedulable(pod: pod), NodeName(pod: pod), TaintToleration(pod: pod)]
        let nodeAffinity = NodeAffinityPlugin(pod: pod)
        let nodeNames = nodeAffinity.requiredNodeNames
        if let nodeNames, nodeNames.isEmpty {
            return .failure(PreFilterRejection(FilterStatus(.unschedulableAndUnresolvable, NodeAffinityPlugin.conflictReason, plugin: NodeAffinityPlugin.name)))
        }
        filters.append(nodeAffinity)
        let ports = NodePorts(pod: pod)
        if !ports.isSkipped { filters.append(ports) }
        filters.append(NodeResourcesFit(pod: pod))
        if let reason = inputs.volumeRejection {
            return .failure(PreFilterRejection(FilterStatus(.unschedulableAndUnresolvable, reason, plugin: VolumeBinding.name)))
        }
        if !inputs.boundVolumes.isEmpty { filters.append(VolumeBinding(boundVolumes: inputs.boundVolumes)) }
        let spread = PodTopologySpread(pod: pod, snapshot: snapshot)
        if !spread.isSkipped { filters.append(spread) }
        let interPod = InterPodAffinity(pod: pod, snapshot: snapshot)
        if !interPod.isSkipped { filters.append(interPod) }
        return .success((filters, nodeNames))
    }

    /// A PreFilter rejection: every node counts as rejected with `status`.
    struct PreFilterRejection: Error {
        var status: FilterStatus
        init(_ status: FilterStatus) { self.status = status }
    }

    /// The score plugins for the pod over the feasible nodes, in profile order, skipped ones left out.
    func scorePlugins(feasible: [NodeInfo]) -> [any ScorePlugin] {
        var plugins: [any ScorePlugin] = [TaintToleration(pod: pod)]
        let nodeAffinity = NodeAffinityPlugin(pod: pod)
        if !nodeAffinity.preferredTerms.isEmpty { plugins.append(nodeAffinity) }
        plugins.append(NodeResourcesFit(pod: pod))
        if let spread = PodTopologySpreadScore(pod: pod, feasible: feasible, snapshot: snapshot,
                                               defaultSelector: inputs.defaultSpreadSelector) {
            plugins.append(spread)
        }
        if let interPod = InterPodAffinityScore(pod: pod, feasible: feasible, snapshot: snapshot) { plugins.append(interPod) }
        plugins.append(NodeResourcesBalancedAllocation(pod: pod))
        return plugins
    }

    /// The weighted total score of each of `feasible` (RunScorePlugins).
    func totalScores(_ feasible: [NodeInfo]) -> [Int64] {
        var totals = Array(repeating: Int64(0), count: feasible.count)
        for plugin in scorePlugins(feasible: feasible) {
            var scores = feasible.map { plugin.score($0) }
            plugin.normalize(&scores, of: feasible)
            for i in totals.indices { totals[i] += scores[i] * plugin.weight }
        }
        return totals
    }

    /// Runs the cycle from node `startIndex`; returns the outcome and the number of nodes it
    /// looked at (the next cycle starts that many nodes further on).
    func run(startIndex: Int, random: inout some RandomNumberGenerator) -> (outcome: Outcome, processedNodes: Int) {
        let allNodes = snapshot.nodes
        guard !allNodes.isEmpty else { return (.noNodes, 0) }
        let filters: [any FilterPlugin]
        var nodes = allNodes
        var absentNodesStatus: FilterStatus?
        switch preFilter() {
        case .failure(let rejection):
            let fitError = FitError(numAllNodes: allNodes.count, absentNodesStatus: rejection.status,
                                    preFilterMessage: rejection.status.message)
            return (postFilter(fitError, filters: []), 0)
        case .success(let prepared):
            filters = prepared.filters
            if let names = prepared.nodeNames {
                nodes = allNodes.filter { names.contains($0.name) }
                absentNodesStatus = FilterStatus(.unschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) [\(NodeAffinityPlugin.name)]",
                                                 plugin: NodeAffinityPlugin.name)
            }
        }
        let wanted = Self.numFeasibleNodesToFind(nodes.count)
        var feasible: [NodeInfo] = []
        var statuses: [String: FilterStatus] = [:]
        var processed = 0
        for i in nodes.indices {
            let node = nodes[(startIndex + i) % nodes.count]
            processed += 1
            if let failure = filters.lazy.compactMap({ $0.filter(node) }).first {
                statuses[node.name] = failure
            } else {
                feasible.append(node)
                if feasible.count >= wanted { break }
            }
        }
        guard !feasible.isEmpty else {
            let fitError = FitError(numAllNodes: allNodes.count, nodeStatuses: statuses, absentNodesStatus: absentNodesStatus)
            return (postFilter(fitError, filters: filters), processed)
        }
        if feasible.count == 1 { return (.scheduled(node: feasible[0].name), processed) }
        let totals = totalScores(feasible)
        return (.scheduled(node: feasible[Self.selectHost(totals, random: &random)].name), processed)
    }

    /// The outcome of a cycle no node passed: preemption on a node where it makes room, else
    /// unschedulable with the PostFilter's message.
    func postFilter(_ fitError: FitError, filters: [any FilterPlugin]) -> Outcome {
        switch DefaultPreemption.postFilter(for: pod, fitError: fitError, snapshot: snapshot, filters: filters) {
        case .preempt(let candidate):
            return .preempting(candidate, fitError)
        case .message(let message):
            var fitError = fitError
            fitError.postFilterMessage = message
            return .unschedulable(fitError)
        }
    }

    /// The index of the highest total, ties broken uniformly at random by reservoir sampling
    /// (`selectHost`).
    static func selectHost(_ totals: [Int64], random: inout some RandomNumberGenerator) -> Int {
        var selected = 0
        var best = Int64.min
        var ties = 0
        for (i, total) in totals.enumerated() {
            if total > best {
                best = total
                selected = i
                ties = 1
            } else if total == best {
                ties += 1
                if Int.random(in: 0..<ties, using: &random) == 0 { selected = i }
            }
        }
        return selected
    }
}
