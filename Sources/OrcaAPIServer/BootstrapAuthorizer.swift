import HTTPTypes
import OrcaAPI
import OrcaPKI

/// What a bootstrap token may do, until RBAC exists: Kubernetes binds `system:bootstrappers`
/// to the `system:node-bootstrapper` ClusterRole (create, get, list and watch
/// CertificateSigningRequests) and `system:discovery` (discovery and health paths, which are
/// not resource paths). Everything else is 403 Forbidden with kube-apiserver's message.
enum BootstrapAuthorizer {
    static let group = "system:bootstrappers"
    static let allowed: Set<String> = ["create", "get", "list", "watch"]

    static func authorize(_ user: UserInfo, method: HTTPRequest.Method, path: String, info: RequestInfo?, query: String?) throws {
        guard user.groups.contains(group) else { return }
        guard let info else {
            // Discovery and OpenAPI only (`system:discovery`); not `nodes/<name>/proxy/…`.
            let segs = path.split(separator: "/")
            if segs.first == "openapi" || (segs.count <= 3 && (segs.first == "api" || segs.first == "apis")) { return }
            throw APIError.forbidden("forbidden: User \"\(user.name)\" cannot \(method.rawValue.lowercased()) path \"\(path)\"")
        }
        let verb = verb(method, info: info, query: query)
        if info.group == "certificates.k8s.io", info.resource == "certificatesigningrequests", info.subresource == nil,
           allowed.contains(verb) {
            return
        }
        throw forbidden(user, verb: verb, info: info)
    }

    /// The authorization verb of a request (Kubernetes' RequestInfoFactory).
    static func verb(_ method: HTTPRequest.Method, info: RequestInfo, query: String?) -> String {
        switch method {
        case .get, .head:
            if info.name == nil {
                let watch = ResourceRequest.parseQuery(query)["watch"]
                return watch == "true" || watch == "1" ? "watch" : "list"
            }
            return "get"
        case .post: return "create"
        case .put: return "update"
        case .patch: return "patch"
        case .delete: return info.name == nil ? "deletecollection" : "delete"
        default: return method.rawValue.lowercased()
        }
    }

    /// `<resource>[.<group>] is forbidden: User "<u>" cannot <verb> resource "<r>[/<sub>]" in API group "<g>" …`.
    static func forbidden(_ user: UserInfo, verb: String, info: RequestInfo) -> APIError {
        let groupResource = info.group.isEmpty ? info.resource : "\(info.resource).\(info.group)"
        let resource = info.subresource.map { "\(info.resource)/\($0)" } ?? info.resource
        let scope = info.namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        let named = info.name.map { "\(groupResource) \"\($0)\"" } ?? groupResource
        return APIError.forbidden("\(named) is forbidden: User \"\(user.name)\" cannot \(verb) resource \"\(resource)\" in API group \"\(info.group)\" \(scope)")
    }
}

extension NodeJoinToken {
    /// Who a bootstrap token `<id>.<secret>` authenticates as: `system:bootstrap:<id>` in
    /// `system:bootstrappers` (Kubernetes' bootstrap token authenticator).
    public static func bootstrapUser(id: String) -> UserInfo {
        UserInfo(name: "system:bootstrap:\(id)", groups: [BootstrapAuthorizer.group, "system:authenticated"])
    }
}
