import Foundation
import OrcaClient

/// Resizing without rolling out (sync.go): paused deployments and scaling events, the
/// replica set writes every path shares, history cleanup and the paused conditions.
extension DeploymentController {
    /// Only recomputes status (a deployment being deleted).
    func syncStatusOnly(_ d: inout Deployment, _ rsList: inout [ReplicaSet]) async throws -> ReconcileResult {
        let (newRS, oldRSs) = try await allReplicaSetsAndSyncRevision(&d, &rsList, create: false)
        return try await syncDeploymentStatus(&d, allRSs: oldRSs + (newRS.map { [$0] } ?? []), newRS: newRS)
    }

    /// `sync`: resizes the replica sets to a changed `spec.replicas` (proportionally mid-rollout),
    /// trims history while paused, and updates status; no rollout progress.
    func sync(_ d: inout Deployment, _ rsList: inout [ReplicaSet]) async throws -> ReconcileResult {
        let (newRS, oldRSs) = try await allReplicaSetsAndSyncRevision(&d, &rsList, create: false)
        try await scale(d, newRS: newRS, oldRSs: oldRSs)
        if d.spec?.paused == true && d.metadata?.annotations?[DeploymentAnnotations.deprecatedRollbackTo] == nil {
            try await cleanupDeployment(d, oldRSs: oldRSs)
        }
        return try await syncDeploymentStatus(&d, allRSs: oldRSs + (newRS.map { [$0] } ?? []), newRS: newRS)
    }

    /// Some active replica set was sized for another `spec.replicas` (`isScalingEvent`).
    func isScalingEvent(_ d: inout Deployment, _ rsList: inout [ReplicaSet]) async throws -> Bool {
        let (newRS, oldRSs) = try await allReplicaSetsAndSyncRevision(&d, &rsList, create: false)
        let desired = RolloutMath.desiredReplicas(d)
        return DeploymentReplicaSets.filterActive(oldRSs + (newRS.map { [$0] } ?? [])).contains { rs in
            guard let annotated = DeploymentAnnotations.desiredReplicasValue(rs) else { return false }
            return annotated != desired
        }
    }

    /// sync.go `scale`: the single active (or newest) replica set takes all of `spec.replicas`;
    /// a saturated new one empties the old ones; otherwise, for a rolling update, every active
    /// replica set is resized in proportion.
    func scale(_ d: Deployment, newRS: ReplicaSet?, oldRSs: [ReplicaSet]) async throws {
        let desired = RolloutMath.desiredReplicas(d)
        if let only = DeploymentReplicaSets.findActiveOrLatest(newRS: newRS, oldRSs: oldRSs) {
            if RolloutMath.specReplicas(only) != desired {
                _ = try await scaleReplicaSetAndRecordEvent(only, to: desired, d)
            }
            return
        }
        if DeploymentReplicaSets.isSaturated(d, newRS) {
            for old in DeploymentReplicaSets.filterActive(oldRSs) {
                _ = try await scaleReplicaSetAndRecordEvent(old, to: 0, d)
            }
            return
        }
        guard RolloutMath.isRollingUpdate(d) else { return }
        let active = DeploymentReplicaSets.filterActive(oldRSs + (newRS.map { [$0] } ?? []))
        for step in RolloutMath.proportionalScale(d, activeRSs: active) {
            _ = try await scaleReplicaSet(step.replicaSet, to: step.replicas, d)
        }
    }

    /// Resizes `rs` when its size differs (`scaleReplicaSetAndRecordEvent`).
    func scaleReplicaSetAndRecordEvent(_ rs: ReplicaSet, to newScale: Int32,
                                       _ d: Deployment) async throws -> (scaled: Bool, replicaSet: ReplicaSet) {
        guard RolloutMath.specReplicas(rs) != newScale else { return (false, rs) }
        return try await scaleReplicaSet(rs, to: newScale, d)
    }

