import OrcaAPI

/// What a request asks to do, as an authorizer sees it (kube-apiserver's
/// `authorizer.AttributesRecord`): who, which verb, and either a resource (group, resource,
/// subresource, name, in a namespace or cluster-wide) or a non-resource URL path.
///
/// Empty strings mean "not set", as in Kubernetes: `namespace == ""` is a cluster-scoped
/// (or all-namespaces) request, `name == ""` a request for no one object (list, create).
public struct AuthorizationAttributes: Sendable, Equatable {
    /// The authenticated user.
    public var user: UserInfo
    /// The authorization verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, or a special verb (`bind`, `escalate`, `impersonate`, `use`,
    /// `approve`, `sign`, `proxy`); for non-resource requests the lower-cased HTTP method.
    public var verb: String
    /// True for a request under `/api` or `/apis` that names a resource; false for a
    /// non-resource URL (`/healthz`, `/version`, `/apis` discovery).
    public var isResourceRequest: Bool
    /// The request's namespace; empty for cluster-scoped and all-namespace requests.
    public var namespace: String
    /// The API group (`""` for the core group).
    public var apiGroup: String
    /// The API version (RBAC does not look at it).
    public var apiVersion: String
    /// The resource (`pods`).
    public var resource: String
    /// The subresource (`status`, `log`), empty when none.
    public var subresource: String
    /// The object's name, empty for list, watch, create and deletecollection.
    public var name: String
    /// The URL path of a non-resource request.
    public var path: String

    /// Every field; prefer `resource(…)` or `nonResource(…)`.
    public init(
        user: UserInfo,
        verb: String,
        isResourceRequest: Bool,
        namespace: String = "",
        apiGroup: String = "",
        apiVersion: String = "",
        resource: String = "",
        subresource: String = "",
        name: String = "",
        path: String = ""
    ) {
        self.user = user
        self.verb = verb
        self.isResourceRequest = isResourceRequest
        self.namespace = namespace
        self.apiGroup = apiGroup
        self.apiVersion = apiVersion
        self.resource = resource
        self.subresource = subresource
        self.name = name
        self.path = path
    }

    /// A resource request: `verb` on `resource[/subresource]` in `apiGroup`, optionally one
    /// object `name`, in `namespace` (empty for cluster scope).
    public static func resource(
        user: UserInfo,
        verb: String,
        namespace: String = "",
        apiGroup: String = "",
        apiVersion: String = "",
        resource: String,
        subresource: String = "",
        name: String = ""
    ) -> AuthorizationAttributes {
        AuthorizationAttributes(
            user: user, verb: verb, isResourceRequest: true, namespace: namespace, apiGroup: apiGroup,
            apiVersion: apiVersion, resource: resource, subresource: subresource, name: name)
    }

    /// A non-resource request: `verb` (lower-cased HTTP method) on URL `path`.
    public static func nonResource(user: UserInfo, verb: String, path: String) -> AuthorizationAttributes {
        AuthorizationAttributes(user: user, verb: verb, isResourceRequest: false, path: path)
    }
}
