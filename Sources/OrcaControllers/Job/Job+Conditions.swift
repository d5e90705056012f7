import Foundation
import OrcaClient

extension Job {
    /// The `Complete` or `Failed` condition with status `True` (`jobutil.FinishedCondition`).
    var finishedCondition: JobCondition? {
        status?.conditions?.first { ($0.type == "Complete" || $0.type == "Failed") && $0.status == "True" }
    }

    /// Complete or Failed: the job controller is done with it.
    var isFinished: Bool { finishedCondition != nil }

    /// The condition of this type, if any.
    func condition(_ type: String) -> JobCondition? {
        status?.conditions?.first { $0.type == type }
    }

    /// The condition of this type when its status is `True`.
    func trueCondition(_ type: String) -> JobCondition? {
        status?.conditions?.first { $0.type == type && $0.status == "True" }
    }

    /// `spec.suspend` is true.
    var isSuspended: Bool { spec?.suspend == true }

    /// `spec.completionMode` is `Indexed`.
    var isIndexed: Bool { spec?.completionMode == "Indexed" }

    /// Only Failed pods are replaced (`podReplacementPolicy: Failed`, implied by a pod
    /// failure policy): terminating pods are neither failures nor replaced yet.
    var onlyReplacesFailedPods: Bool {
        spec?.podReplacementPolicy == "Failed" || spec?.podFailurePolicy != nil
    }

    /// A failed pod by the job's rules (`isPodFailed`): Failed, or — unless only failed pods
    /// are replaced — deleted before it succeeded (orphans never reach a terminal phase).
    func counts(failed pod: Pod) -> Bool {
        if pod.status?.phase == "Failed" { return true }
        if onlyReplacesFailedPods { return false }
        return pod.metadata?.deletionTimestamp != nil && pod.status?.phase != "Succeeded"
    }
}

extension JobCondition {
    /// A condition that changed now (`newCondition`).
    static func now(_ type: String, status: String = "True", reason: String, message: String, at now: Date) -> JobCondition {
        let time = KubernetesTime.string(now)
        return JobCondition(lastProbeTime: time, lastTransitionTime: time, message: message, reason: reason, status: status, type: type)
    }
}

extension JobStatus {
    /// Sets the condition of `type` (`ensureJobConditionStatus`): replaced when its status,
    /// reason or message differ, appended when missing unless the status is `False`.
    /// Returns whether anything changed.
    mutating func ensureCondition(_ type: String, status: String, reason: String, message: String, now: Date) -> Bool {
        var list = conditions ?? []
        if let i = list.firstIndex(where: { $0.type == type }) {
            let c = list[i]
            guard c.status != status || (c.reason ?? "") != reason || (c.message ?? "") != message else { return false }
            list[i] = .now(type, status: status, reason: reason, message: message, at: now)
            conditions = list
            return true
        }
        guard status != "False" else { return false }
        list.append(.now(type, status: status, reason: reason, message: message, at: now))
        conditions = list
        return true
    }
}
