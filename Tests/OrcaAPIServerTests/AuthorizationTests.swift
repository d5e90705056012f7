import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import OrcaAPI
import OrcaPKI
import OrcaStore
import Testing
@testable import OrcaAPIServer

/// Requests through the real `APIHandler` with the default RBAC policy, the Node authorizer,
/// NodeRestriction and escalation checks, and ServiceAccount tokens: who may do what, the
/// 403 messages, the review APIs and TokenRequest.
struct AuthorizationTests {
    /// A handler over a registry with the admission chain and policy `orca server` uses.
    struct Server {
        let cluster: TestCluster
        let rbac = RBACPolicyStore()
        let handler: APIHandler
        let tokens: ServiceAccountTokens
        var registry: Registry { cluster.registry }
        static let adminToken = "admin-token"
        static let bobToken = "bob-token"
        static let nodeToken = "node-token"

        init() async throws {
            let rbac = self.rbac
            let authorizer = RequestAuthorizer(rbac: rbac)
            cluster = try await TestCluster(namespaces: ["default", "kube-system", "kube-public", "kube-node-lease", "other"],
                                            admission: AdmissionChain([NodeRestriction(), RBACEscalationCheck(authorizer: authorizer)]))
            try await RBACBootstrap.ensure(registry: cluster.registry)
            tokens = try ServiceAccountTokens(key: try ServiceAccountSigningKey.generate(), registry: cluster.registry, externalAddress: nil)
            let users: [String: UserInfo] = [
                Self.adminToken: UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"]),
                Self.bobToken: UserInfo(name: "bob", groups: ["system:authenticated"]),
                Self.nodeToken: UserInfo(name: "system:node:n1", groups: ["system:nodes", "system:authenticated"]),
            ]
            handler = APIHandler(registry: cluster.registry, discovery: Discovery(served: cluster.registry.served, serverAddress: "127.0.0.1:6443"),
                                 openapi: OpenAPIDocuments(catalog: .standard),
                                 authenticator: Authenticator(tokens: users, serviceAccounts: tokens.authenticator, clock: { TestCluster.start }),
                                 authorizer: authorizer, serviceAccountTokens: tokens)
            try await sync()
        }

        /// Loads the RBAC objects into the policy, as the controller does after each change.
        func sync() async throws {
            try await RBACPolicyController(registry: registry, store: rbac).sync()
        }

        struct Reply {
            var status: Int
            var body: JSONValue
            var message: String { body["message"]?.stringValue ?? "" }
        }

        func send(_ method: HTTPRequest.Method, _ path: String, token: String, body: JSONValue? = nil,
                  contentType: String = "application/json", headers extra: HTTPFields = [:]) async throws -> Reply {
            var headers: HTTPFields = [.authorization: "Bearer \(token)"]
            headers.append(contentsOf: extra)
            if body != nil { headers[.contentType] = contentType }
            let head = HTTPRequest(method: method, scheme: "https", authority: "127.0.0.1:6443", path: path, headerFields: headers)
            let context = APIServerContext(source: ApplicationRequestContextSource(
                channel: NIOAsyncTestingChannel(), logger: Logger(label: "authorization-test")))
            let requestBody = RequestBody(buffer: ByteBuffer(bytes: body?.encoded() ?? []))
            let response = try await handler.respond(to: Request(head: head, body: requestBody), context: context)
            let sink = BodySink()
            try await response.body.write(BodyCollector(sink: sink))
            return Reply(status: response.status.code, body: sink.bytes.isEmpty ? .null : try JSONValue.parse(sink.bytes))
        }

        /// A ServiceAccount and a token for it.
        func serviceAccountToken(_ name: String, namespace: String = "default") async throws -> String {
            _ = try await registry.create(cluster.r("serviceaccounts"), namespace: namespace, object: ["metadata": ["name": .string(name)]])
            let reply = try await send(.post, "/api/v1/namespaces/\(namespace)/serviceaccounts/\(name)/token", token: Self.adminToken,
                                       body: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": [:]])
            #expect(reply.status == 201)
            return try #require(reply.body[path: ["status", "token"]]?.stringValue)
        }
    }

