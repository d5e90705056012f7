import OrcaClient

/// One node as a scheduling cycle sees it (the framework's `NodeInfo`): the node, what it
/// can hold, and the non-terminal pods on it (assumed ones included) with their summed
/// requests and host ports. Built once per cycle and read by every plugin.
public struct NodeInfo: Sendable {
    /// The node.
    public let node: Node
    /// `metadata.name`.
    public let name: String
    /// `metadata.labels`.
    public let labels: [String: String]
    /// `spec.taints` plus the NoSchedule taints Kubernetes' node lifecycle controller puts on
    /// a node for its conditions (not Ready, pressure, unschedulable), which Orca derives here.
    public let taints: [Taint]
    /// `status.allocatable`.
    public let allocatable: Resource
    /// The pods on the node.
    public private(set) var pods: [PodInfo] = []
    /// The sum of the pods' requests.
    public private(set) var requested = Resource()
    /// The sum of the pods' requests with the scheduler's defaults for unset cpu and memory.
    public private(set) var nonZeroRequested = Resource()
    /// Host ports the pods bind.
    public private(set) var usedPorts = HostPortInfo()
    /// Pods with pod affinity or anti-affinity of any kind.
    public private(set) var podsWithAffinity: [PodInfo] = []
    /// Pods with required anti-affinity.
    public private(set) var podsWithRequiredAntiAffinity: [PodInfo] = []

    /// `node` with no pods yet.
    public init(node: Node) {
        self.node = node
        name = node.metadata?.name ?? ""
        labels = node.metadata?.labels ?? [:]
        taints = NodeInfo.effectiveTaints(node)
        allocatable = Resource(node.status?.allocatable ?? [:])
    }

    /// `node` with `pods` on it.
    public init(node: Node, pods: [PodInfo]) {
        self.init(node: node)
        for pod in pods { add(pod) }
    }

    /// Counts `pod` on the node.
    public mutating func add(_ pod: PodInfo) {
        pods.append(pod)
        requested.add(pod.requests)
        nonZeroRequested.milliCPU = nonZeroRequested.milliCPU.addingSaturating(pod.nonZeroRequests.milliCPU)
        nonZeroRequested.memory = nonZeroRequested.memory.addingSaturating(pod.nonZeroRequests.memory)
        for port in pod.hostPorts { usedPorts.add(port) }
        if pod.hasAffinity { podsWithAffinity.append(pod) }
        if pod.hasRequiredAntiAffinity { podsWithRequiredAntiAffinity.append(pod) }
    }

    /// Takes the pod `key` off the node (what preemption would do to a victim); returns it.
    @discardableResult
    public mutating func remove(_ key: String) -> PodInfo? {
        guard let index = pods.firstIndex(where: { $0.key == key }) else { return nil }
        let pod = pods.remove(at: index)
        requested.subtract(pod.requests)
        nonZeroRequested.milliCPU = nonZeroRequested.milliCPU.subtractingSaturating(pod.nonZeroRequests.milliCPU)
        nonZeroRequested.memory = nonZeroRequested.memory.subtractingSaturating(pod.nonZeroRequests.memory)
        for port in pod.hostPorts { usedPorts.remove(port) }
        podsWithAffinity.removeAll { $0.key == key }
        podsWithRequiredAntiAffinity.removeAll { $0.key == key }
        return pod
    }

    /// The taints the scheduler holds the node to: its own, then those the node lifecycle
    /// controller would add for its conditions (`TaintNodesByCondition`) unless present:
    /// `not-ready` (Ready False or missing), `unreachable` (Ready Unknown), `memory-pressure`,
    /// `disk-pressure`, `pid-pressure`, `network-unavailable` and `unschedulable`, all NoSchedule.
    static func effectiveTaints(_ node: Node) -> [Taint] {
        var taints = node.spec?.taints ?? []
        let conditions = node.status?.conditions ?? []
        func status(_ type: String) -> String? { conditions.first { $0.type == type }?.status }
        var derived: [String] = []
        switch status("Ready") {
        case "True": break
        case "Unknown": derived.append("node.kubernetes.io/unreachable")
        default: derived.append("node.kubernetes.io/not-ready")
        }
        if status("MemoryPressure") == "True" { derived.append("node.kubernetes.io/memory-pressure") }
        if status("DiskPressure") == "True" { derived.append("node.kubernetes.io/disk-pressure") }
        if status("PIDPressure") == "True" { derived.append("node.kubernetes.io/pid-pressure") }
        if status("NetworkUnavailable") == "True" { derived.append("node.kubernetes.io/network-unavailable") }
        if node.spec?.unschedulable == true { derived.append("node.kubernetes.io/unschedulable") }
        for key in derived where !taints.contains(where: { $0.key == key && $0.effect == "NoSchedule" }) {
            taints.append(Taint(effect: "NoSchedule", key: key))
        }
        return taints
    }
}
