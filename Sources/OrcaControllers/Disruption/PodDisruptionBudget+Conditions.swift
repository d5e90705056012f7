import Foundation
import OrcaClient

/// The `DisruptionAllowed` condition of PodDisruptionBudgets, as component-helpers'
/// `poddisruptionbudget` package keeps it.
extension PodDisruptionBudget {
    /// The condition type: whether the budget allows a disruption now.
    public static let disruptionAllowedCondition = "DisruptionAllowed"
    /// Reason of `DisruptionAllowed=True`.
    public static let sufficientPodsReason = "SufficientPods"
    /// Reason of `DisruptionAllowed=False` when too few pods are healthy.
    public static let insufficientPodsReason = "InsufficientPods"
    /// Reason of `DisruptionAllowed=False` when the controller could not compute the status.
    public static let syncFailedReason = "SyncFailed"

    /// Sets `DisruptionAllowed` from `status.disruptionsAllowed` (`UpdateDisruptionAllowedCondition`):
    /// True/SufficientPods when above zero, False/InsufficientPods otherwise.
    mutating func updateDisruptionAllowedCondition(now: Date) {
        var s = status ?? PodDisruptionBudgetStatus()
        let allowed = (s.disruptionsAllowed ?? 0) > 0
        var conditions = s.conditions ?? []
        conditions.setStatusCondition(
            Condition(message: "", observedGeneration: s.observedGeneration,
                      reason: allowed ? Self.sufficientPodsReason : Self.insufficientPodsReason,
                      status: allowed ? "True" : "False", type: Self.disruptionAllowedCondition),
            now: now)
        s.conditions = conditions
        status = s
    }

    /// Marks the budget as allowing nothing because its status could not be computed
    /// (the disruption controller's `failSafe`): `disruptionsAllowed` 0 and
    /// `DisruptionAllowed=False/SyncFailed` with `message`.
    mutating func failSafe(message: String, now: Date) {
        var s = status ?? PodDisruptionBudgetStatus()
        s.disruptionsAllowed = 0
        var conditions = s.conditions ?? []
        conditions.setStatusCondition(
            Condition(message: message, observedGeneration: s.observedGeneration, reason: Self.syncFailedReason,
                      status: "False", type: Self.disruptionAllowedCondition),
            now: now)
        s.conditions = conditions
        status = s
    }

    /// Whether `DisruptionAllowed` agrees with `status.disruptionsAllowed` and the status was
    /// written for the current generation (`ConditionsAreUpToDate`).
    var conditionsAreUpToDate: Bool {
        guard let condition = status?.conditions?.first(where: { $0.type == Self.disruptionAllowedCondition }) else { return false }
        if status?.observedGeneration != metadata?.generation { return false }
        if (status?.disruptionsAllowed ?? 0) > 0 {
            return condition.status == "True" && condition.reason == Self.sufficientPodsReason
        }
        return condition.status == "False" && condition.reason == Self.insufficientPodsReason
    }
}

extension Array where Element == Condition {
    /// Adds the condition of `new.type` or updates the one there (apimachinery's
    /// `meta.SetStatusCondition`): the transition time moves only when the status changes;
    /// reason, message and observed generation always follow `new`.
    mutating func setStatusCondition(_ new: Condition, now: Date) {
        let stamp = new.lastTransitionTime ?? KubernetesTime.string(now)
        guard let i = firstIndex(where: { $0.type == new.type }) else {
            var added = new
            added.lastTransitionTime = stamp
            append(added)
            return
        }
        var existing = self[i]
        if existing.status != new.status {
            existing.status = new.status
            existing.lastTransitionTime = stamp
        }
        existing.reason = new.reason
        existing.message = new.message
        existing.observedGeneration = new.observedGeneration
        self[i] = existing
    }
}