    @Test func aServiceAccountWithoutABindingIsForbiddenUntilARoleBindingGrantsIt() async throws {
        let s = try await Server()
        let token = try await s.serviceAccountToken("bot")
        let denied = try await s.send(.get, "/api/v1/namespaces/default/pods", token: token)
        #expect(denied.status == 403)
        #expect(denied.message == "pods is forbidden: User \"system:serviceaccount:default:bot\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"")
        #expect(denied.body["reason"] == "Forbidden")

        let binding: JSONValue = [
            "metadata": ["name": "bot-view"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"],
            "subjects": [["kind": "ServiceAccount", "name": "bot", "namespace": "default"]],
        ]
        #expect(try await s.send(.post, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", token: Server.adminToken,
                                 body: binding).status == 201)
        try await s.sync()
        #expect(try await s.send(.get, "/api/v1/namespaces/default/pods", token: token).status == 200)
        // Only in that namespace, and only reading.
        #expect(try await s.send(.get, "/api/v1/namespaces/other/pods", token: token).status == 403)
        #expect(try await s.send(.get, "/api/v1/namespaces/default/secrets", token: token).status == 403)
        let create = try await s.send(.post, "/api/v1/namespaces/default/configmaps", token: token, body: ["metadata": ["name": "x"]])
        #expect(create.status == 403)
    }

