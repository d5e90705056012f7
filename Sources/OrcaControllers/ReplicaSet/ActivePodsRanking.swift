import Foundation
import OrcaClient

/// The order in which a controller deletes surplus pods (Kubernetes' `ActivePodsWithRanks`,
/// with LogarithmicScaleDown): pods that cost least to lose go first —
/// unscheduled before scheduled, Pending before Unknown before Running, not ready before
/// ready, pods doubled up on a node (higher rank) first, then ready the shortest time,
/// more restarts, and created most recently (times compared on a log₂ scale).
public struct ActivePodsRanking: Sendable {
    /// For each pod, how many related pods share its node.
    let ranks: [Int]
    let pods: [Pod]
    let now: Date

    /// Ranks `pods`; `related` are the pods of the same workload (all of its ReplicaSets)
    /// used to count how crowded each node is.
    public init(pods: [Pod], related: [Pod], now: Date) {
        var perNode: [String: Int] = [:]
        for p in related {
            if let node = p.spec?.nodeName, !node.isEmpty { perNode[node, default: 0] += 1 }
        }
        self.pods = pods
        self.ranks = pods.map { p in p.spec?.nodeName.flatMap { perNode[$0] } ?? 0 }
        self.now = now
    }

    /// The pods in deletion order: the first ones are deleted first.
    public func deletionOrder() -> [Pod] {
        pods.indices.sorted(by: deleteFirst).map { pods[$0] }
    }

    /// Whether pod `i` should go before pod `j`.
    func deleteFirst(_ i: Int, _ j: Int) -> Bool {
        let a = pods[i], b = pods[j]
        let nodeA = a.spec?.nodeName ?? "", nodeB = b.spec?.nodeName ?? ""
        if nodeA != nodeB, nodeA.isEmpty || nodeB.isEmpty { return nodeA.isEmpty }
        let phaseA = Self.phaseOrdinal(a), phaseB = Self.phaseOrdinal(b)
        if phaseA != phaseB { return phaseA < phaseB }
        if a.isReady != b.isReady { return !a.isReady }
        if ranks[i] != ranks[j] { return ranks[i] > ranks[j] }
        if a.isReady, b.isReady {
            let readyA = KubernetesTime.date(a.readyCondition?.lastTransitionTime)
            let readyB = KubernetesTime.date(b.readyCondition?.lastTransitionTime)
            if let readyA, let readyB, readyA != readyB {
                let bucketA = logBucket(readyA), bucketB = logBucket(readyB)
                if bucketA != bucketB { return bucketA < bucketB }
            }
        }
        let restartsA = maxRestarts(a), restartsB = maxRestarts(b)
        if restartsA != restartsB { return restartsA > restartsB }
        let createdA = KubernetesTime.date(a.metadata?.creationTimestamp)
        let createdB = KubernetesTime.date(b.metadata?.creationTimestamp)
        if let createdA, let createdB, createdA != createdB {
            let bucketA = logBucket(createdA), bucketB = logBucket(createdB)
            if bucketA != bucketB { return bucketA < bucketB }
        }
        return (a.metadata?.uid ?? "") < (b.metadata?.uid ?? "")
    }

    /// ⌊log₂ of the nanoseconds since `t`⌋: the scale on which ages are compared.
    func logBucket(_ t: Date) -> Int {
        let nanos = now.timeIntervalSince(t) * 1e9
        return nanos >= 1 ? Int(log2(nanos)) : 0
    }

    static func phaseOrdinal(_ pod: Pod) -> Int {
        switch pod.status?.phase ?? "Pending" {
        case "Pending": return 0
        case "Unknown": return 1
        case "Running": return 2
        default: return 3
        }
    }

    func maxRestarts(_ pod: Pod) -> Int32 {
        (pod.status?.containerStatuses ?? []).map { $0.restartCount ?? 0 }.max() ?? 0
    }
}
