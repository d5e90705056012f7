import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Builders for RBAC objects in tests.
enum RBACFixtures {
    static func rule(_ verbs: [String], _ groups: [String], _ resources: [String], names: [String]? = nil) -> PolicyRule {
        PolicyRule(apiGroups: groups, resourceNames: names, resources: resources, verbs: verbs)
    }

    static func urls(_ verbs: [String], _ urls: [String]) -> PolicyRule { PolicyRule(nonResourceURLs: urls, verbs: verbs) }

    static func clusterRole(_ name: String, _ rules: [PolicyRule]?, labels: [String: String]? = nil, aggregate: [LabelSelector]? = nil) -> ClusterRole {
        ClusterRole(aggregationRule: aggregate.map { AggregationRule(clusterRoleSelectors: $0) },
                    metadata: ObjectMeta(labels: labels, name: name), rules: rules)
    }

    static func role(_ namespace: String, _ name: String, _ rules: [PolicyRule]) -> Role {
        Role(metadata: ObjectMeta(name: name, namespace: namespace), rules: rules)
    }

    static func user(_ name: String) -> Subject { Subject(apiGroup: "rbac.authorization.k8s.io", kind: "User", name: name) }
    static func group(_ name: String) -> Subject { Subject(apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: name) }
    static func serviceAccount(_ namespace: String?, _ name: String) -> Subject { Subject(kind: "ServiceAccount", name: name, namespace: namespace) }

    static func clusterBinding(_ name: String, to role: String, _ subjects: [Subject]) -> ClusterRoleBinding {
        ClusterRoleBinding(metadata: ObjectMeta(name: name),
                           roleRef: RoleRef(apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role), subjects: subjects)
    }

    static func binding(_ namespace: String, _ name: String, kind: String = "Role", to role: String, _ subjects: [Subject]) -> RoleBinding {
        RoleBinding(metadata: ObjectMeta(name: name, namespace: namespace),
                    roleRef: RoleRef(apiGroup: "rbac.authorization.k8s.io", kind: kind, name: role), subjects: subjects)
    }

    static let alice = UserInfo(name: "alice", groups: ["system:authenticated"])

    static func request(_ user: UserInfo, _ verb: String, _ resource: String, group: String = "", sub: String = "",
                        namespace: String = "", name: String = "") -> AuthorizationAttributes {
        .resource(user: user, verb: verb, namespace: namespace, apiGroup: group, resource: resource, subresource: sub, name: name)
    }

    /// A request by `alice`.
    static func request(_ verb: String, _ resource: String, group: String = "", sub: String = "",
                        namespace: String = "", name: String = "") -> AuthorizationAttributes {
        request(alice, verb, resource, group: group, sub: sub, namespace: namespace, name: name)
    }

    static func path(_ user: UserInfo, _ verb: String, _ path: String) -> AuthorizationAttributes {
        .nonResource(user: user, verb: verb, path: path)
    }

    /// A `verb` of `path` by `alice`.
    static func path(_ verb: String, _ path: String) -> AuthorizationAttributes {
        .nonResource(user: alice, verb: verb, path: path)
    }

    /// A `get` of `path` by `alice`.
    static func path(_ path: String) -> AuthorizationAttributes { .nonResource(user: alice, verb: "get", path: path) }
}

/// One rule against one request (`RuleAllows`): wildcards, subresources, names, URLs.
@Suite struct RBACRuleMatchingTests {
    typealias F = RBACFixtures

