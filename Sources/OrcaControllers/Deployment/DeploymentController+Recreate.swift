import Foundation
import OrcaClient

/// The Recreate strategy (recreate.go): every old pod goes before any new one starts.
extension DeploymentController {
    /// `rolloutRecreate`: scales old replica sets to 0; while any old pod still runs, only
    /// status is updated; then the new replica set is created (if missing) at full size; once
    /// complete, history is trimmed.
    func rolloutRecreate(_ d: inout Deployment, _ rsList: inout [ReplicaSet],
                         podMap: [String: [Pod]]) async throws -> ReconcileResult {
        // The new replica set is not created yet: scaling up before scaling down is what
        // Recreate promises not to do.
        var (newRS, oldRSs) = try await allReplicaSetsAndSyncRevision(&d, &rsList, create: false)
        var allRSs = oldRSs + (newRS.map { [$0] } ?? [])

        if try await scaleDownOldReplicaSetsForRecreate(d, oldRSs: DeploymentReplicaSets.filterActive(oldRSs)) {
            return try await syncRolloutStatus(&d, allRSs: allRSs, newRS: newRS)
        }
        if Self.oldPodsRunning(newRS: newRS, oldRSs: oldRSs, podMap: podMap) {
            return try await syncRolloutStatus(&d, allRSs: allRSs, newRS: newRS)
        }
        if newRS == nil {
            let created = try await allReplicaSetsAndSyncRevision(&d, &rsList, create: true)
            newRS = created.newRS
            oldRSs = created.oldRSs
            allRSs = oldRSs + (newRS.map { [$0] } ?? [])
        }
        if let newRS {
            _ = try await scaleReplicaSetAndRecordEvent(newRS, to: RolloutMath.desiredReplicas(d), d)
        }
        if DeploymentConditions.deploymentComplete(d, d.status) {
            try await cleanupDeployment(d, oldRSs: oldRSs)
        }
        return try await syncRolloutStatus(&d, allRSs: allRSs, newRS: newRS)
    }

    /// Scales every active old replica set to 0; true if any was
    /// (`scaleDownOldReplicaSetsForRecreate`).
    func scaleDownOldReplicaSetsForRecreate(_ d: Deployment, oldRSs: [ReplicaSet]) async throws -> Bool {
        var scaled = false
        for rs in oldRSs where RolloutMath.specReplicas(rs) != 0 {
            if try await scaleReplicaSetAndRecordEvent(rs, to: 0, d).scaled { scaled = true }
        }
        return scaled
    }

    /// Old replica sets still report pods, or a pod of theirs is not yet Succeeded or Failed
    /// (`oldPodsRunning`; an Unknown phase counts as running).
    static func oldPodsRunning(newRS: ReplicaSet?, oldRSs: [ReplicaSet], podMap: [String: [Pod]]) -> Bool {
        if RolloutMath.totalStatusReplicas(oldRSs) > 0 { return true }
        for (uid, pods) in podMap {
            if let newUID = newRS?.metadata?.uid, newUID == uid { continue }
            for pod in pods {
                switch pod.status?.phase ?? "" {
                case "Failed", "Succeeded": continue
                default: return true
                }
            }
        }
        return false
    }
}
