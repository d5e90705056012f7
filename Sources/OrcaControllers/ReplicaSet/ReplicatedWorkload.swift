import OrcaClient

/// A kind the ReplicaSet controller keeps replicas of: ReplicaSet itself, and
/// ReplicationController seen through a ReplicaSet lens (as kube-controller-manager's
/// replication manager converts it).
public protocol ReplicatedWorkload: KubernetesObject {
    /// The component name in events and logs.
    static var controllerName: String { get }
    /// The spec as a ReplicaSet spec.
    var replicaSetSpec: ReplicaSetSpec { get }
    /// The status as a ReplicaSet status (written back in the kind's own shape).
    var replicaSetStatus: ReplicaSetStatus { get set }
}

extension ReplicaSet: ReplicatedWorkload {
    public static var controllerName: String { "replicaset-controller" }
    public var replicaSetSpec: ReplicaSetSpec { spec ?? ReplicaSetSpec() }
    public var replicaSetStatus: ReplicaSetStatus {
        get { status ?? ReplicaSetStatus() }
        set { status = newValue }
    }
}

extension ReplicationController: ReplicatedWorkload {
    public static var controllerName: String { "replication-controller" }

    public var replicaSetSpec: ReplicaSetSpec {
        // A nil selector defaults to the template's labels (the API server fills it in too).
        let selector = spec?.selector ?? spec?.template?.metadata?.labels
        return ReplicaSetSpec(minReadySeconds: spec?.minReadySeconds, replicas: spec?.replicas,
                              selector: selector.map { LabelSelector(matchLabels: $0) }, template: spec?.template)
    }

    public var replicaSetStatus: ReplicaSetStatus {
        get {
            let s = status
            return ReplicaSetStatus(availableReplicas: s?.availableReplicas,
                                    conditions: s?.conditions?.map {
                                        ReplicaSetCondition(lastTransitionTime: $0.lastTransitionTime, message: $0.message,
                                                            reason: $0.reason, status: $0.status, type: $0.type)
                                    },
                                    fullyLabeledReplicas: s?.fullyLabeledReplicas, observedGeneration: s?.observedGeneration,
                                    readyReplicas: s?.readyReplicas, replicas: s?.replicas)
        }
        set {
            status = ReplicationControllerStatus(
                availableReplicas: newValue.availableReplicas,
                conditions: newValue.conditions?.map {
                    ReplicationControllerCondition(lastTransitionTime: $0.lastTransitionTime, message: $0.message,
                                                   reason: $0.reason, status: $0.status, type: $0.type)
                },
                fullyLabeledReplicas: newValue.fullyLabeledReplicas, observedGeneration: newValue.observedGeneration,
                readyReplicas: newValue.readyReplicas, replicas: newValue.replicas ?? 0)
        }
    }
}