    static let cases: [(PolicyRule, AuthorizationAttributes, Bool)] = [
        (F.rule(["get"], [""], ["pods"]), F.request("get", "pods", namespace: "a", name: "p"), true),
        (F.rule(["get"], [""], ["pods"]), F.request("list", "pods", namespace: "a"), false),
        (F.rule(["*"], [""], ["pods"]), F.request("deletecollection", "pods"), true),
        (F.rule(["get"], ["*"], ["deployments"]), F.request("get", "deployments", group: "apps"), true),
        (F.rule(["get"], ["apps"], ["deployments"]), F.request("get", "deployments", group: "extensions"), false),
        (F.rule(["get"], [""], ["pods"]), F.request("get", "pods", group: "apps"), false),
        (F.rule(["get"], [""], ["*"]), F.request("get", "pods", sub: "log"), true),
        (F.rule(["get"], [""], ["pods"]), F.request("get", "pods", sub: "log"), false),
        (F.rule(["get"], [""], ["pods/log"]), F.request("get", "pods", sub: "log"), true),
        (F.rule(["get"], [""], ["pods/log"]), F.request("get", "pods"), false),
        (F.rule(["update"], ["apps"], ["*/scale"]), F.request("update", "deployments", group: "apps", sub: "scale"), true),
        (F.rule(["update"], ["apps"], ["*/scale"]), F.request("update", "deployments", group: "apps"), false),
        (F.rule(["update"], ["apps"], ["*/scale"]), F.request("update", "deployments", group: "apps", sub: "status"), false),
        (F.rule(["get"], [""], ["pods/*"]), F.request("get", "pods", sub: "log"), false),
        (F.rule(["get"], [""], ["configmaps"], names: ["a", "b"]), F.request("get", "configmaps", name: "b"), true),
        (F.rule(["get"], [""], ["configmaps"], names: ["a"]), F.request("get", "configmaps", name: "c"), false),
        (F.rule(["list"], [""], ["configmaps"], names: ["a"]), F.request("list", "configmaps"), false),
        (F.rule(["list"], [""], ["configmaps"], names: []), F.request("list", "configmaps"), true),
        (F.urls(["get"], ["/healthz"]), F.path("/healthz"), true),
        (F.urls(["get"], ["/healthz"]), F.path("/healthz/etcd"), false),
        (F.urls(["get"], ["/healthz"]), F.path("post", "/healthz"), false),
        (F.urls(["get"], ["/apis/*"]), F.path("/apis/apps/v1"), true),
        (F.urls(["get"], ["/apis/*"]), F.path("/apis"), false),
        (F.urls(["get"], ["/api*"]), F.path("/apis"), true),
        (F.urls(["*"], ["*"]), F.path("delete", "/anything"), true),
        (F.rule(["*"], ["*"], ["*"]), F.path("/version"), false),
        (F.urls(["*"], ["*"]), F.request("get", "pods"), false),
    ]

    @Test(arguments: cases)
    func ruleAllows(rule: PolicyRule, request: AuthorizationAttributes, allowed: Bool) {
        #expect(RBACAuthorizer.rule(rule, allows: request) == allowed)
    }
}

/// The authorizer over a policy snapshot: subjects, binding scopes, reasons, rule listing.
@Suite struct RBACAuthorizerTests {
    typealias F = RBACFixtures

    static let policy = RBACPolicy(
        roles: [
            F.role("team", "configmap-editor", [F.rule(["get", "update"], [""], ["configmaps"])]),
            F.role("other", "secret-reader", [F.rule(["get"], [""], ["secrets"])]),
        ],
        clusterRoles: [
            F.clusterRole("pod-reader", [F.rule(["get", "list", "watch"], [""], ["pods"]), F.urls(["get"], ["/logs/*"])]),
            F.clusterRole("deployer", [F.rule(["create", "update"], ["apps"], ["deployments"])]),
        ],
        roleBindings: [
            F.binding("team", "deployers", kind: "ClusterRole", to: "deployer", [F.serviceAccount(nil, "ci"), F.user("dora")]),
            F.binding("team", "cm", to: "configmap-editor", [F.group("editors")]),
            F.binding("team", "cross", to: "secret-reader", [F.user("eve")]),
            F.binding("team", "ghost", kind: "ClusterRole", to: "ghost", [F.user("eve")]),
            F.binding("team", "odd", kind: "Group", to: "x", [F.user("frank")]),
        ],
        clusterRoleBindings: [
            F.clusterBinding("readers", to: "pod-reader", [F.user("alice"), F.group("readers")]),
            F.clusterBinding("builders", to: "pod-reader", [F.serviceAccount("build", "builder"), F.serviceAccount(nil, "anyns")]),
            F.clusterBinding("missing", to: "nope", [F.user("frank")]),
        ])
    static let authorizer = RBACAuthorizer(policy: policy)

