/// An authorizer's answer (kube-apiserver's `authorizer.Decision` plus its reason string).
/// RBAC only ever allows or has no opinion; a request nobody allows is then forbidden by
/// the caller, which appends a non-empty `reason` to the 403 message.
public enum AuthorizationDecision: Sendable, Equatable {
    /// Allowed; the reason names the binding that allowed it
    /// (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`).
    case allow(reason: String)
    /// Not allowed by this authorizer; the reason is empty, or lists the errors met while
    /// resolving the user's bindings (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`).
    case noOpinion(reason: String)

    /// Whether the request is allowed.
    public var isAllowed: Bool {
        switch self {
        case .allow: return true
        case .noOpinion: return false
        }
    }

    /// The reason string, possibly empty.
    public var reason: String {
        switch self {
        case .allow(let reason), .noOpinion(let reason): return reason
        }
    }
}
