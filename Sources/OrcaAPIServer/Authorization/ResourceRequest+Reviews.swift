import Foundation
import Hummingbird
import OrcaAPI

/// The review APIs, answered and never stored: `SelfSubjectAccessReview` (`kubectl auth
/// can-i`), `SubjectAccessReview`, `LocalSubjectAccessReview`, `SelfSubjectRulesReview`
/// (`kubectl auth can-i --list`), `SelfSubjectReview` (`kubectl auth whoami`) and `TokenReview`.
extension ResourceRequest {
    static let reviewResources: Set<String> = [
        "selfsubjectaccessreviews.authorization.k8s.io", "subjectaccessreviews.authorization.k8s.io",
        "localsubjectaccessreviews.authorization.k8s.io", "selfsubjectrulesreviews.authorization.k8s.io",
        "selfsubjectreviews.authentication.k8s.io", "tokenreviews.authentication.k8s.io",
    ]

    /// What a review can be answered as.
    static let acceptedMediaTypes = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]

    func review(_ r: ResourceType) async throws -> Response {
        guard request.method == .post, info.name == nil, info.subresource == nil else {
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        if info.namespace != nil, !r.namespaced { throw APIError.pathNotFound(request.uri.path) }
        // Reviews have no table form (kube: "a backend which does not implement metadata").
        if wantsTable { throw APIError.notAcceptable(Self.acceptedMediaTypes) }
        guard let user = context.user else { throw APIError.unauthorized() }
        var review = try registry.checkTypeMeta(r, try await body())
        var status: JSONValue
        switch r.resource {
        case "selfsubjectaccessreviews":
            status = try await access(review, for: user, r)
        case "subjectaccessreviews", "localsubjectaccessreviews":
            status = try await access(review, for: try Self.subject(of: review, r), r)
        case "selfsubjectrulesreviews":
            let namespace = review[path: ["spec", "namespace"]]?.stringValue ?? ""
            let rules = handler.authorizer.rbac.authorizer.rules(for: user, namespace: namespace)
            status = try JSONValue(encoding: rules.status)
        case "selfsubjectreviews":
            status = ["userInfo": user.json]
        default:
            status = await tokenReview(review)
        }
        review["status"] = status
        if review["metadata"] == nil { review["metadata"] = ["creationTimestamp": .null] }
        return APIHandler.json(review, status: 201)
    }

    /// The attributes a review asks about, for `user`; 422 unless exactly one kind is given.
    func access(_ review: JSONValue, for user: UserInfo, _ r: ResourceType) async throws -> JSONValue {
        let spec = review["spec"] ?? [:]
        let resource = spec["resourceAttributes"].flatMap { $0 == .null ? nil : $0 }
        let nonResource = spec["nonResourceAttributes"].flatMap { $0 == .null ? nil : $0 }
        guard (resource == nil) != (nonResource == nil) else {
            throw APIError.invalid(r, "", [.invalid("spec.resourceAttributes", "null",
                                                    "exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        }
        let attributes: AuthorizationAttributes
        if let resource {
            var namespace = resource["namespace"]?.stringValue ?? ""
            if r.resource == "localsubjectaccessreviews" {
                let urlNamespace = info.namespace ?? ""
                if namespace.isEmpty { namespace = urlNamespace }
                guard namespace == urlNamespace else {
                    throw APIError.invalid(r, "", [.invalid("spec.resourceAttributes.namespace", namespace,
                                                            "must match metadata.namespace")])
                }
            }
            attributes = .resource(user: user, verb: resource["verb"]?.stringValue ?? "", namespace: namespace,
                                   apiGroup: resource["group"]?.stringValue ?? "", apiVersion: resource["version"]?.stringValue ?? "",
                                   resource: resource["resource"]?.stringValue ?? "",
                                   subresource: resource["subresource"]?.stringValue ?? "", name: resource["name"]?.stringValue ?? "")
        } else {
            attributes = .nonResource(user: user, verb: nonResource?["verb"]?.stringValue ?? "", path: nonResource?["path"]?.stringValue ?? "")
        }
        let decision = await handler.authorizer.authorize(attributes, registry: registry)
        var status: [String: JSONValue] = ["allowed": .bool(decision.isAllowed)]
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        return .object(status)
    }

    /// The user a SubjectAccessReview names; 422 without a user or group.
    static func subject(of review: JSONValue, _ r: ResourceType) throws -> UserInfo {
        let name = review[path: ["spec", "user"]]?.stringValue ?? ""
        let groups = (review[path: ["spec", "groups"]]?.arrayValue ?? []).compactMap(\.stringValue)
        guard !name.isEmpty || !groups.isEmpty else {
            throw APIError.invalid(r, "", [.invalid("spec.user", "", "at least one of user or group must be specified")])
        }
        return UserInfo(name: name, groups: groups)
    }

    /// `TokenReview`: who a bearer token is, or why it is not valid.
    func tokenReview(_ review: JSONValue) async -> JSONValue {
        let token = review[path: ["spec", "token"]]?.stringValue ?? ""
        let audiences = review[path: ["spec", "audiences"]]
        switch await handler.authenticator.authenticate(token: token) {
        case .user(let user):
            var status: [String: JSONValue] = [
                "authenticated": true,
                "user": ["username": .string(user.name), "groups": .array(user.groups.map(JSONValue.string))],
            ]
            if let audiences, audiences != .null { status["audiences"] = audiences }
            return .object(status)
        case .invalid(let why):
            return ["authenticated": false, "user": [:], "error": .string(why)]
        case .unknown:
            return ["authenticated": false, "user": [:], "error": "[invalid bearer token, token lookup failed]"]
        }
    }
}
