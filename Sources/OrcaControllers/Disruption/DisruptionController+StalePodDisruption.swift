import Foundation
import OrcaClient

/// Stale `DisruptionTarget` conditions: the eviction subresource marks a pod
/// `DisruptionTarget=True` just before deleting it; when the deletion never came (the
/// delete failed or lost a race), the disruption controller sets the condition back to
/// False after `stalePodDisruptionTimeout`, as kube's `syncStalePodDisruption` does.
extension DisruptionController {
    /// How long a pod not being deleted may keep `DisruptionTarget=True`.
    public static let stalePodDisruptionTimeout: TimeInterval = 2 * 60
    /// The pod condition the eviction subresource sets.
    static let disruptionTargetCondition = "DisruptionTarget"
    /// Queue keys of pods (`pod:<namespace>/<name>`), apart from budget keys (`<namespace>/<name>`):
    /// a namespace name never holds a colon.
    static let stalePodKeyPrefix = "pod:"

    /// How long until the `DisruptionTarget` condition of `pod` is stale (zero: it is), or
    /// nil when there is nothing to reset: the pod is being deleted or is terminal, has no
    /// such condition set True, or the kubelet set it (those are never stale).
    func staleDisruptionWait(_ pod: Pod) -> Duration? {
        if pod.metadata?.deletionTimestamp != nil || pod.isTerminal { return nil }
        guard let condition = pod.status?.conditions?.first(where: { $0.type == Self.disruptionTargetCondition }),
              condition.status == "True", condition.reason != "TerminationByKubelet" else { return nil }
        let since = KubernetesTime.date(condition.lastTransitionTime) ?? .distantPast
        let wait = since.addingTimeInterval(Self.stalePodDisruptionTimeout).timeIntervalSince(clock.now)
        return .seconds(max(wait, 0))
    }

    /// Resets a stale `DisruptionTarget` condition of the pod `key` to False, or looks again
    /// when it becomes stale.
    func syncStalePodDisruption(_ key: String) async throws -> ReconcileResult {
        guard let pod = await pods.get(key), let wait = staleDisruptionWait(pod) else { return .done }
        if wait > .zero { return .requeue(after: wait) }
        var next = pod
        var status = next.status ?? PodStatus()
        var conditions = status.conditions ?? []
        // `UpdatePodCondition` with only type and status: reason and message go, the
        // transition time is now.
        let reset = PodCondition(lastTransitionTime: KubernetesTime.string(clock.now), status: "False",
                                 type: Self.disruptionTargetCondition)
        if let i = conditions.firstIndex(where: { $0.type == Self.disruptionTargetCondition }) {
            conditions[i] = reset
        } else {
            conditions.append(reset)
        }
        status.conditions = conditions
        next.status = status
        do {
            try await client.update(next, subresource: "status")
        } catch let e as APIError where e.isNotFound {
            return .done
        }
        logger.debug("reset stale DisruptionTarget condition of pod \(key)")
        return .done
    }
}
