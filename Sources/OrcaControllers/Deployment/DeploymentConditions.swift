import Foundation
import OrcaClient

/// The conditions of a deployment's status and the rules that move them (`deploymentutil`
/// condition helpers and `DeploymentComplete` / `DeploymentProgressing` / `DeploymentTimedOut`).
public enum DeploymentConditions {
    // MARK: types

    /// Enough pods are available (`replicas - maxUnavailable`).
    public static let available = "Available"
    /// The rollout is moving, done, paused or stuck.
    public static let progressing = "Progressing"
    /// A replica set could not create or delete pods (copied from the replica set).
    public static let replicaFailure = "ReplicaFailure"

    // MARK: reasons

    /// Progressing: a replica set was scaled as part of the rollout.
    public static let replicaSetUpdated = "ReplicaSetUpdated"
    /// Progressing=False: the new replica set could not be created.
    public static let failedReplicaSetCreate = "ReplicaSetCreateError"
    /// Progressing: the new replica set was created.
    public static let newReplicaSetCreated = "NewReplicaSetCreated"
    /// Progressing: an existing replica set was found to match the template.
    public static let foundNewReplicaSet = "FoundNewReplicaSet"
    /// Progressing: the rollout is complete.
    public static let newReplicaSetAvailable = "NewReplicaSetAvailable"
    /// Progressing=False: no progress within `progressDeadlineSeconds`.
    public static let progressDeadlineExceeded = "ProgressDeadlineExceeded"
    /// Progressing=Unknown: `spec.paused` is set.
    public static let deploymentPaused = "DeploymentPaused"
    /// Progressing=Unknown: `spec.paused` was cleared.
    public static let deploymentResumed = "DeploymentResumed"
    /// Available=True.
    public static let minimumReplicasAvailable = "MinimumReplicasAvailable"
    /// Available=False.
    public static let minimumReplicasUnavailable = "MinimumReplicasUnavailable"

    // MARK: helpers

    /// A condition stamped `now` for both its update and transition times.
    static func make(_ type: String, _ status: String, _ reason: String, _ message: String, now: Date) -> DeploymentCondition {
        let time = KubernetesTime.string(now)
        return DeploymentCondition(lastTransitionTime: time, lastUpdateTime: time, message: message, reason: reason,
                                   status: status, type: type)
    }

    /// The condition of `type`, if any.
    public static func get(_ status: DeploymentStatus?, _ type: String) -> DeploymentCondition? {
        status?.conditions?.first { $0.type == type }
    }

    /// `SetDeploymentCondition`: no-op if a condition with the same status and reason exists;
    /// keeps the transition time when only the reason changes; moves the condition last.
    static func set(_ status: inout DeploymentStatus, _ condition: DeploymentCondition) {
        var condition = condition
        let current = get(status, condition.type ?? "")
        if let current, current.status == condition.status, current.reason == condition.reason { return }
        if let current, current.status == condition.status { condition.lastTransitionTime = current.lastTransitionTime }
        var conditions = (status.conditions ?? []).filter { $0.type != condition.type }
        conditions.append(condition)
        status.conditions = conditions
    }

    /// Drops the condition of `type`.
    static func remove(_ status: inout DeploymentStatus, _ type: String) {
        let remaining = (status.conditions ?? []).filter { $0.type != type }
        status.conditions = remaining.isEmpty ? nil : remaining
    }

    /// A replica set condition as a deployment condition (`ReplicaSetToDeploymentCondition`).
    static func fromReplicaSet(_ c: ReplicaSetCondition) -> DeploymentCondition {
        DeploymentCondition(lastTransitionTime: c.lastTransitionTime, lastUpdateTime: c.lastTransitionTime, message: c.message,
                            reason: c.reason, status: c.status, type: c.type)
    }

    // MARK: progress

    /// `spec.progressDeadlineSeconds` (600 when unset, as defaulting sets it).
    static func progressDeadlineSeconds(_ d: Deployment) -> Int32 { d.spec?.progressDeadlineSeconds ?? 600 }

    /// Progress is tracked unless the deadline is MaxInt32 (`HasProgressDeadline`).
    static func hasProgressDeadline(_ d: Deployment) -> Bool { progressDeadlineSeconds(d) != Int32.max }

    /// Every replica is updated and available and the spec was observed (`DeploymentComplete`).
    public static func deploymentComplete(_ d: Deployment, _ status: DeploymentStatus?) -> Bool {
        let desired = RolloutMath.desiredReplicas(d)
        return (status?.updatedReplicas ?? 0) == desired && (status?.replicas ?? 0) == desired
            && (status?.availableReplicas ?? 0) == desired
            && (status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
    }

    /// `newStatus` shows progress over the deployment's current status: more updated, ready
    /// or available replicas, or fewer old ones (`DeploymentProgressing`).
    static func deploymentProgressing(_ d: Deployment, _ newStatus: DeploymentStatus) -> Bool {
        let old = d.status
        let oldOld = (old?.replicas ?? 0) &- (old?.updatedReplicas ?? 0)
        let newOld = (newStatus.replicas ?? 0) &- (newStatus.updatedReplicas ?? 0)
        return (newStatus.updatedReplicas ?? 0) > (old?.updatedReplicas ?? 0) || newOld < oldOld
            || (newStatus.readyReplicas ?? 0) > (old?.readyReplicas ?? 0)
            || (newStatus.availableReplicas ?? 0) > (old?.availableReplicas ?? 0)
    }

    /// No progress was recorded for `progressDeadlineSeconds` (`DeploymentTimedOut`).
    static func deploymentTimedOut(_ d: Deployment, _ newStatus: DeploymentStatus, now: Date) -> Bool {
        guard hasProgressDeadline(d), let condition = get(newStatus, progressing) else { return false }
        if condition.reason == newReplicaSetAvailable { return false }
        if condition.reason == progressDeadlineExceeded { return true }
        guard let from = KubernetesTime.date(condition.lastUpdateTime) else { return false }
        return from.addingTimeInterval(TimeInterval(progressDeadlineSeconds(d))) < now
    }

    /// When to look again at a rollout that shows no progress (`requeueStuckDeployment`):
    /// one second after the deadline would pass, at least one second from now.
    static func stuckRequeue(_ d: Deployment, _ status: DeploymentStatus, now: Date) -> Duration? {
        guard hasProgressDeadline(d), let condition = get(status, progressing) else { return nil }
        if deploymentComplete(d, status) || condition.reason == progressDeadlineExceeded { return nil }
        guard let lastUpdate = KubernetesTime.date(condition.lastUpdateTime) else { return nil }
        let after = lastUpdate.addingTimeInterval(TimeInterval(progressDeadlineSeconds(d))).timeIntervalSince(now)
        if after < 1 { return .seconds(1) }
        return .seconds(after + 1)
    }
}
