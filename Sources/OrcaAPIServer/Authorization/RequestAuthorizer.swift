import HTTPTypes
import OrcaAPI

/// Authorizes every authenticated request, as kube-apiserver's `--authorization-mode=Node,RBAC`
/// does behind its privileged-group short cut: `system:masters` may do anything; nodes are
/// held by the Node authorizer; everyone else by RBAC. Denied requests get 403 `Forbidden`
/// with kube-apiserver's message.
public struct RequestAuthorizer: Sendable {
    public let rbac: RBACPolicyStore
    public let nodes: NodeAuthorizer

    public init(rbac: RBACPolicyStore = RBACPolicyStore(), nodes: NodeAuthorizer = NodeAuthorizer()) {
        self.rbac = rbac
        self.nodes = nodes
    }

    /// The decision for `a`, with the reasons of every authorizer that had no opinion.
    public func authorize(_ a: AuthorizationAttributes, registry: Registry) async -> AuthorizationDecision {
        if a.user.groups.contains("system:masters") { return .allow(reason: "") }
        var reasons: [String] = []
        if let node = await nodes.authorize(a, registry: registry) {
            if node.isAllowed { return node }
            if !node.reason.isEmpty { reasons.append(node.reason) }
        }
        let decision = rbac.authorizer.authorize(a)
        if decision.isAllowed { return decision }
        if !decision.reason.isEmpty { reasons.append(decision.reason) }
        return .noOpinion(reason: reasons.joined(separator: "\n"))
    }

    /// Throws 403 unless `a` is allowed.
    public func check(_ a: AuthorizationAttributes, registry: Registry) async throws {
        let decision = await authorize(a, registry: registry)
        if !decision.isAllowed { throw Self.forbidden(a, reason: decision.reason) }
    }

    /// kube-apiserver's `Forbidden` message for a denied request.
    public static func forbidden(_ a: AuthorizationAttributes, reason: String) -> APIError {
        var message: String
        if a.isResourceRequest {
            let groupResource = a.apiGroup.isEmpty ? a.resource : "\(a.resource).\(a.apiGroup)"
            let resource = a.subresource.isEmpty ? a.resource : "\(a.resource)/\(a.subresource)"
            let scope = a.namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(a.namespace)\""
            let named = a.name.isEmpty ? groupResource : "\(groupResource) \"\(a.name)\""
            message = "\(named) is forbidden: User \"\(a.user.name)\" cannot \(a.verb) resource \"\(resource)\" in API group \"\(a.apiGroup)\" \(scope)"
        } else {
            message = "forbidden: User \"\(a.user.name)\" cannot \(a.verb) path \"\(a.path)\""
        }
        if !reason.isEmpty { message += ": " + reason }
        var e = APIError.forbidden(message)
        if a.isResourceRequest {
            var details: [String: JSONValue] = ["kind": .string(a.resource)]
            if !a.name.isEmpty { details["name"] = .string(a.name) }
            if !a.apiGroup.isEmpty { details["group"] = .string(a.apiGroup) }
            e.details = .object(details)
        }
        return e
    }

    /// The verb of a request for one object, as kube-apiserver's `RequestInfoFactory` maps its
    /// method; another method (OPTIONS, say) has no verb.
    static func verb(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head: "get"
        case .post: "create"
        case .put: "update"
        case .patch: "patch"
        case .delete: "delete"
        default: ""
        }
    }

    /// What an HTTP request asks (kube-apiserver's `RequestInfoFactory`): the verb from the
    /// method (`list`/`watch` without a name, `deletecollection`), the namespace of a
    /// namespace object, a name from a `metadata.name` field selector, and the `proxy` subresources.
    public static func attributes(user: UserInfo, method: HTTPRequest.Method, path: String, query: String?) -> AuthorizationAttributes {
        if let target = ProxyTarget(path: path) {
            // The name as written (`n1:10250`, `https:web:443`), as kube-apiserver's RequestInfo takes it.
            return .resource(user: user, verb: Self.verb(method), namespace: target.namespace ?? "", apiVersion: "v1",
                             resource: target.resource.rawValue, subresource: "proxy", name: target.id)
        }
        guard let info = RequestInfo(path: path) else {
            return .nonResource(user: user, verb: method == .head ? "get" : method.rawValue.lowercased(), path: path)
        }
        let parsed = ResourceRequest.parseQuery(query)
        var verb = Self.verb(method)
        var name = info.name ?? ""
        if info.name == nil, method == .get || method == .head {
            let watch = parsed["watch"] == "true" || parsed["watch"] == "1"
            verb = watch ? "watch" : "list"
            if let selector = parsed["fieldSelector"], let matcher = try? FieldMatcher(parsing: selector),
               let only = matcher.requirements.first(where: { $0.field == "metadata.name" && $0.equals }) {
                name = only.value
            }
        } else if info.name == nil, method == .delete {
            verb = "deletecollection"
        }
        var namespace = info.namespace ?? ""
        if info.group.isEmpty, info.resource == "namespaces", let n = info.name { namespace = n }
        return .resource(user: user, verb: verb, namespace: namespace, apiGroup: info.group, apiVersion: info.version,
                         resource: info.resource, subresource: info.subresource ?? "", name: name)
    }
}
