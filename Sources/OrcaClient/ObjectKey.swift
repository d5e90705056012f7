/// The identity of an object in a cache and a work queue: `namespace/name`, or `name`
/// for cluster-scoped kinds (client-go's `MetaNamespaceKeyFunc`).
public struct ObjectKey: Sendable, Hashable, CustomStringConvertible, Comparable {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
    }

    public init(_ object: some KubernetesObject) {
        self.init(namespace: object.metadata?.namespace, name: object.metadata?.name ?? "")
    }

    /// Parses `namespace/name` or `name`.
    public init(parsing key: String) {
        if let slash = key.firstIndex(of: "/") {
            self.init(namespace: String(key[..<slash]), name: String(key[key.index(after: slash)...]))
        } else {
            self.init(namespace: nil, name: key)
        }
    }

    public var description: String {
        if let namespace { return "\(namespace)/\(name)" }
        return name
    }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool { a.description < b.description }
}

/// The standard indexes of shared informers.
public enum Indexers {
    /// By `metadata.namespace`.
    public static let namespace = "namespace"
    /// By the UID of the controlling owner (`ownerReferences[controller=true].uid`).
    public static let controllerUID = "controllerUID"
    /// Pods by `spec.nodeName`.
    public static let nodeName = "nodeName"
    /// Objects without a controller, by namespace (what controllers may adopt).
    public static let orphanNamespace = "orphanNamespace"

    /// Files an object under its namespace.
    public static func byNamespace<Object: KubernetesObject>(_ object: Object) -> [String] {
        [object.metadata?.namespace ?? ""]
    }

    /// Files an object under its controller's UID (nothing when it has no controller).
    public static func byControllerUID<Object: KubernetesObject>(_ object: Object) -> [String] {
        guard let uid = object.metadata?.ownerReferences?.first(where: { $0.controller == true })?.uid else { return [] }
        return [uid]
    }

    /// Files an object without a controller reference under its namespace.
    public static func byOrphanNamespace<Object: KubernetesObject>(_ object: Object) -> [String] {
        object.metadata?.ownerReferences?.contains(where: { $0.controller == true }) == true ? [] : [object.metadata?.namespace ?? ""]
    }

    /// Files a pod under the node it is bound to (nothing while unscheduled).
    public static func byNodeName(_ pod: Pod) -> [String] {
        guard let node = pod.spec?.nodeName, !node.isEmpty else { return [] }
        return [node]
    }
}
