/// The labels, annotations and controller names the endpoint controllers read and write
/// (core/v1 and discovery/v1 well-known keys, and the controllers' `ControllerName`s).
public enum WellKnownEndpointLabels {
    /// On an EndpointSlice: the Service it belongs to (`discovery.LabelServiceName`).
    public static let serviceName = "kubernetes.io/service-name"
    /// On an EndpointSlice: the controller or entity that manages it (`discovery.LabelManagedBy`).
    public static let managedBy = "endpointslice.kubernetes.io/managed-by"
    /// On an Endpoints: `"true"` keeps the mirroring controller away (`discovery.LabelSkipMirror`).
    public static let skipMirror = "endpointslice.kubernetes.io/skip-mirror"
    /// On Endpoints and EndpointSlices of a Service without a cluster IP (`v1.IsHeadlessService`).
    public static let headlessService = "service.kubernetes.io/headless"
    /// On an Endpoints: the controller that manages it (`endpoint.LabelManagedBy`, Kubernetes 1.33).
    public static let endpointsManagedBy = "endpoints.kubernetes.io/managed-by"
    /// On a Node: its zone, copied to the endpoints of its pods (`v1.LabelTopologyZone`).
    public static let topologyZone = "topology.kubernetes.io/zone"

    /// Annotation on an Endpoints whose addresses were cut to the capacity (`v1.EndpointsOverCapacity`).
    public static let overCapacity = "endpoints.kubernetes.io/over-capacity"
    /// The value of `overCapacity`.
    public static let truncated = "truncated"
    /// Annotation with the time of the change that caused the last write (`v1.EndpointsLastChangeTriggerTime`).
    public static let lastChangeTriggerTime = "endpoints.kubernetes.io/last-change-trigger-time"
    /// kubectl's last-applied configuration, never mirrored to EndpointSlices.
    public static let lastAppliedConfiguration = "kubectl.kubernetes.io/last-applied-configuration"
    /// The annotation of an old-style leader-election lock held in an Endpoints object.
    public static let leaderElection = "control-plane.alpha.kubernetes.io/leader"

    /// The `managedBy` value of slices the EndpointSlice controller writes.
    public static let endpointSliceController = "endpointslice-controller.k8s.io"
    /// The `managedBy` value of slices the EndpointSlice mirroring controller writes.
    public static let endpointSliceMirroringController = "endpointslicemirroring-controller.k8s.io"
    /// The `endpointsManagedBy` value of Endpoints the Endpoints controller writes.
    public static let endpointsController = "endpoint-controller"
}