    @Test func impersonationActsAsTheNamedUserOnceTheRequesterMayImpersonateThem() async throws {
        let s = try await Server()
        func impersonating(_ user: String, groups: [String] = []) -> HTTPFields {
            var fields: HTTPFields = [HTTPField.Name("Impersonate-User")!: user]
            for group in groups { fields.append(HTTPField(name: HTTPField.Name("Impersonate-Group")!, value: group)) }
            return fields
        }
        // system:masters may act as anyone, and is then held to that user's rights.
        let asBob = try await s.send(.get, "/api/v1/namespaces/default/pods", token: Server.adminToken, headers: impersonating("bob"))
        #expect(asBob.status == 403)
        #expect(asBob.message.hasPrefix("pods is forbidden: User \"bob\" cannot list"))
        let whoami: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"]
        let asBot = try await s.send(.post, "/apis/authentication.k8s.io/v1/selfsubjectreviews", token: Server.adminToken, body: whoami,
                                     headers: impersonating("system:serviceaccount:default:bot"))
        #expect(asBot.body[path: ["status", "userInfo", "username"]] == "system:serviceaccount:default:bot")
        #expect(asBot.body[path: ["status", "userInfo", "groups"]] == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"])

        // Others need `impersonate` on each name they ask for.
        let denied = try await s.send(.get, "/api", token: Server.bobToken, headers: impersonating("alice"))
        #expect(denied.status == 403)
        #expect(denied.message == "users \"alice\" is forbidden: User \"bob\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope")
        let role: JSONValue = ["metadata": ["name": "impersonate-alice"],
                               "rules": [["apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["alice"]]]]
        let binding: JSONValue = ["metadata": ["name": "bob-impersonates-alice"],
                                  "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonate-alice"],
                                  "subjects": [["kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"]]]
        #expect(try await s.send(.post, "/apis/rbac.authorization.k8s.io/v1/clusterroles", token: Server.adminToken, body: role).status == 201)
        #expect(try await s.send(.post, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", token: Server.adminToken, body: binding).status == 201)
        try await s.sync()
        let asAlice = try await s.send(.post, "/apis/authentication.k8s.io/v1/selfsubjectreviews", token: Server.bobToken, body: whoami,
                                       headers: impersonating("alice"))
        #expect(asAlice.body[path: ["status", "userInfo", "username"]] == "alice")
        #expect(asAlice.body[path: ["status", "userInfo", "groups"]] == ["system:authenticated"])
        // A group is a name of its own to be allowed.
        let asAdmins = try await s.send(.get, "/api", token: Server.bobToken, headers: impersonating("alice", groups: ["system:masters"]))
        #expect(asAdmins.status == 403)
        #expect(asAdmins.message.hasPrefix("groups \"system:masters\" is forbidden: User \"bob\" cannot impersonate resource \"groups\""))
        // Groups without a user are refused.
        let groupOnly = try await s.send(.get, "/api", token: Server.adminToken,
                                         headers: [HTTPField.Name("Impersonate-Group")!: "system:masters"])
        #expect(groupOnly.status == 500)
        #expect(groupOnly.message.contains("requested [group system:masters] without impersonating a user"))
    }

    @Test func forgedAndUnknownTokensAre401() async throws {
        let s = try await Server()
        let token = try await s.serviceAccountToken("bot")
        var forged = Array(token)
        forged[forged.count - 3] = forged[forged.count - 3] == "A" ? "B" : "A"
        #expect(try await s.send(.get, "/api", token: String(forged)).status == 401)
        #expect(try await s.send(.get, "/api", token: "not-a-token").status == 401)
        // Discovery is open to every authenticated user.
        #expect(try await s.send(.get, "/api", token: token).status == 200)
        // A deleted ServiceAccount's tokens stop working.
        _ = try await s.registry.delete(s.cluster.r("serviceaccounts"), namespace: "default", name: "bot")
        #expect(try await s.send(.get, "/api", token: token).status == 401)
    }

    @Test func reviewsAnswerWhoMayDoWhat() async throws {
        let s = try await Server()
        let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                 "spec": ["resourceAttributes": ["verb": "list", "resource": "pods", "namespace": "default"]]]
        let bob = try await s.send(.post, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", token: Server.bobToken, body: review)
        #expect(bob.status == 201)
        #expect(bob.body[path: ["status", "allowed"]] == false)
        let admin = try await s.send(.post, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", token: Server.adminToken, body: review)
        #expect(admin.body[path: ["status", "allowed"]] == true)

        // SubjectAccessReview asks for someone else; bob may not ask.
        let sar: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                              "spec": ["user": "bob", "nonResourceAttributes": ["verb": "get", "path": "/version"]]]
        let asked = try await s.send(.post, "/apis/authorization.k8s.io/v1/subjectaccessreviews", token: Server.adminToken, body: sar)
        #expect(asked.body[path: ["status", "allowed"]] == false)
        var withGroup = sar
        withGroup[path: ["spec", "groups"]] = ["system:authenticated"]
        let allowed = try await s.send(.post, "/apis/authorization.k8s.io/v1/subjectaccessreviews", token: Server.adminToken, body: withGroup)
        #expect(allowed.body[path: ["status", "allowed"]] == true)
        #expect(try await s.send(.post, "/apis/authorization.k8s.io/v1/subjectaccessreviews", token: Server.bobToken, body: sar).status == 403)
        // Neither or both kinds of attributes: 422.
        let neither: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": [:]]
        #expect(try await s.send(.post, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", token: Server.bobToken, body: neither).status == 422)

        // Rules and identity.
        let rules = try await s.send(.post, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", token: Server.bobToken,
                                     body: ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": ["namespace": "default"]])
        let resources = (rules.body[path: ["status", "resourceRules"]]?.arrayValue ?? []).flatMap { $0["resources"]?.arrayValue ?? [] }
        #expect(resources.contains("selfsubjectaccessreviews"))
        #expect(!resources.contains("pods"))
        let whoami = try await s.send(.post, "/apis/authentication.k8s.io/v1/selfsubjectreviews", token: Server.bobToken,
                                      body: ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
        #expect(whoami.body[path: ["status", "userInfo", "username"]] == "bob")
        // Reviews are never stored: there is nothing to get or list.
        #expect(try await s.send(.get, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", token: Server.adminToken).status == 405)
    }

    @Test func tokenReviewsTellValidFromInvalid() async throws {
        let s = try await Server()
        let token = try await s.serviceAccountToken("bot")
        func review(_ t: String) async throws -> JSONValue {
            try await s.send(.post, "/apis/authentication.k8s.io/v1/tokenreviews", token: Server.adminToken,
                             body: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": ["token": .string(t)]]).body
        }
        let good = try await review(token)
        #expect(good[path: ["status", "authenticated"]] == true)
        #expect(good[path: ["status", "user", "username"]] == "system:serviceaccount:default:bot")
        let bad = try await review("nonsense")
        #expect(bad[path: ["status", "authenticated"]] == false)
        #expect(bad[path: ["status", "error"]] != nil)
    }

    @Test func grantingWhatOneDoesNotHoldIsRefusedUnlessOneMayEscalateOrBind() async throws {
        let s = try await Server()
        // bob may manage Roles and RoleBindings in default, and read pods.
        let rules: JSONValue = [
            ["apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "get", "list"]],
            ["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]],
        ]
        _ = try await s.registry.create(s.cluster.r("roles", "rbac.authorization.k8s.io"), namespace: "default",
                                        object: ["metadata": ["name": "manager"], "rules": rules])
        _ = try await s.registry.create(s.cluster.r("rolebindings", "rbac.authorization.k8s.io"), namespace: "default", object: [
            "metadata": ["name": "bob-manager"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "manager"],
            "subjects": [["kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"]],
        ])
        try await s.sync()
        let path = "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles"
        let reader = try await s.send(.post, path, token: Server.bobToken,
                                      body: ["metadata": ["name": "reader"], "rules": [["apiGroups": [""], "resources": ["pods"], "verbs": ["get"]]]])
        #expect(reader.status == 201)
        let deleter = try await s.send(.post, path, token: Server.bobToken,
                                       body: ["metadata": ["name": "deleter"], "rules": [["apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]]]])
        #expect(deleter.status == 403)
        #expect(deleter.message.contains("is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}"))
        // Binding cluster-admin is refused; binding what one holds is fine.
        let bindings = "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings"
        func binding(_ name: String, _ role: String, kind: String) -> JSONValue {
            ["metadata": ["name": .string(name)], "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(kind), "name": .string(role)],
             "subjects": [["kind": "User", "name": "eve", "apiGroup": "rbac.authorization.k8s.io"]]]
        }
        #expect(try await s.send(.post, bindings, token: Server.bobToken, body: binding("x", "cluster-admin", kind: "ClusterRole")).status == 403)
        #expect(try await s.send(.post, bindings, token: Server.bobToken, body: binding("y", "reader", kind: "Role")).status == 201)
        // With `escalate` on roles, anything goes.
        _ = try await s.registry.create(s.cluster.r("clusterroles", "rbac.authorization.k8s.io"), namespace: nil, object: [
            "metadata": ["name": "escalator"],
            "rules": [["apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate"]]],
        ])
        _ = try await s.registry.create(s.cluster.r("rolebindings", "rbac.authorization.k8s.io"), namespace: "default", object: [
            "metadata": ["name": "bob-escalates"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "escalator"],
            "subjects": [["kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"]],
        ])
        try await s.sync()
        #expect(try await s.send(.post, path, token: Server.bobToken,
                                 body: ["metadata": ["name": "deleter"], "rules": [["apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]]]]).status == 201)
    }

    @Test func aggregatedClusterRolesPickUpNewRules() async throws {
        let s = try await Server()
        _ = try await s.registry.create(s.cluster.r("clusterroles", "rbac.authorization.k8s.io"), namespace: nil, object: [
            "metadata": ["name": "crontab-reader", "labels": ["rbac.authorization.k8s.io/aggregate-to-view": "true"]],
            "rules": [["apiGroups": ["stable.example.com"], "resources": ["crontabs"], "verbs": ["get", "list"]]],
        ])
        try await s.sync()
        let view = try await s.registry.get(s.cluster.r("clusterroles", "rbac.authorization.k8s.io"), namespace: nil, name: "view")
        let groups = (view["rules"]?.arrayValue ?? []).flatMap { $0["apiGroups"]?.arrayValue ?? [] }
        #expect(groups.contains("stable.example.com"))
    }

    @Test func aNodeReadsOnlyWhatItsPodsUseAndChangesOnlyItself() async throws {
        let s = try await Server()
        let pods = s.cluster.r("pods")
        for name in ["mine", "theirs"] {
            _ = try await s.registry.create(s.cluster.r("secrets"), namespace: "default", object: ["metadata": ["name": .string(name)]])
        }
        var pod: JSONValue = ["metadata": ["name": "p"], "spec": TestCluster.podSpec]
        pod[path: ["spec", "nodeName"]] = "n1"
        pod[path: ["spec", "volumes"]] = [["name": "s", "secret": ["secretName": "mine"]]]
        _ = try await s.registry.create(pods, namespace: "default", object: pod)
        var other: JSONValue = ["metadata": ["name": "q"], "spec": TestCluster.podSpec]
        other[path: ["spec", "nodeName"]] = "n2"
        _ = try await s.registry.create(pods, namespace: "default", object: other)

        #expect(try await s.send(.get, "/api/v1/namespaces/default/secrets/mine", token: Server.nodeToken).status == 200)
        let theirs = try await s.send(.get, "/api/v1/namespaces/default/secrets/theirs", token: Server.nodeToken)
        #expect(theirs.status == 403)
        #expect(theirs.message.hasSuffix(": no relationship found between node 'n1' and this object"))
        #expect(try await s.send(.get, "/api/v1/namespaces/default/secrets", token: Server.nodeToken).status == 403)
        #expect(try await s.send(.get, "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1", token: Server.nodeToken).status == 200)

        // Its own pods' status only.
        let status: JSONValue = ["status": ["phase": "Running"]]
        let mine = try await s.send(.patch, "/api/v1/namespaces/default/pods/p/status", token: Server.nodeToken, body: status,
                                    contentType: "application/merge-patch+json")
        #expect(mine.status == 200)
        let foreign = try await s.send(.put, "/api/v1/namespaces/default/pods/q/status", token: Server.nodeToken,
                                       body: ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "q", "namespace": "default"],
                                              "spec": other["spec"]!, "status": ["phase": "Running"]])
        #expect(foreign.status == 403)
        #expect(foreign.message.contains("node \"n1\" can only update pod status for pods bound to itself"))
        // Its own Node object only.
        for name in ["n1", "n2"] {
            _ = try await s.registry.create(s.cluster.r("nodes"), namespace: nil, object: ["metadata": ["name": .string(name)]])
        }
        let otherNode = try await s.send(.put, "/api/v1/nodes/n2", token: Server.nodeToken,
                                         body: ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n2", "labels": ["x": "y"]]])
        #expect(otherNode.status == 403)
        #expect(otherNode.message.contains("node \"n1\" is not allowed to modify node \"n2\""))
        let own = try await s.send(.put, "/api/v1/nodes/n1", token: Server.nodeToken,
                                   body: ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n1", "labels": ["x": "y"]]])
        #expect(own.status == 200)
        // Its own Lease only.
        let lease: JSONValue = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "n2"]]
        #expect(try await s.send(.post, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", token: Server.nodeToken,
                                 body: lease).status == 403)
        var ownLease = lease
        ownLease[path: ["metadata", "name"]] = "n1"
        #expect(try await s.send(.post, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", token: Server.nodeToken,
                                 body: ownLease).status == 201)
    }
}
