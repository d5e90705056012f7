import Foundation
import OrcaClient

/// Status and progress (sync.go `calculateStatus`, progress.go `syncRolloutStatus`).
extension DeploymentController {
    /// The counts from the replica sets, the Available condition, and the other conditions
    /// carried over (`calculateStatus`).
    func calculateStatus(_ d: Deployment, allRSs: [ReplicaSet], newRS: ReplicaSet?) -> DeploymentStatus {
        let available = RolloutMath.totalAvailableReplicas(allRSs)
        let total = RolloutMath.totalSpecReplicas(allRSs)
        var status = DeploymentStatus(
            availableReplicas: available,
            collisionCount: d.status?.collisionCount,
            conditions: d.status?.conditions,
            observedGeneration: d.metadata?.generation,
            readyReplicas: RolloutMath.totalReadyReplicas(allRSs),
            replicas: RolloutMath.totalStatusReplicas(allRSs),
            unavailableReplicas: max(total &- available, 0),
            updatedReplicas: RolloutMath.totalStatusReplicas(newRS.map { [$0] } ?? []))
        let minAvailable = RolloutMath.desiredReplicas(d) &- RolloutMath.maxUnavailable(d)
        if available >= minAvailable {
            DeploymentConditions.set(&status, DeploymentConditions.make(
                DeploymentConditions.available, "True", DeploymentConditions.minimumReplicasAvailable,
                "Deployment has minimum availability.", now: clock.now))
        } else {
            DeploymentConditions.set(&status, DeploymentConditions.make(
                DeploymentConditions.available, "False", DeploymentConditions.minimumReplicasUnavailable,
                "Deployment does not have minimum availability.", now: clock.now))
        }
        return status
    }

    /// `syncRolloutStatus`: the status with the Progressing condition moved on — complete
    /// (NewReplicaSetAvailable), progressing (ReplicaSetUpdated, its update time refreshed),
    /// or past the deadline (ProgressDeadlineExceeded) — and any ReplicaFailure of the replica
    /// sets; written if changed. Requeues for the deadline check and for minReadySeconds.
    func syncRolloutStatus(_ d: inout Deployment, allRSs: [ReplicaSet], newRS: ReplicaSet?) async throws -> ReconcileResult {
        var status = calculateStatus(d, allRSs: allRSs, newRS: newRS)
        let now = clock.now
        if !DeploymentConditions.hasProgressDeadline(d) {
            DeploymentConditions.remove(&status, DeploymentConditions.progressing)
        }
        let current = DeploymentConditions.get(d.status, DeploymentConditions.progressing)
        let isCompleteDeployment = status.replicas == status.updatedReplicas
            && current?.reason == DeploymentConditions.newReplicaSetAvailable
        if DeploymentConditions.hasProgressDeadline(d) && !isCompleteDeployment {
            let subject = newRS.map { "ReplicaSet \"\($0.metadata?.name ?? "")\"" } ?? "Deployment \"\(d.metadata?.name ?? "")\""
            if DeploymentConditions.deploymentComplete(d, status) {
                DeploymentConditions.set(&status, DeploymentConditions.make(
                    DeploymentConditions.progressing, "True", DeploymentConditions.newReplicaSetAvailable,
                    "\(subject) has successfully progressed.", now: now))
            } else if DeploymentConditions.deploymentProgressing(d, status) {
                // Progress refreshes lastUpdateTime even with the same reason, so the deadline
                // counts from the last progress; the transition time stays while True.
                var condition = DeploymentConditions.make(DeploymentConditions.progressing, "True",
                                                          DeploymentConditions.replicaSetUpdated, "\(subject) is progressing.", now: now)
                if let current {
                    if current.status == "True" { condition.lastTransitionTime = current.lastTransitionTime }
                    DeploymentConditions.remove(&status, DeploymentConditions.progressing)
                }
                DeploymentConditions.set(&status, condition)
            } else if DeploymentConditions.deploymentTimedOut(d, status, now: now) {
                DeploymentConditions.set(&status, DeploymentConditions.make(
                    DeploymentConditions.progressing, "False", DeploymentConditions.progressDeadlineExceeded,
                    "\(subject) has timed out progressing.", now: now))
            }
        }
        if let failure = Self.replicaFailures(allRSs: allRSs, newRS: newRS).first {
            DeploymentConditions.set(&status, failure)
        } else {
            DeploymentConditions.remove(&status, DeploymentConditions.replicaFailure)
        }
        if d.status != status {
            d.status = status
            try await updateStatus(&d)
        }
        return Self.result(DeploymentConditions.stuckRequeue(d, status, now: now), minReadyRequeue(d, allRSs))
    }

    /// ReplicaFailure conditions of the new replica set, else of any (`getReplicaFailures`).
    static func replicaFailures(allRSs: [ReplicaSet], newRS: ReplicaSet?) -> [DeploymentCondition] {
        func failures(_ rs: ReplicaSet) -> [DeploymentCondition] {
            (rs.status?.conditions ?? []).filter { $0.type == DeploymentConditions.replicaFailure }.map(DeploymentConditions.fromReplicaSet)
        }
        if let newRS {
            let own = failures(newRS)
            if !own.isEmpty { return own }
        }
        return allRSs.flatMap(failures)
    }

    /// With minReadySeconds, a replica set whose ready pods are not all available yet is
    /// looked at again once they could be.
    func minReadyRequeue(_ d: Deployment, _ allRSs: [ReplicaSet]) -> Duration? {
        let minReady = d.spec?.minReadySeconds ?? 0
        guard minReady > 0 else { return nil }
        let waiting = allRSs.contains { ($0.status?.readyReplicas ?? 0) > ($0.status?.availableReplicas ?? 0) }
        return waiting ? .seconds(Int(minReady)) : nil
    }
}