    static func u(_ name: String, _ groups: [String] = []) -> UserInfo { UserInfo(name: name, groups: groups) }

    /// (request, allowed)
    static let decisions: [(AuthorizationAttributes, Bool)] = [
        // ClusterRoleBinding: everywhere, and cluster-wide.
        (F.request("list", "pods"), true),
        (F.request("get", "pods", namespace: "anywhere", name: "p"), true),
        (F.request("delete", "pods", namespace: "anywhere", name: "p"), false),
        (F.path("/logs/kube-apiserver.log"), true),
        // Group subjects.
        (F.request(u("bob", ["readers"]), "watch", "pods"), true),
        (F.request(u("carol", ["writers"]), "watch", "pods"), false),
        (F.request(u("readers"), "watch", "pods"), false),
        // ServiceAccount subjects: `system:serviceaccount:<ns>:<name>`; an empty namespace in a
        // ClusterRoleBinding names nobody.
        (F.request(u("system:serviceaccount:build:builder"), "list", "pods"), true),
        (F.request(u("system:serviceaccount:other:builder"), "list", "pods"), false),
        (F.request(u("system:serviceaccount::anyns"), "list", "pods"), false),
        (F.request(u("builder"), "list", "pods"), false),
        // RoleBinding to a ClusterRole: only in the binding's namespace; its ServiceAccount
        // subject defaults to that namespace.
        (F.request(u("dora"), "create", "deployments", group: "apps", namespace: "team"), true),
        (F.request(u("dora"), "create", "deployments", group: "apps", namespace: "prod"), false),
        (F.request(u("dora"), "create", "deployments", group: "apps"), false),
        (F.request(u("system:serviceaccount:team:ci"), "update", "deployments", group: "apps", namespace: "team", name: "web"), true),
        (F.request(u("system:serviceaccount:prod:ci"), "update", "deployments", group: "apps", namespace: "team", name: "web"), false),
        // RoleBinding to a Role of its namespace.
        (F.request(u("gina", ["editors"]), "update", "configmaps", namespace: "team", name: "c"), true),
        (F.request(u("gina", ["editors"]), "update", "configmaps", namespace: "other", name: "c"), false),
        // A RoleBinding cannot reach a Role of another namespace.
        (F.request(u("eve"), "get", "secrets", namespace: "team", name: "s"), false),
    ]

    @Test(arguments: decisions)
    func decides(request: AuthorizationAttributes, allowed: Bool) {
        #expect(Self.authorizer.authorize(request).isAllowed == allowed)
    }

