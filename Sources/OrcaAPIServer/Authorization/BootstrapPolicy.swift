import OrcaAPI

/// The default RBAC policy kube-apiserver 1.32 reconciles at start
/// (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy`): ClusterRoles, ClusterRoleBindings,
/// and the few Roles and RoleBindings in `kube-system`/`kube-public`. Every object carries
/// the label `kubernetes.io/bootstrapping: rbac-defaults` and the annotation
/// `rbac.authorization.kubernetes.io/autoupdate: "true"`. The controller roles
/// (`system:controller:*` ClusterRoles of `controller_policy.go`) are not included.
///
/// `admin`, `edit` and `view` are created empty with an aggregation rule; their rules come
/// from `system:aggregate-to-*` through `ClusterRoleAggregation`.
public enum BootstrapPolicy {
    /// `kubernetes.io/bootstrapping`: `rbac-defaults`.
    public static let bootstrappingLabel = ["kubernetes.io/bootstrapping": "rbac-defaults"]
    /// `rbac.authorization.kubernetes.io/autoupdate`: `"true"` — reconcile this object at start.
    public static let autoUpdateAnnotation = ["rbac.authorization.kubernetes.io/autoupdate": "true"]
    /// The RBAC API group, of role references and User/Group subjects.
    static let rbacGroup = "rbac.authorization.k8s.io"

    /// The whole default policy, with the aggregated ClusterRoles filled in.
    public static let policy = RBACPolicy(
        roles: namespaceRoles,
        clusterRoles: ClusterRoleAggregation.aggregate(clusterRoles),
        roleBindings: namespaceRoleBindings,
        clusterRoleBindings: clusterRoleBindings)

    /// The default ClusterRoleBindings (`ClusterRoleBindings()`).
    public static let clusterRoleBindings: [ClusterRoleBinding] = [
        clusterBinding("cluster-admin", groups: ["system:masters"]),
        clusterBinding("system:monitoring", groups: ["system:monitoring"]),
        clusterBinding("system:discovery", groups: ["system:authenticated"]),
        clusterBinding("system:basic-user", groups: ["system:authenticated"]),
        clusterBinding("system:public-info-viewer", groups: ["system:authenticated", "system:unauthenticated"]),
        clusterBinding("system:node-proxier", users: ["system:kube-proxy"]),
        clusterBinding("system:kube-controller-manager", users: ["system:kube-controller-manager"]),
        clusterBinding("system:kube-dns", serviceAccounts: ("kube-system", ["kube-dns"])),
        clusterBinding("system:kube-scheduler", users: ["system:kube-scheduler"]),
        clusterBinding("system:volume-scheduler", users: ["system:kube-scheduler"]),
        // Kept without subjects since the Node authorizer (1.7), so reconciliation empties it.
        clusterBinding("system:node"),
        clusterBinding("system:service-account-issuer-discovery", groups: ["system:serviceaccounts"]),
    ]

    /// The default Roles in `kube-system` and `kube-public` (`namespace_policy.go`).
    public static let namespaceRoles: [Role] = [
        role("extension-apiserver-authentication-reader", in: "kube-system", [
            rule(read, groups: [""], resources: ["configmaps"], names: ["extension-apiserver-authentication"]),
        ]),
        role("system::leader-locking-kube-controller-manager", in: "kube-system", [
            rule(["create", "get", "list", "update", "watch"], groups: ["coordination.k8s.io"], resources: ["leases"]),
            rule(["create", "get", "list", "update", "watch"], groups: ["coordination.k8s.io"], resources: ["leasecandidates"]),
        ]),
        role("system::leader-locking-kube-scheduler", in: "kube-system", [
            rule(["create", "get", "list", "update", "watch"], groups: ["coordination.k8s.io"], resources: ["leases"]),
            rule(["create", "get", "list", "update", "watch"], groups: ["coordination.k8s.io"], resources: ["leasecandidates"]),
        ]),
        role("system:controller:bootstrap-signer", in: "kube-system", [
            rule(read, groups: [""], resources: ["secrets"]),
        ]),
        role("system:controller:cloud-provider", in: "kube-system", [
            rule(["create", "get", "list", "watch"], groups: [""], resources: ["configmaps"]),
        ]),
        role("system:controller:token-cleaner", in: "kube-system", [
            rule(["delete", "get", "list", "watch"], groups: [""], resources: ["secrets"]),
            eventsRule,
        ]),
        role("system:controller:bootstrap-signer", in: "kube-public", [
            rule(read, groups: [""], resources: ["configmaps"]),
            rule(["update"], groups: [""], resources: ["configmaps"], names: ["cluster-info"]),
            eventsRule,
        ]),
    ]

