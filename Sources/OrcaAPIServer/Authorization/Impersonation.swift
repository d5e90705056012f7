import HTTPTypes
import OrcaAPI

/// Acting as another user (kube-apiserver's impersonation filter, `kubectl --as`,
/// `--as-group`, `--as-uid`): the `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid`
/// and `Impersonate-Extra-<key>` headers name the user a request runs as, once the
/// authenticated user is allowed to `impersonate` each of them (`users`, `groups` and
/// `serviceaccounts` in the core group; `uids` and `userextras/<key>` in
/// `authentication.k8s.io`).
public struct Impersonation: Sendable, Equatable {
    public var user: String
    public var groups: [String]
    public var uid: String
    public var extra: [String: [String]]

    static let userHeader = HTTPField.Name("Impersonate-User")!
    static let groupHeader = HTTPField.Name("Impersonate-Group")!
    static let uidHeader = HTTPField.Name("Impersonate-Uid")!
    static let extraPrefix = "impersonate-extra-"
    static let serviceAccountPrefix = "system:serviceaccount:"

    /// The impersonation a request's headers ask for; nil when they ask none. Groups, a uid or
    /// extras without a user are a 500, as kube answers them.
    public init?(_ headers: HTTPFields) throws {
        let user = headers[Self.userHeader] ?? ""
        let groups = headers[values: Self.groupHeader]
        let uid = headers[Self.uidHeader] ?? ""
        var extra: [String: [String]] = [:]
        for field in headers where field.name.canonicalName.hasPrefix(Self.extraPrefix) {
            let raw = String(field.name.canonicalName.dropFirst(Self.extraPrefix.count))
            extra[(raw.removingPercentEncoding ?? raw).lowercased(), default: []].append(field.value)
        }
        if user.isEmpty {
            guard groups.isEmpty, uid.isEmpty, extra.isEmpty else {
                var asked: [String] = groups.map { "group \($0)" }
                if !uid.isEmpty { asked.append("uid \(uid)") }
                asked += extra.keys.sorted().map { "extra \($0)" }
                throw APIError.internalError("requested [\(asked.joined(separator: ", "))] without impersonating a user")
            }
            return nil
        }
        self.user = user
        self.groups = groups
        self.uid = uid
        self.extra = extra
    }

    /// What `requester` must be allowed for this impersonation, one check per name.
    func requiredPermissions(of requester: UserInfo) -> [AuthorizationAttributes] {
        var checks: [AuthorizationAttributes] = []
        if user.hasPrefix(Self.serviceAccountPrefix), let (namespace, name) = Self.serviceAccount(user) {
            checks.append(.resource(user: requester, verb: "impersonate", namespace: namespace, apiVersion: "v1",
                                    resource: "serviceaccounts", name: name))
        } else {
            checks.append(.resource(user: requester, verb: "impersonate", apiVersion: "v1", resource: "users", name: user))
        }
        for group in groups {
            checks.append(.resource(user: requester, verb: "impersonate", apiVersion: "v1", resource: "groups", name: group))
        }
        if !uid.isEmpty {
            checks.append(.resource(user: requester, verb: "impersonate", apiGroup: "authentication.k8s.io", apiVersion: "v1",
                                    resource: "uids", name: uid))
        }
        for (key, values) in extra.sorted(by: { $0.key < $1.key }) {
            for value in values {
                checks.append(.resource(user: requester, verb: "impersonate", apiGroup: "authentication.k8s.io", apiVersion: "v1",
                                        resource: "userextras", subresource: key, name: value))
            }
        }
        return checks
    }

    /// The user the request runs as: a ServiceAccount gets its groups when none are named;
    /// everyone but `system:anonymous` is in `system:authenticated`.
    var impersonatedUser: UserInfo {
        var groups = self.groups
        if groups.isEmpty, let (namespace, _) = Self.serviceAccount(user) {
            groups = ["system:serviceaccounts", "system:serviceaccounts:\(namespace)"]
        }
        let implicit = user == "system:anonymous" ? "system:unauthenticated" : "system:authenticated"
        if !groups.contains(implicit) { groups.append(implicit) }
        return UserInfo(name: user, groups: groups, uid: uid, extra: extra)
    }

    /// The namespace and name of a ServiceAccount user name (`system:serviceaccount:ns:name`).
    static func serviceAccount(_ user: String) -> (String, String)? {
        guard user.hasPrefix(serviceAccountPrefix) else { return nil }
        let parts = user.dropFirst(serviceAccountPrefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// The user `requester` acts as: whom the impersonation names, once every name is allowed;
    /// 403 for the first that is not.
    func authorize(_ requester: UserInfo, with authorizer: RequestAuthorizer, registry: Registry) async throws -> UserInfo {
        for check in requiredPermissions(of: requester) {
            try await authorizer.check(check, registry: registry)
        }
        return impersonatedUser
    }
}
