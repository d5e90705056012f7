import OrcaClient

/// Who an object is in the garbage collector's ownership graph (kube-controller-manager's
/// `objectReference`): its kind, its coordinates and its UID. Two objects are the same
/// object only when their UIDs are equal; the coordinates say where to read it.
struct ObjectIdentity: Sendable, Hashable, CustomStringConvertible {
    var apiVersion: String
    var kind: String
    /// The namespace to look in; for an owner only known from a reference, the dependent's
    /// namespace (owners live in their dependents' namespace or are cluster-scoped).
    var namespace: String?
    var name: String
    var uid: String

    init(apiVersion: String, kind: String, namespace: String?, name: String, uid: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
        self.uid = uid
    }

    /// The identity of an object of `apiVersion` and `kind` an informer showed; nil when it has no UID.
    init?(_ metadata: ObjectMeta?, apiVersion: String, kind: String) {
        guard let meta = metadata, let uid = meta.uid, !uid.isEmpty else { return nil }
        self.init(apiVersion: apiVersion, kind: kind, namespace: meta.namespace, name: meta.name ?? "", uid: uid)
    }

    /// The owner an owner reference of a dependent in `dependentNamespace` names; nil when the
    /// reference lacks a UID, kind or name (the API server requires them).
    init?(owner reference: OwnerReference, dependentNamespace: String?) {
        guard let uid = reference.uid, !uid.isEmpty, let kind = reference.kind, !kind.isEmpty,
              let name = reference.name, !name.isEmpty else { return nil }
        self.init(apiVersion: reference.apiVersion ?? "", kind: kind, namespace: dependentNamespace, name: name, uid: uid)
    }

    /// As the garbage collector logs it.
    var description: String {
        "[\(apiVersion)/\(kind), namespace: \(namespace ?? ""), name: \(name), uid: \(uid)]"
    }
}
