import OrcaAPI

/// Where the registry keeps a resource's objects in the store: `/registry/<group>/<resource>/`
/// then `<namespace>/<name>` (kube-apiserver's etcd layout). Only the server knows these keys.
extension ResourceType {
    /// The store key prefix for this resource (ends with `/`).
    public var storePrefix: String {
        let g = group.isEmpty ? "" : "\(group)/"
        return "/registry/\(g)\(resource)/"
    }

    /// The store key of one object.
    public func storeKey(namespace: String?, name: String) -> String {
        if namespaced, let namespace { return "\(storePrefix)\(namespace)/\(name)" }
        return "\(storePrefix)\(name)"
    }

    /// The store prefix of a namespace's objects, or of all objects.
    public func storePrefix(namespace: String?) -> String {
        if namespaced, let namespace, !namespace.isEmpty { return "\(storePrefix)\(namespace)/" }
        return storePrefix
    }
}
