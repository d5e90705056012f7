import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Privilege-escalation prevention: coverage of broken-down rules and kube's message.
@Suite struct RBACEscalationTests {
    typealias F = RBACFixtures

    static let clusterAdmin = [F.rule(["*"], ["*"], ["*"]), F.urls(["*"], ["*"])]

    /// (owner rules, requested rules, the uncovered broken-down rules)
    static let coverage: [([PolicyRule], [PolicyRule], [PolicyRule])] = [
        ([F.rule(["get"], [""], ["pods"])], [F.rule(["get"], [""], ["pods"])], []),
        ([F.rule(["get"], [""], ["pods"])], [F.rule(["list"], [""], ["pods"])], [F.rule(["list"], [""], ["pods"])]),
        ([F.rule(["get"], [""], ["pods"])], [F.rule(["get", "list"], [""], ["pods", "services"])],
         [F.rule(["list"], [""], ["pods"]), F.rule(["get"], [""], ["services"]), F.rule(["list"], [""], ["services"])]),
        (clusterAdmin, [F.rule(["*"], ["*"], ["*"]), F.rule(["escalate"], ["rbac.authorization.k8s.io"], ["clusterroles"], names: ["x"]),
                        F.urls(["*"], ["*", "/metrics"])], []),
        ([F.rule(["get"], [""], ["pods"])], [F.rule(["get"], ["apps"], ["pods"])], [F.rule(["get"], ["apps"], ["pods"])]),
        ([F.rule(["get"], ["*"], ["pods"])], [F.rule(["get"], ["apps", ""], ["pods"])], []),
        ([F.rule(["get", "list"], [""], ["pods"])], [F.rule(["*"], [""], ["pods"])], [F.rule(["*"], [""], ["pods"])]),
        // resourceNames narrow: an owner limited to names covers only those names.
        ([F.rule(["get"], [""], ["secrets"], names: ["a"])], [F.rule(["get"], [""], ["secrets"])], [F.rule(["get"], [""], ["secrets"])]),
        ([F.rule(["get"], [""], ["secrets"], names: ["a"])], [F.rule(["get"], [""], ["secrets"], names: ["a", "b"])],
         [F.rule(["get"], [""], ["secrets"], names: ["b"])]),
        ([F.rule(["get"], [""], ["secrets"])], [F.rule(["get"], [""], ["secrets"], names: ["a", "b"])], []),
        // Subresources.
        ([F.rule(["update"], ["apps"], ["*/scale"])], [F.rule(["update"], ["apps"], ["deployments/scale", "statefulsets/scale"])], []),
        ([F.rule(["update"], ["apps"], ["*/scale"])], [F.rule(["update"], ["apps"], ["deployments"])], [F.rule(["update"], ["apps"], ["deployments"])]),
        ([F.rule(["get"], [""], ["pods"])], [F.rule(["get"], [""], ["pods/log"])], [F.rule(["get"], [""], ["pods/log"])]),
        ([F.rule(["get"], [""], ["*"])], [F.rule(["get"], [""], ["pods/log", "nodes"])], []),
        // Non-resource URLs.
        ([F.urls(["get"], ["/apis/*"])], [F.urls(["get"], ["/apis/apps", "/api"])], [F.urls(["get"], ["/api"])]),
        ([F.urls(["get"], ["/healthz"])], [F.urls(["get"], ["/healthz"])], []),
        ([F.rule(["*"], ["*"], ["*"])], [F.urls(["get"], ["/version"])], [F.urls(["get"], ["/version"])]),
    ]

    @Test(arguments: coverage)
    func uncovered(owner: [PolicyRule], requested: [PolicyRule], expected: [PolicyRule]) {
        #expect(RBACEscalation.uncoveredRules(owner: owner, requested: requested) == expected)
    }

