/// A filter plugin set up for one pod in one scheduling cycle: its initializer is the
/// plugin's PreFilter (state over the whole snapshot, computed once), `filter` runs per node.
/// Values, so a changed copy (`removing`) never disturbs the cycle's own state.
protocol FilterPlugin: Sendable {
    /// The plugin's name in kube-scheduler's profile.
    var name: String { get }

    /// Why `node` cannot take the pod, or nil if it can.
    func filter(_ node: NodeInfo) -> FilterStatus?

    /// The state as if `pod` were not on `node` (PreFilterExtensions.RemovePod), for the
    /// preemption dry run.
    func removing(_ pod: PodInfo, from node: NodeInfo) -> any FilterPlugin
}

extension FilterPlugin {
    func removing(_ pod: PodInfo, from node: NodeInfo) -> any FilterPlugin { self }
}

/// A score plugin set up for one pod and the nodes that passed the filters (its initializer
/// is the plugin's PreScore). Scores are 0–100 after `normalize`, then multiplied by `weight`.
protocol ScorePlugin: Sendable {
    /// The plugin's name in kube-scheduler's profile.
    var name: String { get }

    /// The plugin's weight in the default profile.
    var weight: Int64 { get }

    /// The raw score of `node`.
    func score(_ node: NodeInfo) -> Int64

    /// Maps the raw scores of `nodes` (the feasible nodes, in order) onto 0–100 (NormalizeScore).
    func normalize(_ scores: inout [Int64], of nodes: [NodeInfo])
}

extension ScorePlugin {
    func normalize(_ scores: inout [Int64], of nodes: [NodeInfo]) {}
}

/// Score helpers shared by plugins.
enum NodeScore {
    /// The highest score a plugin gives (`framework.MaxNodeScore`).
    static let max: Int64 = 100

    /// Scales scores so the highest becomes `maxPriority`, reversed if asked
    /// (`helper.DefaultNormalizeScore`).
    static func defaultNormalize(_ scores: inout [Int64], reverse: Bool, maxPriority: Int64 = NodeScore.max) {
        let maxCount = scores.max() ?? 0
        guard maxCount > 0 else {
            if reverse { scores = scores.map { _ in maxPriority } }
            return
        }
        scores = scores.map {
            let score = maxPriority * $0 / maxCount
            return reverse ? maxPriority - score : score
        }
    }
}
