import Foundation
import OrcaAPI

/// The default RBAC objects, made at server start as kube-apiserver's `rbac/bootstrap-roles`
/// post-start hook makes them: a missing one is created; one annotated
/// `rbac.authorization.kubernetes.io/autoupdate: "true"` gets the default rules and subjects
/// back (added to what it has, never taken away).
public enum RBACBootstrap {
    /// Orca's own bindings: agents join with a bootstrap token and ask for their certificate
    /// (kubeadm's `kubeadm:kubelet-bootstrap`); an agent is also its node's service proxy and
    /// cluster DNS, so nodes hold kube-proxy's role.
    public static let orcaClusterRoleBindings: [ClusterRoleBinding] = [
        ClusterRoleBinding(
            metadata: ObjectMeta(annotations: BootstrapPolicy.autoUpdateAnnotation, labels: BootstrapPolicy.bootstrappingLabel,
                                 name: "orca:node-proxier"),
            roleRef: RoleRef(apiGroup: BootstrapPolicy.rbacGroup, kind: "ClusterRole", name: "system:node-proxier"),
            subjects: [Subject(apiGroup: BootstrapPolicy.rbacGroup, kind: "Group", name: "system:nodes")]),
        ClusterRoleBinding(
            metadata: ObjectMeta(annotations: BootstrapPolicy.autoUpdateAnnotation, labels: BootstrapPolicy.bootstrappingLabel,
                                 name: "orca:kubelet-bootstrap"),
            roleRef: RoleRef(apiGroup: BootstrapPolicy.rbacGroup, kind: "ClusterRole", name: "system:node-bootstrapper"),
            subjects: [Subject(apiGroup: BootstrapPolicy.rbacGroup, kind: "Group", name: "system:bootstrappers")]),
    ]

    /// Creates or reconciles every default object.
    public static func ensure(registry: Registry) async throws {
        for role in BootstrapPolicy.clusterRoles {
            try await reconcile(registry, RBACPolicyController.clusterRoles, nil, role) { current, wanted in
                var next = current
                if wanted.aggregationRule != nil {
                    next.aggregationRule = wanted.aggregationRule
                } else {
                    next.rules = union(current.rules ?? [], wanted.rules ?? [])
                }
                return next
            }
        }
        for binding in BootstrapPolicy.clusterRoleBindings + orcaClusterRoleBindings {
            try await reconcile(registry, RBACPolicyController.clusterRoleBindings, nil, binding) { current, wanted in
                var next = current
                next.subjects = union(current.subjects ?? [], wanted.subjects ?? [])
                return next
            }
        }
        for role in BootstrapPolicy.namespaceRoles {
            try await reconcile(registry, RBACPolicyController.roles, role.metadata?.namespace, role) { current, wanted in
                var next = current
                next.rules = union(current.rules ?? [], wanted.rules ?? [])
                return next
            }
        }
        for binding in BootstrapPolicy.namespaceRoleBindings {
            try await reconcile(registry, RBACPolicyController.roleBindings, binding.metadata?.namespace, binding) { current, wanted in
                var next = current
                next.subjects = union(current.subjects ?? [], wanted.subjects ?? [])
                return next
            }
        }
    }

    static func union<T: Hashable>(_ a: [T], _ b: [T]) -> [T] {
        var seen = Set(a)
        return a + b.filter { seen.insert($0).inserted }
    }

    /// Creates `wanted`, or merges it into the stored object when that one auto-updates.
    static func reconcile<T: Codable & KubernetesObject & Equatable>(
        _ registry: Registry, _ r: ResourceType, _ namespace: String?, _ wanted: T,
        merge: @escaping @Sendable (T, T) -> T) async throws {
        let name = wanted.metadata?.name ?? ""
        guard let (stored, _) = try await registry.read(r, namespace: namespace, name: name) else {
            do {
                _ = try await registry.create(r, namespace: namespace, object: try JSONValue(encoding: wanted))
            } catch let e as APIError where e.code == 409 {}
            return
        }
        let current = try stored.decode(T.self)
        guard current.metadata?.annotations?["rbac.authorization.kubernetes.io/autoupdate"] == "true" else { return }
        let next = merge(current, wanted)
        guard next != current else { return }
        let encoded = try JSONValue(encoding: next)
        _ = try await registry.guaranteedUpdate(r, namespace: namespace, name: name) { _ in encoded }
    }
}