    /// Updates `rs` to `newScale` replicas with the deployment's current desired/max replicas
    /// annotations, if either differs; a `ScalingReplicaSet` event when the size changed. A
    /// stale replica set is a 409, thrown to retry.
    func scaleReplicaSet(_ rs: ReplicaSet, to newScale: Int32,
                         _ d: Deployment) async throws -> (scaled: Bool, replicaSet: ReplicaSet) {
        let desired = RolloutMath.desiredReplicas(d)
        let maxReplicas = desired &+ RolloutMath.maxSurge(d)
        let oldScale = RolloutMath.specReplicas(rs)
        let sizeNeedsUpdate = oldScale != newScale
        guard sizeNeedsUpdate || DeploymentAnnotations.replicasAnnotationsNeedUpdate(rs, desired: desired, max: maxReplicas) else {
            return (false, rs)
        }
        var copy = rs
        if copy.spec == nil { copy.spec = ReplicaSetSpec() }
        copy.spec?.replicas = newScale
        DeploymentAnnotations.setReplicasAnnotations(&copy, desired: desired, max: maxReplicas)
        let updated = try await client.update(copy)
        if sizeNeedsUpdate {
            await recordScaling(d, updated.metadata?.name ?? rs.metadata?.name ?? "", from: oldScale, to: newScale)
        }
        return (sizeNeedsUpdate, updated)
    }

    /// Deletes the oldest-revision old replica sets beyond `revisionHistoryLimit` (default 10)
    /// that are fully scaled down and observed so (`cleanupDeployment`).
    func cleanupDeployment(_ d: Deployment, oldRSs: [ReplicaSet]) async throws {
        let limit = d.spec?.revisionHistoryLimit ?? 10
        guard limit != Int32.max else { return }
        let cleanable = oldRSs.filter { $0.metadata?.deletionTimestamp == nil }
        let excess = cleanable.count - Int(limit)
        guard excess > 0 else { return }
        for rs in cleanable.sorted(by: DeploymentReplicaSets.byRevision).prefix(excess) {
            if (rs.status?.replicas ?? 0) != 0 || RolloutMath.specReplicas(rs) != 0
                || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0) {
                continue
            }
            try await client.delete(ReplicaSet.self, namespace: rs.metadata?.namespace, name: rs.metadata?.name ?? "")
        }
    }

    /// `checkPausedConditions`: Progressing=Unknown with DeploymentPaused when paused, with
    /// DeploymentResumed when that is lifted; a timed-out rollout keeps its condition.
    func checkPausedConditions(_ d: inout Deployment) async throws {
        guard DeploymentConditions.hasProgressDeadline(d) else { return }
        let condition = DeploymentConditions.get(d.status, DeploymentConditions.progressing)
        if condition?.reason == DeploymentConditions.progressDeadlineExceeded { return }
        let pausedConditionExists = condition?.reason == DeploymentConditions.deploymentPaused
        let paused = d.spec?.paused == true
        let next: DeploymentCondition
        if paused && !pausedConditionExists {
            next = DeploymentConditions.make(DeploymentConditions.progressing, "Unknown", DeploymentConditions.deploymentPaused,
                                             "Deployment is paused", now: clock.now)
        } else if !paused && pausedConditionExists {
            next = DeploymentConditions.make(DeploymentConditions.progressing, "Unknown", DeploymentConditions.deploymentResumed,
                                             "Deployment is resumed", now: clock.now)
        } else {
            return
        }
        var status = d.status ?? DeploymentStatus()
        DeploymentConditions.set(&status, next)
        d.status = status
        try await updateStatus(&d)
    }

    /// Writes the counts and Available condition if they changed (`syncDeploymentStatus`).
    func syncDeploymentStatus(_ d: inout Deployment, allRSs: [ReplicaSet], newRS: ReplicaSet?) async throws -> ReconcileResult {
        let status = calculateStatus(d, allRSs: allRSs, newRS: newRS)
        if d.status != status {
            d.status = status
            try await updateStatus(&d)
        }
        return Self.result(minReadyRequeue(d, allRSs))
    }
}
