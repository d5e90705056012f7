import Foundation
import OrcaClient

/// A ReplicaSet's `status` from the pods it owns (`calculateStatus`): replicas,
/// fully labeled, ready and available (ready for `minReadySeconds`) counts, the observed
/// generation, and the `ReplicaFailure` condition while creating or deleting pods fails.
struct ReplicaSetStatusCalculator {
    let now: Date

    func status<Owner: ReplicatedWorkload>(of rs: Owner, pods: [Pod], manageError: (any Error)?) -> ReplicaSetStatus {
        let spec = rs.replicaSetSpec
        let templateLabels = spec.template?.metadata?.labels ?? [:]
        let minReady = spec.minReadySeconds ?? 0
        var status = rs.replicaSetStatus
        status.replicas = Int32(pods.count)
        status.fullyLabeledReplicas = Int32(pods.filter { p in
            let labels = p.metadata?.labels ?? [:]
            return templateLabels.allSatisfy { labels[$0.key] == $0.value }
        }.count)
        status.readyReplicas = Int32(pods.filter(\.isReady).count)
        status.availableReplicas = Int32(pods.filter { $0.isAvailable(minReadySeconds: minReady, now: now) }.count)
        status.observedGeneration = rs.metadata?.generation
        var conditions = status.conditions ?? []
        let failure = conditions.first { $0.type == "ReplicaFailure" }
        if let manageError {
            if failure == nil {
                let want = spec.replicas ?? 1
                let reason = pods.count < Int(want) ? "FailedCreate" : "FailedDelete"
                let message = (manageError as? APIError)?.message ?? String(describing: manageError)
                conditions.append(ReplicaSetCondition(lastTransitionTime: KubernetesTime.string(now), message: message,
                                                      reason: reason, status: "True", type: "ReplicaFailure"))
            }
        } else if failure != nil {
            conditions.removeAll { $0.type == "ReplicaFailure" }
        }
        status.conditions = conditions.isEmpty ? nil : conditions
        return status
    }
}
