import OrcaClient

/// A pod as the scheduler reads it, parsed once (the framework's `PodInfo`): its requests,
/// host ports and (anti-)affinity terms. Immutable and shared: a snapshot of a big cluster
/// holds each pod once, by reference.
public final class PodInfo: Sendable {
    /// The pod.
    public let pod: Pod
    /// `namespace/name`.
    public let key: String
    /// `metadata.namespace`.
    public let namespace: String
    /// `metadata.labels`.
    public let labels: [String: String]
    /// What the pod asks of a node, overhead included.
    public let requests: Resource
    /// The requests with 100m cpu and 200Mi memory for containers that set none (scores only).
    public let nonZeroRequests: Resource
    /// Host ports of its containers and sidecar init containers (`GetHostPorts`).
    public let hostPorts: [ContainerPort]
    /// `podAffinity.requiredDuringSchedulingIgnoredDuringExecution`.
    public let requiredAffinityTerms: [AffinityTerm]
    /// `podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution`.
    public let requiredAntiAffinityTerms: [AffinityTerm]
    /// `podAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
    public let preferredAffinityTerms: [WeightedAffinityTerm]
    /// `podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
    public let preferredAntiAffinityTerms: [WeightedAffinityTerm]
    /// `spec.priority` (0 when unset).
    public let priority: Int32

    /// Parses `pod`.
    public init(_ pod: Pod) {
        self.pod = pod
        namespace = pod.metadata?.namespace ?? ""
        key = namespace.isEmpty ? pod.metadata?.name ?? "" : "\(namespace)/\(pod.metadata?.name ?? "")"
        labels = pod.metadata?.labels ?? [:]
        requests = Resource.requests(of: pod)
        nonZeroRequests = Resource.requests(of: pod, defaultingCPUAndMemory: true)
        var ports: [ContainerPort] = []
        for container in pod.spec?.initContainers ?? [] where container.restartPolicy == "Always" {
            ports += (container.ports ?? []).filter { ($0.hostPort ?? 0) > 0 }
        }
        for container in pod.spec?.containers ?? [] {
            ports += (container.ports ?? []).filter { ($0.hostPort ?? 0) > 0 }
        }
        hostPorts = ports
        let affinity = pod.spec?.affinity
        let ns = namespace
        requiredAffinityTerms = (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [])
            .map { AffinityTerm($0, podNamespace: ns) }
        requiredAntiAffinityTerms = (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [])
            .map { AffinityTerm($0, podNamespace: ns) }
        func weighted(_ terms: [WeightedPodAffinityTerm]?) -> [WeightedAffinityTerm] {
            (terms ?? []).map {
                WeightedAffinityTerm(term: AffinityTerm($0.podAffinityTerm ?? PodAffinityTerm(), podNamespace: ns),
                                     weight: Int64($0.weight ?? 0))
            }
        }
        preferredAffinityTerms = weighted(affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution)
        preferredAntiAffinityTerms = weighted(affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution)
        priority = pod.spec?.priority ?? 0
    }

    /// The pod's UID.
    public var uid: String { pod.metadata?.uid ?? "" }

    /// The pod's resourceVersion.
    public var resourceVersion: String { pod.metadata?.resourceVersion ?? "" }

    /// Being deleted (`deletionTimestamp` set).
    public var isTerminating: Bool { pod.metadata?.deletionTimestamp != nil }

    /// Has pod affinity or anti-affinity of any kind (`podWithAffinity`).
    public var hasAffinity: Bool {
        pod.spec?.affinity?.podAffinity != nil || pod.spec?.affinity?.podAntiAffinity != nil
    }

    /// Has required anti-affinity terms (`podWithRequiredAntiAffinity`).
    public var hasRequiredAntiAffinity: Bool { !requiredAntiAffinityTerms.isEmpty }
}
