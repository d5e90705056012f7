import OrcaClient

/// The NodeResourcesFit plugin. Filter: the node must have room for one more pod and for
/// the pod's cpu, memory, ephemeral storage and scalar (extended, hugepages) requests next
/// to what its pods already request; every shortfall is a reason. Score (weight 1,
/// LeastAllocated over cpu and memory): the more room left after placing the pod, the
/// better, counting 100m/200Mi for containers that request nothing.
struct NodeResourcesFit: FilterPlugin, ScorePlugin {
    static let name = "NodeResourcesFit"
    var name: String { Self.name }
    let weight: Int64 = 1

    let requests: Resource
    let nonZeroRequests: Resource

    init(pod: PodInfo) {
        requests = pod.requests
        nonZeroRequests = pod.nonZeroRequests
    }

    /// The shortfalls of `node` for the pod, in Kubernetes' order and words (`fitsRequest`).
    func insufficientResources(_ node: NodeInfo) -> [String] {
        var reasons: [String] = []
        if Int64(node.pods.count) + 1 > node.allocatable.allowedPodNumber { reasons.append("Too many pods") }
        if requests.milliCPU == 0, requests.memory == 0, requests.ephemeralStorage == 0, requests.scalar.isEmpty {
            return reasons
        }
        let free = { (allocatable: Int64, requested: Int64) in allocatable.subtractingSaturating(requested) }
        if requests.milliCPU > 0, requests.milliCPU > free(node.allocatable.milliCPU, node.requested.milliCPU) {
            reasons.append("Insufficient cpu")
        }
        if requests.memory > 0, requests.memory > free(node.allocatable.memory, node.requested.memory) {
            reasons.append("Insufficient memory")
        }
        if requests.ephemeralStorage > 0,
           requests.ephemeralStorage > free(node.allocatable.ephemeralStorage, node.requested.ephemeralStorage) {
            reasons.append("Insufficient ephemeral-storage")
        }
        for (name, quantity) in requests.scalar.sorted(by: { $0.key < $1.key }) where quantity > 0 {
            if quantity > free(node.allocatable.scalar[name] ?? 0, node.requested.scalar[name] ?? 0) {
                reasons.append("Insufficient \(name)")
            }
        }
        return reasons
    }

    func filter(_ node: NodeInfo) -> FilterStatus? {
        let reasons = insufficientResources(node)
        return reasons.isEmpty ? nil : FilterStatus(.unschedulable, reasons, plugin: name)
    }

    /// LeastAllocated: for cpu and memory (weight 1 each, skipped where the node has none),
    /// `(allocatable - requested) * 100 / allocatable` with the pod placed, averaged.
    func score(_ node: NodeInfo) -> Int64 {
        var total: Int64 = 0
        var weights: Int64 = 0
        for (allocatable, requested) in [
            (node.allocatable.milliCPU, node.nonZeroRequested.milliCPU.addingSaturating(nonZeroRequests.milliCPU)),
            (node.allocatable.memory, node.nonZeroRequested.memory.addingSaturating(nonZeroRequests.memory)),
        ] where allocatable != 0 {
            total += Self.leastRequestedScore(requested: requested, capacity: allocatable)
            weights += 1
        }
        return weights == 0 ? 0 : total / weights
    }

    /// `leastRequestedScore`: the share left free, 0–100.
    static func leastRequestedScore(requested: Int64, capacity: Int64) -> Int64 {
        if capacity == 0 || requested > capacity { return 0 }
        let free = capacity - requested
        // Written to avoid overflowing `free * 100` for byte-sized capacities near Int64.max.
        if free > Int64.max / NodeScore.max { return Int64((Double(free) * Double(NodeScore.max)) / Double(capacity)) }
        return free * NodeScore.max / capacity
    }
}