    /// The default RoleBindings in `kube-system` and `kube-public`.
    public static let namespaceRoleBindings: [RoleBinding] = [
        roleBinding("system::extension-apiserver-authentication-reader", role: "extension-apiserver-authentication-reader",
                    in: "kube-system", users: ["system:kube-controller-manager", "system:kube-scheduler"]),
        roleBinding("system::leader-locking-kube-controller-manager", in: "kube-system", users: ["system:kube-controller-manager"],
                    serviceAccounts: ["kube-controller-manager", "leader-election-controller"]),
        roleBinding("system::leader-locking-kube-scheduler", in: "kube-system", users: ["system:kube-scheduler"],
                    serviceAccounts: ["kube-scheduler"]),
        roleBinding("system:controller:bootstrap-signer", in: "kube-system", serviceAccounts: ["bootstrap-signer"]),
        roleBinding("system:controller:cloud-provider", in: "kube-system", serviceAccounts: ["cloud-provider"]),
        roleBinding("system:controller:token-cleaner", in: "kube-system", serviceAccounts: ["token-cleaner"]),
        roleBinding("system:controller:bootstrap-signer", in: "kube-public", serviceAccounts: ["bootstrap-signer"]),
    ]
}

// MARK: - Builders, as `rbacv1helpers.NewRule(…).RuleOrDie()` and the binding builders

extension BootstrapPolicy {
    /// `Read` of `policy.go`.
    static let read = ["get", "list", "watch"]
    /// `Write`.
    static let write = ["create", "update", "patch", "delete", "deletecollection"]
    /// `ReadWrite`.
    static let readWrite = read + write
    /// `ReadUpdate`.
    static let readUpdate = ["get", "list", "watch", "update", "patch"]

    /// A resource rule; like `RuleOrDie`, every list sorted.
    static func rule(_ verbs: [String], groups: [String], resources: [String], names: [String] = []) -> PolicyRule {
        PolicyRule(apiGroups: groups.sorted(), resourceNames: names.isEmpty ? nil : names.sorted(),
                   resources: resources.sorted(), verbs: verbs.sorted())
    }

    /// A non-resource rule, sorted.
    static func rule(_ verbs: [String], urls: [String]) -> PolicyRule {
        PolicyRule(nonResourceURLs: urls.sorted(), verbs: verbs.sorted())
    }

    /// `eventsRule()`: write events in the core and `events.k8s.io` groups.
    static let eventsRule = rule(["create", "update", "patch"], groups: ["", "events.k8s.io"], resources: ["events"])

    /// Name, namespace and labels plus the bootstrapping label and auto-update annotation.
    static func metadata(_ name: String, namespace: String? = nil, labels: [String: String] = [:]) -> ObjectMeta {
        ObjectMeta(annotations: autoUpdateAnnotation, labels: labels.merging(bootstrappingLabel) { _, b in b },
                   name: name, namespace: namespace)
    }

    /// A ClusterRole; `aggregateFrom: "aggregate-to-x"` selects `rbac.authorization.k8s.io/aggregate-to-x: "true"`.
    static func clusterRole(_ name: String, labels: [String: String] = [:], aggregateFrom: String? = nil, _ rules: [PolicyRule] = []) -> ClusterRole {
        ClusterRole(
            aggregationRule: aggregateFrom.map {
                AggregationRule(clusterRoleSelectors: [LabelSelector(matchLabels: ["rbac.authorization.k8s.io/\($0)": "true"])])
            },
            metadata: metadata(name, labels: labels),
            rules: rules.isEmpty ? nil : rules)
    }

    /// A Role in `namespace`.
    static func role(_ name: String, in namespace: String, _ rules: [PolicyRule]) -> Role {
        Role(metadata: metadata(name, namespace: namespace), rules: rules)
    }

    /// Groups and users (in the RBAC API group) then service accounts, as the builders add them.
    static func subjects(groups: [String], users: [String], serviceAccounts: (String, [String])?) -> [Subject]? {
        var subjects = groups.map { Subject(apiGroup: rbacGroup, kind: "Group", name: $0) }
            + users.map { Subject(apiGroup: rbacGroup, kind: "User", name: $0) }
        if let (namespace, names) = serviceAccounts {
            subjects += names.map { Subject(kind: "ServiceAccount", name: $0, namespace: namespace) }
        }
        return subjects.isEmpty ? nil : subjects
    }

    /// `NewClusterBinding(name)`: binds the ClusterRole of the same name.
    static func clusterBinding(_ name: String, groups: [String] = [], users: [String] = [], serviceAccounts: (String, [String])? = nil) -> ClusterRoleBinding {
        ClusterRoleBinding(
            metadata: metadata(name),
            roleRef: RoleRef(apiGroup: rbacGroup, kind: "ClusterRole", name: name),
            subjects: subjects(groups: groups, users: users, serviceAccounts: serviceAccounts))
    }

    /// `NewRoleBinding(role, namespace)`; service accounts are in `kube-system`.
    static func roleBinding(_ name: String, role: String? = nil, in namespace: String, users: [String] = [], serviceAccounts: [String] = []) -> RoleBinding {
        RoleBinding(
            metadata: metadata(name, namespace: namespace),
            roleRef: RoleRef(apiGroup: rbacGroup, kind: "Role", name: role ?? name),
            subjects: subjects(groups: [], users: users, serviceAccounts: serviceAccounts.isEmpty ? nil : ("kube-system", serviceAccounts)))
    }
}
