import Foundation

/// The NodeResourcesBalancedAllocation score (weight 1): nodes whose cpu and memory would be
/// used in similar shares after placing the pod score higher — 100 × (1 − the standard
/// deviation of the requested/allocatable fractions), from actual requests.
struct NodeResourcesBalancedAllocation: ScorePlugin {
    static let name = "NodeResourcesBalancedAllocation"
    var name: String { Self.name }
    let weight: Int64 = 1

    let requests: Resource

    init(pod: PodInfo) {
        requests = pod.requests
    }

    func score(_ node: NodeInfo) -> Int64 {
        var fractions: [Double] = []
        for (allocatable, requested) in [
            (node.allocatable.milliCPU, node.requested.milliCPU.addingSaturating(requests.milliCPU)),
            (node.allocatable.memory, node.requested.memory.addingSaturating(requests.memory)),
        ] where allocatable != 0 {
            fractions.append(min(Double(requested) / Double(allocatable), 1))
        }
        var std = 0.0
        if fractions.count == 2 {
            std = abs((fractions[0] - fractions[1]) / 2)
        } else if fractions.count > 2 {
            let mean = fractions.reduce(0, +) / Double(fractions.count)
            std = (fractions.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(fractions.count)).squareRoot()
        }
        return Int64((1 - std) * Double(NodeScore.max))
    }
}
