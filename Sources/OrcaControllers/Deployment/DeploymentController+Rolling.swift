import Foundation
import OrcaClient

/// The RollingUpdate strategy (rolling.go): grow the new replica set within maxSurge, shrink
/// old ones within maxUnavailable, one step per reconcile.
extension DeploymentController {
    /// `rolloutRolling`: creates the new replica set if needed, then scales it up, or else
    /// scales old ones down; once the rollout is complete, trims history; then status.
    func rolloutRolling(_ d: inout Deployment, _ rsList: inout [ReplicaSet]) async throws -> ReconcileResult {
        let (found, oldRSs) = try await allReplicaSetsAndSyncRevision(&d, &rsList, create: true)
        guard let newRS = found else { return try await syncRolloutStatus(&d, allRSs: oldRSs, newRS: nil) }
        let allRSs = oldRSs + [newRS]

        if try await reconcileNewReplicaSet(d, allRSs: allRSs, newRS: newRS) {
            return try await syncRolloutStatus(&d, allRSs: allRSs, newRS: newRS)
        }
        if try await reconcileOldReplicaSets(d, allRSs: allRSs, oldRSs: DeploymentReplicaSets.filterActive(oldRSs), newRS: newRS) {
            return try await syncRolloutStatus(&d, allRSs: allRSs, newRS: newRS)
        }
        if DeploymentConditions.deploymentComplete(d, d.status) {
            try await cleanupDeployment(d, oldRSs: oldRSs)
        }
        return try await syncRolloutStatus(&d, allRSs: allRSs, newRS: newRS)
    }

    /// Scales the new replica set down to `spec.replicas` if above, or up as far as the surge
    /// allows (`reconcileNewReplicaSet`). True if it was resized.
    func reconcileNewReplicaSet(_ d: Deployment, allRSs: [ReplicaSet], newRS: ReplicaSet) async throws -> Bool {
        let desired = RolloutMath.desiredReplicas(d)
        let current = RolloutMath.specReplicas(newRS)
        if current == desired { return false }
        if current > desired {
            return try await scaleReplicaSetAndRecordEvent(newRS, to: desired, d).scaled
        }
        let target = RolloutMath.newRSNewReplicas(d, allRSs: allRSs, newRS: newRS)
        return try await scaleReplicaSetAndRecordEvent(newRS, to: target, d).scaled
    }

    /// Scales old replica sets down (`reconcileOldReplicaSets`): first their unavailable
    /// replicas, then available ones beyond `spec.replicas - maxUnavailable`, never more in
    /// all than `RolloutMath.maxScaledDown`. True if anything was scaled down.
    func reconcileOldReplicaSets(_ d: Deployment, allRSs: [ReplicaSet], oldRSs: [ReplicaSet],
                                 newRS: ReplicaSet) async throws -> Bool {
        guard RolloutMath.totalSpecReplicas(oldRSs) > 0 else { return false }
        let maxScaledDown = RolloutMath.maxScaledDown(d, allRSs: allRSs, newRS: newRS)
        guard maxScaledDown > 0 else { return false }
        guard let cleanup = try await cleanupUnhealthyReplicas(d, oldRSs: oldRSs, maxCleanupCount: maxScaledDown) else {
            return false
        }
        let (cleaned, cleanedCount) = cleanup
        let scaledDown = try await scaleDownOldReplicaSetsForRollingUpdate(d, allRSs: cleaned + [newRS], oldRSs: cleaned)
        return cleanedCount > 0 || scaledDown > 0
    }

    /// Drops unavailable replicas of old replica sets, oldest first, at most `maxCleanupCount`
    /// (`cleanupUnhealthyReplicas`): they add no availability, and would block the rollout.
    /// Returns the old replica sets as written and how many replicas went; nil when a stale
    /// status makes the step unsafe.
    func cleanupUnhealthyReplicas(_ d: Deployment, oldRSs: [ReplicaSet],
                                  maxCleanupCount: Int32) async throws -> ([ReplicaSet], Int32)? {
        var sets = oldRSs.sorted(by: DeploymentReplicaSets.byCreationTimestamp)
        guard let sizes = RolloutMath.unhealthyCleanup(oldRSs: sets, maxCleanupCount: maxCleanupCount) else { return nil }
        var total: Int32 = 0
        for i in sets.indices where sizes[i] != RolloutMath.specReplicas(sets[i]) {
            let before = RolloutMath.specReplicas(sets[i])
            sets[i] = try await scaleReplicaSetAndRecordEvent(sets[i], to: sizes[i], d).replicaSet
            total += before - sizes[i]
        }
        return (sets, total)
    }

    /// Scales old replica sets down, oldest first, by what is available beyond
    /// `spec.replicas - maxUnavailable` (`scaleDownOldReplicaSetsForRollingUpdate`).
    func scaleDownOldReplicaSetsForRollingUpdate(_ d: Deployment, allRSs: [ReplicaSet],
                                                 oldRSs: [ReplicaSet]) async throws -> Int32 {
        let sets = oldRSs.sorted(by: DeploymentReplicaSets.byCreationTimestamp)
        let sizes = RolloutMath.rollingScaleDown(d, allRSs: allRSs, oldRSs: sets)
        var total: Int32 = 0
        for (rs, size) in zip(sets, sizes) where size != RolloutMath.specReplicas(rs) {
            let before = RolloutMath.specReplicas(rs)
            _ = try await scaleReplicaSetAndRecordEvent(rs, to: size, d)
            total += before - size
        }
        return total
    }
}
