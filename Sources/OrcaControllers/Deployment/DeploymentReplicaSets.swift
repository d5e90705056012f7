import Foundation
import OrcaClient

/// Which of a deployment's replica sets is which, and in what order they are handled
/// (`deploymentutil.FindNewReplicaSet` / `FindOldReplicaSets` / `FindActiveOrLatest` /
/// `IsSaturated` and the `controller.ReplicaSetsBy…` orders). Pure functions of values.
public enum DeploymentReplicaSets {
    // MARK: orders

    /// Oldest first, then by name (`ReplicaSetsByCreationTimestamp`).
    public static func byCreationTimestamp(_ a: ReplicaSet, _ b: ReplicaSet) -> Bool {
        let ta = KubernetesTime.date(a.metadata?.creationTimestamp) ?? .distantPast
        let tb = KubernetesTime.date(b.metadata?.creationTimestamp) ?? .distantPast
        if ta == tb { return (a.metadata?.name ?? "") < (b.metadata?.name ?? "") }
        return ta < tb
    }

    /// Largest first; among equals, newer first (`ReplicaSetsBySizeNewer`, for scaling up).
    public static func bySizeNewer(_ a: ReplicaSet, _ b: ReplicaSet) -> Bool {
        let ra = RolloutMath.specReplicas(a), rb = RolloutMath.specReplicas(b)
        return ra == rb ? byCreationTimestamp(b, a) : ra > rb
    }

    /// Largest first; among equals, older first (`ReplicaSetsBySizeOlder`, for scaling down).
    public static func bySizeOlder(_ a: ReplicaSet, _ b: ReplicaSet) -> Bool {
        let ra = RolloutMath.specReplicas(a), rb = RolloutMath.specReplicas(b)
        return ra == rb ? byCreationTimestamp(a, b) : ra > rb
    }

    /// Lowest revision first, then oldest (`ReplicaSetsByRevision`, for history cleanup).
    public static func byRevision(_ a: ReplicaSet, _ b: ReplicaSet) -> Bool {
        guard let ra = DeploymentAnnotations.revisionNumber(a.metadata), let rb = DeploymentAnnotations.revisionNumber(b.metadata),
              ra != rb else { return byCreationTimestamp(a, b) }
        return ra < rb
    }

    // MARK: selection

    /// Replica sets asking for pods (`FilterActiveReplicaSets`).
    public static func filterActive(_ sets: [ReplicaSet]) -> [ReplicaSet] {
        sets.filter { RolloutMath.specReplicas($0) > 0 }
    }

    /// The oldest replica set whose template is the deployment's, ignoring the hash label.
    public static func findNew(_ d: Deployment, _ sets: [ReplicaSet]) -> ReplicaSet? {
        sets.sorted(by: byCreationTimestamp).first { PodTemplateHash.equalIgnoringHash($0.spec?.template, d.spec?.template) }
    }

    /// Every replica set but the new one (`FindOldReplicaSets`' second result).
    public static func findOld(_ d: Deployment, _ sets: [ReplicaSet]) -> [ReplicaSet] {
        let newUID = findNew(d, sets)?.metadata?.uid
        return sets.filter { newUID == nil || $0.metadata?.uid != newUID }
    }

    /// The only active replica set, or the newest when none is active; nil when several are
    /// active (then scaling is proportional) (`FindActiveOrLatest`).
    public static func findActiveOrLatest(newRS: ReplicaSet?, oldRSs: [ReplicaSet]) -> ReplicaSet? {
        if newRS == nil && oldRSs.isEmpty { return nil }
        let newestFirst = oldRSs.sorted { byCreationTimestamp($1, $0) }
        let active = filterActive(newestFirst + (newRS.map { [$0] } ?? []))
        switch active.count {
        case 0: return newRS ?? newestFirst.first
        case 1: return active[0]
        default: return nil
        }
    }

    /// The new replica set has all of `spec.replicas`, sized for them, all available (`IsSaturated`).
    public static func isSaturated(_ d: Deployment, _ rs: ReplicaSet?) -> Bool {
        guard let rs, let desired = DeploymentAnnotations.desiredReplicasValue(rs) else { return false }
        let replicas = RolloutMath.desiredReplicas(d)
        return RolloutMath.specReplicas(rs) == replicas && desired == replicas && (rs.status?.availableReplicas ?? 0) == replicas
    }

    /// `sets` with `rs` in place of the one with its UID (or added).
    static func replacing(_ sets: [ReplicaSet], with rs: ReplicaSet) -> [ReplicaSet] {
        var out = sets
        if let i = out.firstIndex(where: { $0.metadata?.uid == rs.metadata?.uid }) { out[i] = rs } else { out.append(rs) }
        return out
    }
}
