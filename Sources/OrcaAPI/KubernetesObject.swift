/// A serialized Kubernetes kind: a type with a fixed `apiVersion` and `kind`.
///
/// Every generated type with `x-kubernetes-group-version-kind` and `apiVersion`/`kind`
/// fields conforms; its memberwise init defaults the instance fields to the constants.
public protocol KubernetesResource: Codable, Sendable, Hashable {
    /// The group/version this type is served as, e.g. `"v1"` or `"apps/v1"`.
    static var apiVersion: String { get }
    /// The kind, e.g. `"Pod"`.
    static var kind: String { get }

    /// The `apiVersion` field on the wire.
    var apiVersion: String? { get set }
    /// The `kind` field on the wire.
    var kind: String? { get set }
}

extension KubernetesResource {
    /// The API group; empty for the core group.
    public static var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    /// The API version within the group, e.g. `"v1"`.
    public static var version: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return apiVersion }
        return String(apiVersion[apiVersion.index(after: slash)...])
    }
}

/// A persisted Kubernetes object: a kind with `ObjectMeta` (Pod, Deployment, Lease, …).
public protocol KubernetesObject: KubernetesResource {
    /// Standard object metadata.
    var metadata: ObjectMeta? { get set }
}

/// A list kind (`PodList`, `DeploymentList`, …): `ListMeta` plus items of one object kind.
public protocol KubernetesList: KubernetesResource {
    /// The kind of the items.
    associatedtype Item: KubernetesObject

    /// Standard list metadata (resourceVersion, continue).
    var metadata: ListMeta? { get set }
    /// The items.
    var items: [Item]? { get set }
}
