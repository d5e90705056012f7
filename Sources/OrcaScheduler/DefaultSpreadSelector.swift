import OrcaClient

/// The selector the system default spread constraints count pods by
/// (`helper.DefaultSelector`): the selectors of the services in the pod's namespace that
/// select it, merged with that of the ReplicationController, ReplicaSet or StatefulSet that
/// controls it. Nil when that is empty, so pods of no workload are not spread by default.
enum DefaultSpreadSelector {
    /// The controlling owner's kinds that count, by `apiVersion` and `kind`.
    enum OwnerKind: Sendable, Equatable {
        case replicationController, replicaSet, statefulSet
    }

    /// Which of the counted kinds `pod`'s controller is, with its name.
    static func controller(of pod: Pod) -> (kind: OwnerKind, name: String)? {
        guard let owner = pod.metadata?.ownerReferences?.first(where: { $0.controller == true }), let name = owner.name else { return nil }
        switch (owner.apiVersion ?? "", owner.kind ?? "") {
        case ("v1", "ReplicationController"): return (.replicationController, name)
        case ("apps/v1", "ReplicaSet"): return (.replicaSet, name)
        case ("apps/v1", "StatefulSet"): return (.statefulSet, name)
        default: return nil
        }
    }

    /// The selector for `pod` from the `services` of its namespace and its controller (the
    /// one of `replicationController`, `replicaSet`, `statefulSet` the caller looked up).
    static func selector(for pod: Pod, services: [Service], replicationController: ReplicationController? = nil,
                         replicaSet: ReplicaSet? = nil, statefulSet: StatefulSet? = nil) -> LabelMatcher? {
        let labels = pod.metadata?.labels ?? [:]
        var set: [String: String] = [:]
        for service in services where service.metadata?.namespace == pod.metadata?.namespace {
            guard let selector = service.spec?.selector else { continue }
            if selector.allSatisfy({ labels[$0.key] == $0.value }) { set.merge(selector) { _, new in new } }
        }
        if let rc = replicationController { set.merge(rc.spec?.selector ?? [:]) { _, new in new } }
        var requirements = set.sorted { $0.key < $1.key }.map { LabelMatcher.Requirement(key: $0.key, op: .equals, values: [$0.value]) }
        let ownerSelector = replicaSet.map { $0.spec?.selector } ?? statefulSet.map { $0.spec?.selector }
        if let ownerSelector = ownerSelector ?? nil, let matcher = try? LabelMatcher(ownerSelector) {
            requirements += matcher.requirements
        }
        return requirements.isEmpty ? nil : LabelMatcher(requirements: requirements)
    }
}