    /// (request, decision) — reasons as kube-apiserver words them.
    static let reasons: [(AuthorizationAttributes, AuthorizationDecision)] = [
        (F.request("get", "pods"), .allow(reason: #"RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "pod-reader" to User "alice""#)),
        (F.request(u("bob", ["readers"]), "get", "pods"),
         .allow(reason: #"RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "pod-reader" to Group "readers""#)),
        (F.request(u("system:serviceaccount:team:ci"), "create", "deployments", group: "apps", namespace: "team"),
         .allow(reason: #"RBAC: allowed by RoleBinding "deployers/team" of ClusterRole "deployer" to ServiceAccount "ci/team""#)),
        (F.request(u("system:serviceaccount:build:builder"), "get", "pods"),
         .allow(reason: #"RBAC: allowed by ClusterRoleBinding "builders" of ClusterRole "pod-reader" to ServiceAccount "builder/build""#)),
        (F.request(u("nobody"), "get", "pods", namespace: "team"), .noOpinion(reason: "")),
        (F.request(u("frank"), "get", "pods"), .noOpinion(reason: #"RBAC: clusterrole.rbac.authorization.k8s.io "nope" not found"#)),
        (F.request(u("frank"), "get", "pods", namespace: "team"),
         .noOpinion(reason: #"RBAC: [clusterrole.rbac.authorization.k8s.io "nope" not found, unsupported role reference kind: "Group"]"#)),
        (F.request(u("eve"), "get", "secrets", namespace: "team"),
         .noOpinion(reason: #"RBAC: [role.rbac.authorization.k8s.io "secret-reader" not found, clusterrole.rbac.authorization.k8s.io "ghost" not found]"#)),
    ]

    @Test(arguments: reasons)
    func reason(request: AuthorizationAttributes, decision: AuthorizationDecision) {
        #expect(Self.authorizer.authorize(request) == decision)
    }

    @Test func allowDespiteResolutionErrors() {
        // frank's ClusterRoleBinding is broken, but a working binding still allows.
        let policy = RBACPolicy(
            clusterRoles: [F.clusterRole("pod-reader", [F.rule(["get"], [""], ["pods"])])],
            clusterRoleBindings: [F.clusterBinding("a-broken", to: "nope", [F.user("frank")]),
                                  F.clusterBinding("b-works", to: "pod-reader", [F.user("frank")])])
        let decision = RBACAuthorizer(policy: policy).authorize(F.request(Self.u("frank"), "get", "pods"))
        #expect(decision == .allow(reason: #"RBAC: allowed by ClusterRoleBinding "b-works" of ClusterRole "pod-reader" to User "frank""#))
    }

    @Test func rulesListing() {
        let dora = Self.authorizer.rules(for: Self.u("dora", ["readers"]), namespace: "team")
        #expect(dora.resourceRules == [
            ResourceRule(apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"]),
            ResourceRule(apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "update"]),
        ])
        #expect(dora.nonResourceRules == [NonResourceRule(nonResourceURLs: ["/logs/*"], verbs: ["get"])])
        #expect(dora.incomplete == false)
        #expect(dora.evaluationError == nil)
        #expect(dora.status.resourceRules?.count == 2)

        // Cluster-wide: only the ClusterRoleBindings count.
        let clusterWide = Self.authorizer.rules(for: Self.u("dora", ["readers"]), namespace: "")
        #expect(clusterWide.resourceRules.map(\.resources) == [["pods"]])

        let frank = Self.authorizer.rules(for: Self.u("frank"), namespace: "team")
        #expect(frank.resourceRules.isEmpty && frank.nonResourceRules.isEmpty)
        #expect(frank.incomplete == false)
        #expect(frank.evaluationError == #"[clusterrole.rbac.authorization.k8s.io "nope" not found, unsupported role reference kind: "Group"]"#)
    }

    @Test func resourceNameRulesKeepTheirNames() {
        let policy = RBACPolicy(
            clusterRoles: [F.clusterRole("one", [F.rule(["get"], [""], ["configmaps"], names: ["settings"])])],
            clusterRoleBindings: [F.clusterBinding("one", to: "one", [F.user("alice")])])
        let rules = RBACAuthorizer(policy: policy).rules(for: F.alice, namespace: "x")
        #expect(rules.resourceRules == [ResourceRule(apiGroups: [""], resourceNames: ["settings"], resources: ["configmaps"], verbs: ["get"])])
    }

    /// 1,000 RoleBindings over 100 namespaces, each for its own user and group: the index
    /// finds exactly the binding of a user, and decisions stay right.
    @Test func manyRoleBindings() {
        var bindings: [RoleBinding] = []
        for n in 0..<100 {
            for i in 0..<10 {
                bindings.append(F.binding("ns-\(n)", "b-\(i)", kind: "ClusterRole", to: i.isMultiple(of: 2) ? "pod-reader" : "deployer",
                                          [F.user("user-\(n)-\(i)"), F.group("group-\(i)"), F.serviceAccount(nil, "sa-\(i)")]))
            }
        }
        let policy = RBACPolicy(
            clusterRoles: [F.clusterRole("pod-reader", [F.rule(["get", "list"], [""], ["pods"])]),
                           F.clusterRole("deployer", [F.rule(["create"], ["apps"], ["deployments"])])],
            roleBindings: bindings)
        let authorizer = RBACAuthorizer(policy: policy)

        #expect(policy.roleBindings(in: "ns-57").count == 10)
        #expect(policy.roleBindingCandidates(for: Self.u("user-57-4"), namespace: "ns-57").map { $0.metadata?.name } == ["b-4"])
        #expect(policy.roleBindingCandidates(for: Self.u("user-57-4"), namespace: "ns-58").isEmpty)
        #expect(policy.roleBindingCandidates(for: Self.u("x", ["group-3", "group-5"]), namespace: "ns-9").map { $0.metadata?.name } == ["b-3", "b-5"])

        #expect(authorizer.authorize(F.request(Self.u("user-57-4"), "list", "pods", namespace: "ns-57")).isAllowed)
        #expect(!authorizer.authorize(F.request(Self.u("user-57-4"), "list", "pods", namespace: "ns-58")).isAllowed)
        #expect(!authorizer.authorize(F.request(Self.u("user-57-4"), "list", "pods")).isAllowed)
        #expect(!authorizer.authorize(F.request(Self.u("user-57-5"), "list", "pods", namespace: "ns-57")).isAllowed)
        #expect(authorizer.authorize(F.request(Self.u("user-57-5"), "create", "deployments", group: "apps", namespace: "ns-57")).isAllowed)
        #expect(authorizer.authorize(F.request(Self.u("x", ["group-2"]), "get", "pods", namespace: "ns-99", name: "p")).isAllowed)
        #expect(authorizer.authorize(F.request(Self.u("system:serviceaccount:ns-3:sa-6"), "get", "pods", namespace: "ns-3")).isAllowed)
        #expect(!authorizer.authorize(F.request(Self.u("system:serviceaccount:ns-3:sa-6"), "get", "pods", namespace: "ns-4")).isAllowed)
    }
}

/// The clusterrole-aggregation controller's union.
@Suite struct ClusterRoleAggregationTests {
    typealias F = RBACFixtures

    static let r1 = F.rule(["get"], [""], ["pods"])
    static let r2 = F.rule(["list"], [""], ["pods"])
    static let r3 = F.rule(["get"], ["apps"], ["deployments"])
    static let r4 = F.rule(["delete"], [""], ["secrets"])
    static let selector = [LabelSelector(matchLabels: ["agg": "true"])]

    @Test func unionInNameOrderWithoutDuplicatesOrItself() throws {
        let roles = [
            F.clusterRole("monitoring", [Self.r4], labels: ["agg": "true"], aggregate: Self.selector),
            F.clusterRole("b-role", [Self.r2, Self.r1], labels: ["agg": "true"]),
            F.clusterRole("a-role", [Self.r1, Self.r3], labels: ["agg": "true"]),
            F.clusterRole("c-role", [Self.r4], labels: ["agg": "false"]),
        ]
        let rules = try ClusterRoleAggregation.aggregatedRules(for: roles[0], in: roles)
        #expect(rules == [Self.r1, Self.r3, Self.r2])
        let aggregated = ClusterRoleAggregation.aggregate(roles)
        #expect(aggregated[0].rules == [Self.r1, Self.r3, Self.r2])
        #expect(Array(aggregated[1...]) == Array(roles[1...]))
        #expect(try ClusterRoleAggregation.aggregatedRules(for: roles[1], in: roles) == nil)
    }

    @Test func selectorsInOrderAndEmptyListsEqualMissingOnes() throws {
        let withEmptyNames = PolicyRule(apiGroups: [""], resourceNames: [], resources: ["pods"], verbs: ["get"])
        let roles = [
            F.clusterRole("agg", nil, aggregate: [LabelSelector(matchLabels: ["second": "x"]), LabelSelector(matchLabels: ["first": "x"])]),
            F.clusterRole("a", [withEmptyNames], labels: ["first": "x"]),
            F.clusterRole("z", [Self.r1, Self.r2], labels: ["second": "x"]),
        ]
        #expect(try ClusterRoleAggregation.aggregatedRules(for: roles[0], in: roles) == [Self.r1, Self.r2])
    }

    @Test func nestedAggregatesSettle() {
        let roles = [
            F.clusterRole("top", nil, aggregate: [LabelSelector(matchLabels: ["to-top": "true"])]),
            F.clusterRole("middle", nil, labels: ["to-top": "true"], aggregate: [LabelSelector(matchLabels: ["to-middle": "true"])]),
            F.clusterRole("leaf", [Self.r3], labels: ["to-middle": "true"]),
            F.clusterRole("other", [Self.r4], labels: ["to-top": "true"]),
        ]
        let aggregated = ClusterRoleAggregation.aggregate(roles)
        #expect(aggregated[1].rules == [Self.r3])
        #expect(aggregated[0].rules == [Self.r3, Self.r4])
    }

    @Test func badSelectorLeavesTheRole() {
        let bad = LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "agg", operator: "Near", values: ["x"])])
        let roles = [F.clusterRole("agg", [Self.r4], aggregate: [bad]), F.clusterRole("a", [Self.r1], labels: ["agg": "x"])]
        #expect(throws: (any Error).self) { try ClusterRoleAggregation.aggregatedRules(for: roles[0], in: roles) }
        #expect(ClusterRoleAggregation.aggregate(roles)[0].rules == [Self.r4])
    }

    @Test func noMatchesEmptiesTheRules() {
        let roles = [F.clusterRole("agg", [Self.r4], aggregate: Self.selector)]
        #expect(ClusterRoleAggregation.aggregate(roles)[0].rules == nil)
    }
}

/// kube-apiserver's default policy, aggregated, as a fresh cluster has it.
@Suite struct BootstrapPolicyTests {
    typealias F = RBACFixtures

    static let master = UserInfo(name: "kubernetes-admin", groups: ["system:masters", "system:authenticated"])
    static let jane = UserInfo(name: "jane", groups: ["system:authenticated"])
    static let anonymous = UserInfo(name: "system:anonymous", groups: ["system:unauthenticated"])
    static let viewer = UserInfo(name: "vic", groups: ["system:authenticated"])
    static let editor = UserInfo(name: "ed", groups: ["system:authenticated"])
    static let admin = UserInfo(name: "ada", groups: ["system:authenticated"])

    /// The default policy plus `view`, `edit` and `admin` bound in namespace `dev`.
    static let authorizer: RBACAuthorizer = {
        let bindings = [
            F.binding("dev", "viewers", kind: "ClusterRole", to: "view", [F.user("vic")]),
            F.binding("dev", "editors", kind: "ClusterRole", to: "edit", [F.user("ed")]),
            F.binding("dev", "admins", kind: "ClusterRole", to: "admin", [F.user("ada")]),
        ]
        return RBACAuthorizer(policy: RBACPolicy(
            roles: BootstrapPolicy.namespaceRoles,
            clusterRoles: ClusterRoleAggregation.aggregate(BootstrapPolicy.clusterRoles),
            roleBindings: BootstrapPolicy.namespaceRoleBindings + bindings,
            clusterRoleBindings: BootstrapPolicy.clusterRoleBindings))
    }()

    static let decisions: [(AuthorizationAttributes, Bool)] = [
        // system:masters may do anything, anywhere.
        (F.request(master, "delete", "secrets", namespace: "kube-system", name: "x"), true),
        (F.request(master, "escalate", "clusterroles", group: "rbac.authorization.k8s.io", name: "admin"), true),
        (F.request(master, "create", "widgets", group: "example.com", sub: "status", namespace: "a"), true),
        (F.path(master, "post", "/anything/at/all"), true),
        // Any authenticated user: discovery, health, version, self reviews; no resources.
        (F.path(jane, "get", "/version"), true),
        (F.path(jane, "get", "/apis"), true),
        (F.path(jane, "get", "/apis/apps/v1"), true),
        (F.path(jane, "get", "/api/v1"), true),
        (F.path(jane, "get", "/openapi/v3"), true),
        (F.path(jane, "get", "/healthz"), true),
        (F.path(jane, "post", "/version"), false),
        (F.path(jane, "get", "/metrics"), false),
        (F.request(jane, "list", "pods", namespace: "default"), false),
        (F.request(jane, "list", "pods"), false),
        (F.request(jane, "create", "selfsubjectaccessreviews", group: "authorization.k8s.io"), true),
        (F.request(jane, "create", "selfsubjectrulesreviews", group: "authorization.k8s.io"), true),
        (F.request(jane, "create", "selfsubjectreviews", group: "authentication.k8s.io"), true),
        // Anonymous: public info only.
        (F.path(anonymous, "get", "/version"), true),
        (F.path(anonymous, "get", "/readyz"), true),
        (F.path(anonymous, "get", "/apis"), false),
        (F.request(anonymous, "create", "selfsubjectaccessreviews", group: "authorization.k8s.io"), false),
        // view, through a RoleBinding in dev.
        (F.request(viewer, "get", "pods", namespace: "dev", name: "p"), true),
        (F.request(viewer, "list", "deployments", group: "apps", namespace: "dev"), true),
        (F.request(viewer, "get", "pods", sub: "log", namespace: "dev", name: "p"), true),
        (F.request(viewer, "get", "secrets", namespace: "dev", name: "s"), false),
        (F.request(viewer, "create", "pods", namespace: "dev"), false),
        (F.request(viewer, "get", "pods", namespace: "prod", name: "p"), false),
        // edit: view plus writes, secrets, exec; no RBAC.
        (F.request(editor, "create", "deployments", group: "apps", namespace: "dev"), true),
        (F.request(editor, "get", "pods", namespace: "dev", name: "p"), true),
        (F.request(editor, "get", "secrets", namespace: "dev", name: "s"), true),
        (F.request(editor, "create", "pods", sub: "exec", namespace: "dev", name: "p"), true),
        (F.request(editor, "create", "roles", group: "rbac.authorization.k8s.io", namespace: "dev"), false),
        (F.request(editor, "create", "deployments", group: "apps", namespace: "prod"), false),
        // admin: edit plus Roles and RoleBindings.
        (F.request(admin, "create", "rolebindings", group: "rbac.authorization.k8s.io", namespace: "dev"), true),
        (F.request(admin, "update", "deployments", group: "apps", sub: "scale", namespace: "dev", name: "web"), true),
        (F.request(admin, "update", "resourcequotas", namespace: "dev", name: "q"), false),
        // Components.
        (F.request(UserInfo(name: "system:kube-scheduler", groups: []), "create", "pods", sub: "binding", namespace: "a", name: "p"), true),
        (F.request(UserInfo(name: "system:kube-scheduler", groups: []), "update", "persistentvolumes", name: "pv"), true),
        (F.request(UserInfo(name: "system:kube-proxy", groups: []), "list", "endpointslices", group: "discovery.k8s.io"), true),
        (F.request(UserInfo(name: "system:serviceaccount:kube-system:kube-dns", groups: []), "watch", "services"), true),
        (F.request(UserInfo(name: "system:kube-controller-manager", groups: []), "watch", "anything", group: "any.group"), true),
        (F.request(UserInfo(name: "system:serviceaccount:kube-system:bootstrap-signer", groups: []), "update", "configmaps",
                   namespace: "kube-public", name: "cluster-info"), true),
        (F.request(UserInfo(name: "system:serviceaccount:kube-system:bootstrap-signer", groups: []), "update", "configmaps",
                   namespace: "kube-public", name: "other"), false),
        (F.path(UserInfo(name: "system:serviceaccount:a:b", groups: ["system:serviceaccounts"]), "get", "/openid/v1/jwks"), true),
        (F.path(UserInfo(name: "prom", groups: ["system:monitoring"]), "get", "/metrics"), true),
        // The system:node binding has no subjects (the Node authorizer decides for nodes).
        (F.request(UserInfo(name: "system:node:n1", groups: ["system:nodes"]), "get", "pods", namespace: "a", name: "p"), false),
    ]

    @Test(arguments: decisions)
    func decides(request: AuthorizationAttributes, allowed: Bool) {
        #expect(Self.authorizer.authorize(request).isAllowed == allowed)
    }

    @Test func everyObjectIsMarkedAsADefault() {
        let metas = BootstrapPolicy.clusterRoles.map(\.metadata) + BootstrapPolicy.clusterRoleBindings.map(\.metadata)
            + BootstrapPolicy.namespaceRoles.map(\.metadata) + BootstrapPolicy.namespaceRoleBindings.map(\.metadata)
        #expect(metas.count > 40)
        for meta in metas {
            #expect(meta?.labels?["kubernetes.io/bootstrapping"] == "rbac-defaults")
            #expect(meta?.annotations?["rbac.authorization.kubernetes.io/autoupdate"] == "true")
        }
    }

    static let requiredRoles = [
        "cluster-admin", "admin", "edit", "view", "system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view",
        "system:basic-user", "system:discovery", "system:public-info-viewer", "system:node", "system:node-proxier",
        "system:node-bootstrapper", "system:kube-scheduler", "system:kube-controller-manager", "system:auth-delegator",
        "system:monitoring", "system:service-account-issuer-discovery",
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:volume-scheduler", "system:kube-dns",
    ]

    @Test(arguments: requiredRoles)
    func defaultClusterRoleExists(name: String) {
        let names = BootstrapPolicy.clusterRoles.compactMap { $0.metadata?.name }
        #expect(names.contains(name))
        #expect(names.filter { $0 == name }.count == 1)
    }

    @Test func everyBindingReferencesADefaultRole() {
        let policy = BootstrapPolicy.policy
        for binding in BootstrapPolicy.clusterRoleBindings {
            #expect(policy.clusterRole(named: binding.roleRef?.name ?? "") != nil, "\(binding.metadata?.name ?? "")")
        }
        for binding in BootstrapPolicy.namespaceRoleBindings {
            let ns = binding.metadata?.namespace ?? ""
            #expect(policy.role(namespace: ns, name: binding.roleRef?.name ?? "") != nil, "\(ns)/\(binding.metadata?.name ?? "")")
        }
    }

    @Test func aggregatedRolesNest() throws {
        let policy = BootstrapPolicy.policy
        let view = try #require(policy.clusterRole(named: "view")?.rules)
        let edit = try #require(policy.clusterRole(named: "edit")?.rules)
        let admin = try #require(policy.clusterRole(named: "admin")?.rules)
        #expect(RBACEscalation.uncoveredRules(owner: edit, requested: view).isEmpty)
        #expect(RBACEscalation.uncoveredRules(owner: admin, requested: edit).isEmpty)
        #expect(!RBACEscalation.uncoveredRules(owner: view, requested: edit).isEmpty)
        #expect(!RBACEscalation.uncoveredRules(owner: edit, requested: admin).isEmpty)
        // Before aggregation the three are empty.
        #expect(BootstrapPolicy.clusterRoles.first { $0.metadata?.name == "view" }?.rules == nil)
    }

    @Test func bindingsAsKubernetesCreatesThem() throws {
        let bindings = Dictionary(uniqueKeysWithValues: BootstrapPolicy.clusterRoleBindings.map { ($0.metadata?.name ?? "", $0) })
        #expect(bindings["cluster-admin"]?.subjects == [F.group("system:masters")])
        #expect(bindings["system:discovery"]?.subjects == [F.group("system:authenticated")])
        #expect(bindings["system:basic-user"]?.subjects == [F.group("system:authenticated")])
        #expect(bindings["system:public-info-viewer"]?.subjects == [F.group("system:authenticated"), F.group("system:unauthenticated")])
        #expect(bindings["system:kube-dns"]?.subjects == [F.serviceAccount("kube-system", "kube-dns")])
        #expect(bindings["system:node"]?.subjects == nil)
        #expect(bindings["system:node"]?.roleRef == RoleRef(apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:node"))
    }
}
