/// The pod-network boundary the node agent calls: the real one is `PodNetwork`; hollow nodes and
/// agent tests use a fake.
public protocol PodNetworking: Sendable {
    /// Creates (or returns the existing) namespaces and network attachment of a pod sandbox.
    func setUp(podID: String, hostname: String) async throws -> PodSandboxNetwork
    /// The sandbox of a `hostNetwork` pod: the node's own network and UTS namespaces (the
    /// caller's), an IPC namespace of the pod's own, no network attachment; its IP is `hostIP`.
    func setUpHostNetwork(podID: String, hostIP: String) async throws -> PodSandboxNetwork
    /// Releases the pod's address and interfaces and removes its namespaces; a missing sandbox is fine.
    func tearDown(podID: String) async throws
}
