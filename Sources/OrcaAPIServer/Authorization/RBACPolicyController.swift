import Foundation
import Logging
import OrcaAPI

/// Keeps the RBAC policy of `RBACPolicyStore` current, in the API server, and aggregates
/// ClusterRoles (kube-controller-manager's clusterrole-aggregation controller): a ClusterRole
/// with an `aggregationRule` gets the rules of the ClusterRoles its selectors match.
public struct RBACPolicyController: Sendable {
    let registry: Registry
    let store: RBACPolicyStore
    let logger: Logger

    static let group = "rbac.authorization.k8s.io"
    static let roles = ResourceCatalog.standard.resource(group: group, version: "v1", resource: "roles")!
    static let clusterRoles = ResourceCatalog.standard.resource(group: group, version: "v1", resource: "clusterroles")!
    static let roleBindings = ResourceCatalog.standard.resource(group: group, version: "v1", resource: "rolebindings")!
    static let clusterRoleBindings = ResourceCatalog.standard.resource(group: group, version: "v1", resource: "clusterrolebindings")!

    public init(registry: Registry, store: RBACPolicyStore, logger: Logger = Logger(label: "orca.apiserver.rbac")) {
        self.registry = registry
        self.store = store
        self.logger = logger
    }

    /// Follows every change of the four RBAC kinds until cancelled.
    public func run() async {
        let resources = [Self.roles, Self.clusterRoles, Self.roleBindings, Self.clusterRoleBindings]
        await RegistryResyncLoop(registry: registry, resources: resources, logger: logger).run { try await sync() }
    }

    /// Reads every RBAC object, writes aggregated ClusterRoles whose rules are behind, and
    /// replaces the policy. Returns whether an aggregation write failed (to retry).
    @discardableResult
    public func sync() async throws -> Bool {
        let roles: [Role] = try await registry.decodedItems(Self.roles, logger: logger)
        var clusterRoles: [ClusterRole] = try await registry.decodedItems(Self.clusterRoles, logger: logger)
        let roleBindings: [RoleBinding] = try await registry.decodedItems(Self.roleBindings, logger: logger)
        let clusterRoleBindings: [ClusterRoleBinding] = try await registry.decodedItems(Self.clusterRoleBindings, logger: logger)
        var failed = false
        for i in clusterRoles.indices where clusterRoles[i].aggregationRule != nil {
            guard let rules = try? ClusterRoleAggregation.aggregatedRules(for: clusterRoles[i], in: clusterRoles),
                  rules != (clusterRoles[i].rules ?? []) else { continue }
            let name = clusterRoles[i].metadata?.name ?? ""
            do {
                let encoded = try JSONValue(encoding: rules)
                let written = try await registry.guaranteedUpdate(Self.clusterRoles, namespace: nil, name: name) { current in
                    var next = current
                    next["rules"] = encoded
                    return next
                }
                clusterRoles[i] = try written.decode(ClusterRole.self)
            } catch {
                logger.warning("aggregating clusterrole \(name): \(error)")
                failed = true
            }
        }
        store.replace(RBACPolicy(roles: roles, clusterRoles: clusterRoles, roleBindings: roleBindings,
                                 clusterRoleBindings: clusterRoleBindings))
        return failed
    }
}
