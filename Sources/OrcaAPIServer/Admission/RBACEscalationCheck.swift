import OrcaAPI

/// Privilege-escalation prevention on RBAC writes (kube-apiserver's rbac storage): a Role or
/// ClusterRole may only grant what its writer holds, unless the writer may `escalate` it; a
/// binding may only bind a role whose rules its writer holds, unless the writer may `bind` it.
/// The API server's own writes (no user) and `system:masters` are exempt.
public struct RBACEscalationCheck: AdmissionPlugin {
    public let name = "RBACEscalation"
    let authorizer: RequestAuthorizer

    public init(authorizer: RequestAuthorizer) { self.authorizer = authorizer }

    public func validate(_ a: AdmissionAttributes, registry: Registry) async throws {
        guard a.resource.group == "rbac.authorization.k8s.io", a.operation == .create || a.operation == .update,
              let user = a.user, !RBACEscalation.escalationAllowed(user), let object = a.object else { return }
        let namespace = a.namespace ?? ""
        let name = object.metadataName ?? a.name
        let policy = authorizer.rbac.authorizer.policy
        switch a.resource.resource {
        case "roles", "clusterroles":
            let escalate = RBACEscalation.escalateAttributes(user: user, resource: a.resource.resource, namespace: namespace, name: name)
            if await authorizer.authorize(escalate, registry: registry).isAllowed { return }
            let rules = (try? object["rules"]?.decode([PolicyRule].self)) ?? []
            if let message = RBACEscalation.confirmNoEscalation(user: user, namespace: namespace, requested: rules, policy: policy) {
                throw a.forbidden(message)
            }
        case "rolebindings", "clusterrolebindings":
            guard let roleRef = try? object["roleRef"]?.decode(RoleRef.self) else { return }
            if let bind = RBACEscalation.bindAttributes(user: user, roleRef: roleRef, bindingNamespace: namespace),
               await authorizer.authorize(bind, registry: registry).isAllowed { return }
            // The role is read live: it may have been made a moment ago.
            guard let rules = try await Self.liveRules(roleRef, namespace: namespace, registry: registry) else {
                let error = policy.roleReferenceRules(roleRef, bindingNamespace: namespace).error
                throw a.forbidden(error?.message ?? "unknown role")
            }
            if let message = RBACEscalation.confirmNoEscalation(user: user, namespace: namespace, requested: rules, policy: policy) {
                throw a.forbidden(message)
            }
        default:
            break
        }
    }

    /// The rules of the role a binding refers to, as stored now; nil when there is none.
    static func liveRules(_ ref: RoleRef, namespace: String, registry: Registry) async throws -> [PolicyRule]? {
        let resource: String
        switch ref.kind ?? "" {
        case "ClusterRole": resource = "clusterroles"
        case "Role": resource = "roles"
        default: return nil
        }
        guard let r = registry.catalog.resource(group: "rbac.authorization.k8s.io", version: "v1", resource: resource),
              let (role, _) = try await registry.read(r, namespace: resource == "roles" ? namespace : nil, name: ref.name ?? "") else {
            return nil
        }
        return (try? role["rules"]?.decode([PolicyRule].self)) ?? []
    }
}
