import Foundation
import OrcaClient

extension PodStatus {
    /// Puts `condition` in place of the one of its type, or adds it (`podutil.UpdatePodCondition`):
    /// its transition time is `now` unless the status stays the same; returns whether anything changed.
    @discardableResult
    public mutating func updateCondition(_ condition: PodCondition, now: Date) -> Bool {
        var condition = condition
        condition.lastTransitionTime = KubernetesTime.string(now)
        var list = conditions ?? []
        guard let i = list.firstIndex(where: { $0.type == condition.type }) else {
            list.append(condition)
            conditions = list
            return true
        }
        let old = list[i]
        if condition.status == old.status { condition.lastTransitionTime = old.lastTransitionTime }
        list[i] = condition
        conditions = list
        return condition != old
    }
}
