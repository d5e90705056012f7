import Foundation
import OrcaClient

/// The arithmetic of a rollout, without I/O (kube's `deploymentutil` and the sizing parts of
/// `rolling.go` and `sync.go`): surge and unavailability bounds, how far the new replica set
/// may grow, how far old ones may shrink, and proportional scaling of a resized rollout.
/// Every function reads values only; the controller applies the sizes it returns.
public enum RolloutMath {
    /// The defaults of `maxSurge` and `maxUnavailable`.
    public static let defaultBound: IntOrString = "25%"

    // MARK: sizes

    /// `spec.replicas` of a deployment (1 when unset, as defaulting sets it).
    public static func desiredReplicas(_ d: Deployment) -> Int32 { d.spec?.replicas ?? 1 }

    /// `spec.replicas` of a replica set (1 when unset, as defaulting sets it).
    public static func specReplicas(_ rs: ReplicaSet) -> Int32 { rs.spec?.replicas ?? 1 }

    /// Sum of `spec.replicas` (`GetReplicaCountForReplicaSets`).
    public static func totalSpecReplicas(_ sets: [ReplicaSet]) -> Int32 { sum(sets) { specReplicas($0) } }

    /// Sum of `status.replicas` (`GetActualReplicaCountForReplicaSets`).
    public static func totalStatusReplicas(_ sets: [ReplicaSet]) -> Int32 { sum(sets) { $0.status?.replicas ?? 0 } }

    /// Sum of `status.readyReplicas`.
    public static func totalReadyReplicas(_ sets: [ReplicaSet]) -> Int32 { sum(sets) { $0.status?.readyReplicas ?? 0 } }

    /// Sum of `status.availableReplicas`.
    public static func totalAvailableReplicas(_ sets: [ReplicaSet]) -> Int32 { sum(sets) { $0.status?.availableReplicas ?? 0 } }

    static func sum(_ sets: [ReplicaSet], _ value: (ReplicaSet) -> Int32) -> Int32 {
        Int32(clamping: sets.reduce(0) { $0 + Int(value($1)) })
    }

    // MARK: bounds

    /// The deployment rolls (type RollingUpdate, the default) rather than recreates.
    public static func isRollingUpdate(_ d: Deployment) -> Bool {
        let type = d.spec?.strategy?.type ?? ""
        return type == "RollingUpdate" || type.isEmpty
    }

    /// `ResolveFenceposts`: maxSurge as a count rounded up, maxUnavailable rounded down (a
    /// missing or malformed value counts as 0); both 0 makes maxUnavailable 1, since a surge
    /// may be impossible (quota) and the rollout must still move.
    public static func resolveFenceposts(maxSurge: IntOrString?, maxUnavailable: IntOrString?,
                                         desired: Int32) -> (maxSurge: Int32, maxUnavailable: Int32) {
        let surge = (maxSurge ?? .int(0)).scaledValue(total: Int(desired), roundUp: true) ?? 0
        var unavailable = (maxUnavailable ?? .int(0)).scaledValue(total: Int(desired), roundUp: false) ?? 0
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (Int32(clamping: surge), Int32(clamping: unavailable))
    }

    /// The resolved bounds of a deployment's rolling update (defaults 25%/25%).
    static func fenceposts(_ d: Deployment) -> (maxSurge: Int32, maxUnavailable: Int32) {
        let rolling = d.spec?.strategy?.rollingUpdate
        return resolveFenceposts(maxSurge: rolling?.maxSurge ?? defaultBound, maxUnavailable: rolling?.maxUnavailable ?? defaultBound,
                                 desired: desiredReplicas(d))
    }

    /// Pods allowed above `spec.replicas` (0 for Recreate) (`MaxSurge`).
    public static func maxSurge(_ d: Deployment) -> Int32 {
        isRollingUpdate(d) ? fenceposts(d).maxSurge : 0
    }

    /// Pods allowed to be unavailable, at most `spec.replicas` (0 for Recreate or no
    /// replicas) (`MaxUnavailable`).
    public static func maxUnavailable(_ d: Deployment) -> Int32 {
        let desired = desiredReplicas(d)
        guard isRollingUpdate(d), desired != 0 else { return 0 }
        return min(fenceposts(d).maxUnavailable, desired)
    }

    // MARK: rolling update steps

    /// How big the new replica set may be now (`NewRSNewReplicas`): all of `spec.replicas`
    /// for Recreate; for a rolling update, grown by what the surge leaves room for, never
    /// past `spec.replicas`.
    public static func newRSNewReplicas(_ d: Deployment, allRSs: [ReplicaSet], newRS: ReplicaSet) -> Int32 {
        let desired = desiredReplicas(d)
        guard isRollingUpdate(d) else { return desired }
        let current = Int(totalSpecReplicas(allRSs))
        let maxTotal = Int(desired) + Int(maxSurge(d))
        let newReplicas = Int(specReplicas(newRS))
        if current >= maxTotal { return Int32(newReplicas) }
        let scaleUp = min(maxTotal - current, Int(desired) - newReplicas)
        return Int32(clamping: newReplicas + scaleUp)
    }

