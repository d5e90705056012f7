/// The taint keys and effects Kubernetes itself puts on nodes (core/v1 `well_known_taints.go`).
public enum WellKnownTaints {
    /// The node's Ready condition is False.
    public static let notReady = "node.kubernetes.io/not-ready"
    /// The node's Ready condition is Unknown: the node controller heard nothing from it.
    public static let unreachable = "node.kubernetes.io/unreachable"
    /// The node is cordoned (`spec.unschedulable`).
    public static let unschedulable = "node.kubernetes.io/unschedulable"
    /// The node's MemoryPressure condition is True.
    public static let memoryPressure = "node.kubernetes.io/memory-pressure"
    /// The node's DiskPressure condition is True.
    public static let diskPressure = "node.kubernetes.io/disk-pressure"
    /// The node's NetworkUnavailable condition is True.
    public static let networkUnavailable = "node.kubernetes.io/network-unavailable"
    /// The node's PIDPressure condition is True.
    public static let pidPressure = "node.kubernetes.io/pid-pressure"
    /// Set by an administrator on a node that is shut down for good: its terminating pods are
    /// force-deleted by the pod garbage collector.
    public static let outOfService = "node.kubernetes.io/out-of-service"

    /// The `NoSchedule` effect.
    public static let noSchedule = "NoSchedule"
    /// The `NoExecute` effect.
    public static let noExecute = "NoExecute"
}
