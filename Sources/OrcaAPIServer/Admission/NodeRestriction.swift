import OrcaAPI

/// kube-apiserver's NodeRestriction admission: a node may change only its own Node object
/// and Lease, the status of pods bound to it, create only mirror pods bound to itself, delete
/// and evict only its own pods, and ask tokens only for pods bound to it.
public struct NodeRestriction: AdmissionPlugin {
    public let name = "NodeRestriction"
    static let mirrorAnnotation = "kubernetes.io/config.mirror"

    public init() {}

    public func validate(_ a: AdmissionAttributes, registry: Registry) async throws {
        guard let user = a.user, let node = NodeAuthorizer.nodeName(user) else { return }
        let r = a.resource
        switch (r.group, r.resource) {
        case ("", "nodes"):
            if a.name != node && !(a.operation == .create && a.object?.metadataName == node) {
                throw a.forbidden("node \"\(node)\" is not allowed to modify node \"\(a.name)\"")
            }
            if a.operation == .delete { throw a.forbidden("node \"\(node)\" is not allowed to delete nodes") }
            if let object = a.object {
                let before = a.oldObject?[path: ["metadata", "labels"]]?.objectValue ?? [:]
                let after = object[path: ["metadata", "labels"]]?.objectValue ?? [:]
                let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }
                if let label = changed.sorted().first(where: Self.isRestrictedLabel) {
                    throw a.forbidden("is not allowed to modify labels: \(label)")
                }
            }
        case ("", "pods"):
            try podAllowed(a, node: node)
        case ("coordination.k8s.io", "leases"):
            if a.namespace != "kube-node-lease" || a.name != node && a.object?.metadataName != node {
                throw a.forbidden("can only access node lease with the same name as the requesting node")
            }
        case ("", "serviceaccounts") where a.subresource == "token":
            let kind = a.object?[path: ["spec", "boundObjectRef", "kind"]]?.stringValue
            guard kind == "Pod" else { throw a.forbidden("node requested token not bound to a pod") }
        default:
            break
        }
    }

    func podAllowed(_ a: AdmissionAttributes, node: String) throws {
        let pod = a.object ?? a.oldObject ?? [:]
        let boundTo = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        switch (a.operation, a.subresource) {
        case (.create, nil):
            guard pod[path: ["metadata", "annotations", Self.mirrorAnnotation]] != nil else {
                throw a.forbidden("pod does not have \"\(Self.mirrorAnnotation)\" annotation, node \"\(node)\" can only create mirror pods")
            }
            guard boundTo == node else {
                throw a.forbidden("node \"\(node)\" can only create pods with spec.nodeName set to itself")
            }
        case (.update, "status"?), (.delete, nil), (.create, "eviction"?):
            guard (a.oldObject?[path: ["spec", "nodeName"]]?.stringValue ?? boundTo) == node else {
                throw a.forbidden("node \"\(node)\" can only \(a.operation == .update ? "update pod status" : a.operation == .delete ? "delete pods" : "evict pods") for pods bound to itself")
            }
        case (.update, nil):
            guard pod[path: ["metadata", "annotations", Self.mirrorAnnotation]] != nil, boundTo == node else {
                throw a.forbidden("node \"\(node)\" can only update pod status")
            }
        default:
            throw a.forbidden("unexpected operation \(a.operation.rawValue) on pods\(a.subresource.map { "/" + $0 } ?? "")")
        }
    }

    /// Labels a node may not set on itself (`node-restriction.kubernetes.io/` and the like).
    static func isRestrictedLabel(_ label: String) -> Bool {
        let prefix = label.split(separator: "/").first.map(String.init) ?? ""
        return label.contains("/") && (prefix == "node-restriction.kubernetes.io" || prefix.hasSuffix(".node-restriction.kubernetes.io"))
    }
}
