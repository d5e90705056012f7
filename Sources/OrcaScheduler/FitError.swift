/// Why a pod fits no node (the framework's `FitError`): the per-node rejections, and what
/// PreFilter and PostFilter (preemption) said. `message` is kube-scheduler 1.32's text, used
/// for the FailedScheduling event and the PodScheduled condition.
public struct FitError: Sendable, Hashable {
    /// The number of nodes in the snapshot.
    public var numAllNodes: Int
    /// The rejection of each node that was filtered, by node name.
    public var nodeStatuses: [String: FilterStatus]
    /// The status counted for every node not in `nodeStatuses` (nodes PreFilter ruled out).
    public var absentNodesStatus: FilterStatus?
    /// The message of a PreFilter rejection (then `nodeStatuses` is not counted).
    public var preFilterMessage: String?
    /// The PostFilter (preemption) message.
    public var postFilterMessage: String?

    /// A fit error over `numAllNodes` nodes.
    public init(numAllNodes: Int, nodeStatuses: [String: FilterStatus] = [:], absentNodesStatus: FilterStatus? = nil,
                preFilterMessage: String? = nil, postFilterMessage: String? = nil) {
        self.numAllNodes = numAllNodes
        self.nodeStatuses = nodeStatuses
        self.absentNodesStatus = absentNodesStatus
        self.preFilterMessage = preFilterMessage
        self.postFilterMessage = postFilterMessage
    }

    /// The plugins that rejected nodes (the pod waits for a change that may satisfy them).
    var plugins: Set<String> {
        var plugins = Set(nodeStatuses.values.map(\.plugin))
        if let absent = absentNodesStatus { plugins.insert(absent.plugin) }
        return plugins
    }

    /// `0/N nodes are available: ` then the PreFilter message or the reasons with the number
    /// of nodes giving each (a node counts once per reason it gave), sorted as strings the
    /// way Go's `sort.Strings` does ("10 x" before "2 y"), then the PostFilter message.
    public var message: String {
        var text = "0/\(numAllNodes) nodes are available:"
        if let preFilterMessage, !preFilterMessage.isEmpty {
            text += " \(preFilterMessage)."
        } else {
            var counts: [String: Int] = [:]
            for status in nodeStatuses.values {
                for reason in status.reasons { counts[reason, default: 0] += 1 }
            }
            if nodeStatuses.count < numAllNodes, let absent = absentNodesStatus {
                for reason in absent.reasons { counts[reason, default: 0] += numAllNodes - nodeStatuses.count }
            }
            let histogram = counts.map { "\($0.value) \($0.key)" }
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            if !histogram.isEmpty { text += " \(histogram.joined(separator: ", "))." }
        }
        if let postFilterMessage, !postFilterMessage.isEmpty { text += " \(postFilterMessage)" }
        return text
    }
}