    @Test func breakdownIsAtomic() {
        let rule = PolicyRule(apiGroups: ["", "apps"], nonResourceURLs: ["/a", "/b"], resourceNames: ["x", "y"],
                              resources: ["pods", "deployments"], verbs: ["get", "list", "watch"])
        let parts = RBACEscalation.breakdown(rule)
        #expect(parts.count == 2 * 2 * 3 * 2 + 2 * 3)
        #expect(parts.first == F.rule(["get"], [""], ["pods"], names: ["x"]))
        #expect(parts.last == F.urls(["watch"], ["/b"]))
        #expect(parts.allSatisfy { ($0.verbs ?? []).count == 1 && ($0.resources ?? []).count <= 1 && ($0.resourceNames ?? []).count <= 1 })
    }

    @Test func compactMergesVerbsPerGroupResourceAndName() {
        let compacted = RBACEscalation.compact([
            F.rule(["get"], [""], ["pods"]), F.rule(["get"], [""], ["secrets"], names: ["a"]), F.urls(["get"], ["/x"]),
            F.rule(["list"], [""], ["pods"]), F.rule(["list"], [""], ["secrets"], names: ["b"]), F.rule(["watch"], [""], ["pods"]),
        ])
        #expect(compacted == [
            F.urls(["get"], ["/x"]), F.rule(["get", "list", "watch"], [""], ["pods"]),
            F.rule(["get"], [""], ["secrets"], names: ["a"]), F.rule(["list"], [""], ["secrets"], names: ["b"]),
        ])
    }

    static let strings: [(PolicyRule, String)] = [
        (F.rule(["get"], [""], ["pods"]), #"{APIGroups:[""], Resources:["pods"], Verbs:["get"]}"#),
        (F.rule(["get", "list"], ["apps"], ["deployments"], names: ["web"]),
         #"{APIGroups:["apps"], Resources:["deployments"], ResourceNames:["web"], Verbs:["get" "list"]}"#),
        (F.urls(["get"], ["/metrics"]), #"{NonResourceURLs:["/metrics"], Verbs:["get"]}"#),
        (PolicyRule(), "{}"),
    ]

    @Test(arguments: strings)
    func compactString(rule: PolicyRule, expected: String) {
        #expect(RBACEscalation.compactString(rule) == expected)
    }

    @Test func messageAsKubernetesWordsIt() {
        let user = UserInfo(name: "alice", groups: ["devs", "system:authenticated"])
        let uncovered = RBACEscalation.uncoveredRules(
            owner: [F.rule(["get"], [""], ["pods"])],
            requested: [F.rule(["create"], ["apps"], ["deployments"]), F.rule(["get", "list", "watch"], [""], ["pods"]), F.urls(["get"], ["/metrics"])])
        #expect(RBACEscalation.message(user: user, uncovered: uncovered) == """
            user "alice" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
            {APIGroups:[""], Resources:["pods"], Verbs:["list" "watch"]}
            {APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]}
            {NonResourceURLs:["/metrics"], Verbs:["get"]}
            """)
        let nobody = UserInfo(name: "bob", groups: [])
        #expect(RBACEscalation.message(user: nobody, uncovered: [F.rule(["get"], [""], ["secrets"])],
                                       resolutionErrors: [RBACResolutionError(#"clusterrole.rbac.authorization.k8s.io "gone" not found"#)]) == """
            user "bob" (groups=[]) is attempting to grant RBAC permissions not currently held:
            {APIGroups:[""], Resources:["secrets"], Verbs:["get"]}; resolution errors: [clusterrole.rbac.authorization.k8s.io "gone" not found]
            """)
    }

    static let policy = RBACPolicy(
        roles: [F.role("team", "pod-reader", [F.rule(["get", "list"], [""], ["pods"])])],
        clusterRoles: [F.clusterRole("config-reader", [F.rule(["get"], [""], ["configmaps"])])],
        roleBindings: [F.binding("team", "readers", to: "pod-reader", [F.user("alice")])],
        clusterRoleBindings: [F.clusterBinding("config", to: "config-reader", [F.group("devs")]),
                              F.clusterBinding("broken", to: "gone", [F.user("alice")])])

    @Test func ownerRulesAreTheUsersRulesInTheNamespace() {
        let alice = UserInfo(name: "alice", groups: ["devs"])
        let (inTeam, errors) = RBACEscalation.ownerRules(user: alice, namespace: "team", policy: Self.policy)
        #expect(inTeam == [F.rule(["get"], [""], ["configmaps"]), F.rule(["get", "list"], [""], ["pods"])])
        #expect(errors == [RBACResolutionError(#"clusterrole.rbac.authorization.k8s.io "gone" not found"#)])
        #expect(RBACEscalation.ownerRules(user: alice, namespace: "", policy: Self.policy).rules == [F.rule(["get"], [""], ["configmaps"])])
    }

    /// (namespace, requested rules, whether the write is refused)
    static let confirmations: [(String, [PolicyRule], Bool)] = [
        ("team", [F.rule(["get"], [""], ["pods"])], false),
        ("team", [F.rule(["list"], [""], ["pods"]), F.rule(["get"], [""], ["configmaps"], names: ["c"])], false),
        ("team", [F.rule(["delete"], [""], ["pods"])], true),
        ("other", [F.rule(["get"], [""], ["pods"])], true),
        ("", [F.rule(["get"], [""], ["configmaps"])], false),
        ("", [F.rule(["get"], [""], ["pods"])], true),
    ]

    @Test(arguments: confirmations)
    func confirmNoEscalation(namespace: String, requested: [PolicyRule], refused: Bool) {
        let alice = UserInfo(name: "alice", groups: ["devs"])
        let message = RBACEscalation.confirmNoEscalation(user: alice, namespace: namespace, requested: requested, policy: Self.policy)
        #expect((message != nil) == refused)
        if let message {
            #expect(message.hasPrefix(#"user "alice" (groups=["devs"]) is attempting to grant RBAC permissions not currently held:"#))
            #expect(message.hasSuffix(#"; resolution errors: [clusterrole.rbac.authorization.k8s.io "gone" not found]"#))
        }
    }

    @Test func exemptions() throws {
        #expect(RBACEscalation.escalationAllowed(UserInfo(name: "admin", groups: ["system:masters"])))
        #expect(!RBACEscalation.escalationAllowed(UserInfo(name: "system:masters", groups: ["system:authenticated"])))

        let bob = UserInfo(name: "bob", groups: [])
        let escalate = RBACEscalation.escalateAttributes(user: bob, resource: "roles", namespace: "team", name: "r")
        #expect(escalate.verb == "escalate" && escalate.isResourceRequest && escalate.apiGroup == "rbac.authorization.k8s.io")
        #expect(escalate.resource == "roles" && escalate.namespace == "team" && escalate.name == "r")

        let ref = RoleRef(apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view")
        let bind = try #require(RBACEscalation.bindAttributes(user: bob, roleRef: ref, bindingNamespace: "team"))
        #expect(bind.verb == "bind" && bind.resource == "clusterroles" && bind.name == "view" && bind.namespace == "team")
        #expect(RBACEscalation.bindAttributes(user: bob, roleRef: RoleRef(kind: "Group", name: "x"), bindingNamespace: "") == nil)

        // A user allowed to bind `view` (only) in team may bind it there, and nothing else.
        let policy = RBACPolicy(
            roles: [F.role("team", "binder", [F.rule(["bind"], ["rbac.authorization.k8s.io"], ["clusterroles"], names: ["view"])])],
            roleBindings: [F.binding("team", "binder", to: "binder", [F.user("bob")])])
        let authorizer = RBACAuthorizer(policy: policy)
        #expect(authorizer.authorize(bind).isAllowed)
        let adminRef = RoleRef(apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin")
        let bindAdmin = try #require(RBACEscalation.bindAttributes(user: bob, roleRef: adminRef, bindingNamespace: "team"))
        let bindElsewhere = try #require(RBACEscalation.bindAttributes(user: bob, roleRef: ref, bindingNamespace: "prod"))
        #expect(!authorizer.authorize(bindAdmin).isAllowed)
        #expect(!authorizer.authorize(bindElsewhere).isAllowed)
    }
}
