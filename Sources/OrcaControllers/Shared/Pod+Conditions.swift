import Foundation
import OrcaClient

extension Pod {
    /// Succeeded or Failed: the pod will never run again.
    public var isTerminal: Bool {
        let phase = status?.phase
        return phase == "Succeeded" || phase == "Failed"
    }

    /// Counted by controllers as one of their replicas: not terminal and not being deleted
    /// (`controller.IsPodActive`).
    public var isActive: Bool { !isTerminal && metadata?.deletionTimestamp == nil }

    /// The `Ready` condition is `True`.
    public var isReady: Bool { readyCondition?.status == "True" }

    /// The `Ready` condition.
    public var readyCondition: PodCondition? { status?.conditions?.first { $0.type == "Ready" } }

    /// Ready for at least `minReadySeconds` at `now` (`podutil.IsPodAvailable`).
    public func isAvailable(minReadySeconds: Int32, now: Date) -> Bool {
        guard isReady else { return false }
        if minReadySeconds <= 0 { return true }
        guard let since = KubernetesTime.date(readyCondition?.lastTransitionTime) else { return false }
        return since.addingTimeInterval(TimeInterval(minReadySeconds)) <= now
    }

    /// The sum of restarts of the pod's containers.
    public var restartCount: Int32 {
        (status?.containerStatuses ?? []).reduce(Int32(0)) { $0.addingReportingOverflow($1.restartCount ?? 0).partialValue }
    }
}

extension ObjectMeta {
    /// The owner reference with `controller: true`, if any.
    public var controllerRef: OwnerReference? { ownerReferences?.first { $0.controller == true } }
}

extension OwnerReference {
    /// A controller reference to `owner` (`controller` and `blockOwnerDeletion` true), as
    /// workload controllers put on what they create.
    public static func controller<Owner: KubernetesObject>(_ owner: Owner) -> OwnerReference {
        OwnerReference(apiVersion: Owner.apiVersion, blockOwnerDeletion: true, controller: true, kind: Owner.kind,
                       name: owner.metadata?.name, uid: owner.metadata?.uid)
    }
}

extension PodTemplateSpec {
    /// A new pod from this template (`controller.GetPodFromTemplate`): the template's labels,
    /// annotations, finalizers and spec, named `generateName` + random suffix unless `name`.
    public func pod(namespace: String, generateName: String? = nil, name: String? = nil, owner: OwnerReference?) -> Pod {
        var meta = ObjectMeta(annotations: metadata?.annotations, finalizers: metadata?.finalizers,
                              labels: metadata?.labels, namespace: namespace)
        if let name { meta.name = name } else { meta.generateName = generateName }
        if let owner { meta.ownerReferences = [owner] }
        return Pod(metadata: meta, spec: spec)
    }
}