    /// How many old replicas may go (`reconcileOldReplicaSets`): all pods, less the minimum
    /// that must stay available, less the new replica set's unavailable pods (they must not
    /// let old ones go, or unavailability grows).
    public static func maxScaledDown(_ d: Deployment, allRSs: [ReplicaSet], newRS: ReplicaSet) -> Int32 {
        let minAvailable = Int(desiredReplicas(d)) - Int(maxUnavailable(d))
        let newUnavailable = Int(specReplicas(newRS)) - Int(newRS.status?.availableReplicas ?? 0)
        return Int32(clamping: Int(totalSpecReplicas(allRSs)) - minAvailable - newUnavailable)
    }

    /// `cleanupUnhealthyReplicas`: new sizes for `oldRSs` (oldest first) that drop their
    /// unavailable replicas, at most `maxCleanupCount` in all. Nil when a replica set reports
    /// more available replicas than it asks for (a stale status): kube stops the step then.
    public static func unhealthyCleanup(oldRSs: [ReplicaSet], maxCleanupCount: Int32) -> [Int32]? {
        var total: Int32 = 0
        var sizes: [Int32] = []
        for rs in oldRSs {
            let replicas = specReplicas(rs)
            // Status is not validated: a negative count must not trap the subtraction below.
            let available = max(0, rs.status?.availableReplicas ?? 0)
            guard total < maxCleanupCount, replicas != 0, replicas != available else {
                sizes.append(replicas)
                continue
            }
            if available > replicas { return nil }
            let down = Int32(clamping: min(Int(maxCleanupCount) - Int(total), Int(replicas) - Int(available)))
            total = total.addingReportingOverflow(down).partialValue
            sizes.append(replicas - down)
        }
        return sizes
    }

    /// `scaleDownOldReplicaSetsForRollingUpdate`: new sizes for `oldRSs` (oldest first) that
    /// remove what is available beyond `spec.replicas - maxUnavailable`.
    public static func rollingScaleDown(_ d: Deployment, allRSs: [ReplicaSet], oldRSs: [ReplicaSet]) -> [Int32] {
        let minAvailable = Int(desiredReplicas(d)) - Int(maxUnavailable(d))
        let available = Int(totalAvailableReplicas(allRSs))
        guard available > minAvailable else { return oldRSs.map(specReplicas) }
        let target = available - minAvailable
        var total = 0
        return oldRSs.map { rs in
            let replicas = Int(specReplicas(rs))
            guard total < target, replicas != 0 else { return Int32(replicas) }
            let down = min(replicas, target - total)
            total += down
            return Int32(replicas - down)
        }
    }

    // MARK: proportional scaling

    /// One replica set's target in a proportional resize.
    public struct ScaleStep: Sendable, Equatable {
        /// The replica set, as it was.
        public var replicaSet: ReplicaSet
        /// Its new `spec.replicas`.
        public var replicas: Int32
    }

    /// sync.go `scale` for a rolling deployment resized while several replica sets are active:
    /// the change (to `spec.replicas + maxSurge`) is shared out in proportion to each set's
    /// size against the `max-replicas` it was sized for, largest first (newer first when
    /// growing, older first when shrinking), leftovers to the first.
    public static func proportionalScale(_ d: Deployment, activeRSs: [ReplicaSet]) -> [ScaleStep] {
        let desired = desiredReplicas(d)
        let allowedSize = desired > 0 ? desired &+ maxSurge(d) : 0
        let toAdd = allowedSize &- totalSpecReplicas(activeRSs)
        var sets = activeRSs
        if toAdd > 0 {
            sets.sort(by: DeploymentReplicaSets.bySizeNewer)
        } else if toAdd < 0 {
            sets.sort(by: DeploymentReplicaSets.bySizeOlder)
        }
        var added: Int32 = 0
        var steps = sets.map { ScaleStep(replicaSet: $0, replicas: specReplicas($0)) }
        guard toAdd != 0, !steps.isEmpty else { return steps }
        for i in steps.indices {
            let share = proportion(steps[i].replicaSet, d, toAdd: toAdd, added: added)
            steps[i].replicas = steps[i].replicas &+ share
            added = added &+ share
        }
        steps[0].replicas = max(0, steps[0].replicas &+ (toAdd &- added))
        return steps
    }

    /// `GetProportion`: this set's share of `toAdd`, within what is left of it.
    public static func proportion(_ rs: ReplicaSet, _ d: Deployment, toAdd: Int32, added: Int32) -> Int32 {
        if specReplicas(rs) == 0 || toAdd == 0 || toAdd == added { return 0 }
        let fraction = replicaSetFraction(rs, d)
        let allowed = toAdd &- added
        return toAdd > 0 ? min(fraction, allowed) : max(fraction, allowed)
    }

    /// `getReplicaSetFraction`: the set's size scaled from the max-replicas it was sized for
    /// (or the deployment's current replicas) to `spec.replicas + maxSurge`, less its size.
    static func replicaSetFraction(_ rs: ReplicaSet, _ d: Deployment) -> Int32 {
        let desired = desiredReplicas(d)
        let replicas = specReplicas(rs)
        if desired == 0 { return -replicas }
        let target = Double(Int(desired) + Int(maxSurge(d)))
        let annotated = DeploymentAnnotations.maxReplicasValue(rs) ?? (d.status?.replicas ?? 0)
        guard annotated != 0 else { return 0 }
        let newSize = (Double(replicas) * target / Double(annotated)).rounded()
        guard newSize.isFinite, abs(newSize) < 1e15 else { return 0 }
        return Int32(clamping: Int(newSize) - Int(replicas))
    }
}
