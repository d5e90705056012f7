import OrcaAPI

/// An immutable snapshot of every Role, ClusterRole, RoleBinding and ClusterRoleBinding,
/// indexed for authorization: roles by namespace and name, RoleBindings by namespace, and
/// the bindings of each namespace (and the ClusterRoleBindings) by subject, so finding the
/// bindings of one user costs a few dictionary look-ups however many bindings exist.
///
/// Bindings keep the order they were given in; that order decides which binding an
/// `allow` reason names and the order of resolution errors (Kubernetes' informer order is
/// unspecified, so any order is faithful).
public struct RBACPolicy: Sendable {
    /// The subject keys a binding is found under: a user name (a ServiceAccount subject is
    /// indexed under its user name `system:serviceaccount:<ns>:<name>`) or a group.
    enum SubjectKey: Hashable, Sendable {
        case user(String)
        case group(String)
    }

    /// Binding positions by subject key.
    struct SubjectIndex: Sendable {
        var positions: [SubjectKey: [Int]] = [:]

        mutating func add(_ key: SubjectKey, position: Int) {
            if positions[key]?.last == position { return }
            positions[key, default: []].append(position)
        }

        /// Positions of the bindings that may name `user`, ascending.
        func candidates(for user: UserInfo) -> [Int] {
            var found = Set(positions[.user(user.name)] ?? [])
            for group in user.groups {
                if let p = positions[.group(group)] { found.formUnion(p) }
            }
            return found.sorted()
        }
    }

    private let rolesByNamespace: [String: [String: Role]]
    private let clusterRolesByName: [String: ClusterRole]
    private let roleBindingsByNamespace: [String: [RoleBinding]]
    private let roleBindingIndexByNamespace: [String: SubjectIndex]
    private let clusterRoleBindingIndex: SubjectIndex

    /// Every ClusterRoleBinding, in the order given.
    public let clusterRoleBindings: [ClusterRoleBinding]

    /// Indexes the four kinds (decoded objects, as stored). Objects without a name are
    /// ignored for look-up by name; of two with the same name the first wins.
    public init(
        roles: [Role] = [],
        clusterRoles: [ClusterRole] = [],
        roleBindings: [RoleBinding] = [],
        clusterRoleBindings: [ClusterRoleBinding] = []
    ) {
        var rolesByNamespace: [String: [String: Role]] = [:]
        for role in roles {
            let ns = role.metadata?.namespace ?? "", name = role.metadata?.name ?? ""
            if rolesByNamespace[ns]?[name] == nil { rolesByNamespace[ns, default: [:]][name] = role }
        }
        var clusterRolesByName: [String: ClusterRole] = [:]
        for role in clusterRoles {
            let name = role.metadata?.name ?? ""
            if clusterRolesByName[name] == nil { clusterRolesByName[name] = role }
        }
        var bindingsByNamespace: [String: [RoleBinding]] = [:]
        var indexByNamespace: [String: SubjectIndex] = [:]
        for binding in roleBindings {
            let ns = binding.metadata?.namespace ?? ""
            let position = bindingsByNamespace[ns]?.count ?? 0
            bindingsByNamespace[ns, default: []].append(binding)
            for subject in binding.subjects ?? [] {
                if let key = Self.key(of: subject, bindingNamespace: ns) {
                    indexByNamespace[ns, default: SubjectIndex()].add(key, position: position)
                }
            }
        }
        var clusterIndex = SubjectIndex()
        for (position, binding) in clusterRoleBindings.enumerated() {
            for subject in binding.subjects ?? [] {
                if let key = Self.key(of: subject, bindingNamespace: "") { clusterIndex.add(key, position: position) }
            }
        }
        self.rolesByNamespace = rolesByNamespace
        self.clusterRolesByName = clusterRolesByName
        self.roleBindingsByNamespace = bindingsByNamespace
        self.roleBindingIndexByNamespace = indexByNamespace
        self.clusterRoleBindings = clusterRoleBindings
        self.clusterRoleBindingIndex = clusterIndex
    }

    /// No roles and no bindings: RBAC allows nothing.
    public static let empty = RBACPolicy()

    /// The Role `name` in `namespace`.
    public func role(namespace: String, name: String) -> Role? { rolesByNamespace[namespace]?[name] }

    /// The ClusterRole `name`.
    public func clusterRole(named name: String) -> ClusterRole? { clusterRolesByName[name] }

    /// Every RoleBinding in `namespace`, in the order given.
    public func roleBindings(in namespace: String) -> [RoleBinding] { roleBindingsByNamespace[namespace] ?? [] }

    /// The ClusterRoleBindings that may name `user` (by user name, ServiceAccount user
    /// name or group), in order; the caller still checks the subjects.
    func clusterRoleBindingCandidates(for user: UserInfo) -> [ClusterRoleBinding] {
        clusterRoleBindingIndex.candidates(for: user).map { clusterRoleBindings[$0] }
    }

    /// The RoleBindings in `namespace` that may name `user`, in order.
    func roleBindingCandidates(for user: UserInfo, namespace: String) -> [RoleBinding] {
        guard let index = roleBindingIndexByNamespace[namespace], let all = roleBindingsByNamespace[namespace] else { return [] }
        return index.candidates(for: user).map { all[$0] }
    }

    /// The key a subject is indexed under, or nil when it can never match a user: an
    /// unknown kind, or a ServiceAccount with no namespace in a ClusterRoleBinding.
    static func key(of subject: Subject, bindingNamespace: String) -> SubjectKey? {
        let name = subject.name ?? ""
        switch subject.kind ?? "" {
        case "User": return .user(name)
        case "Group": return .group(name)
        case "ServiceAccount":
            guard let user = serviceAccountUsername(subject, bindingNamespace: bindingNamespace) else { return nil }
            return .user(user)
        default: return nil
        }
    }

    /// The user name a ServiceAccount subject stands for; its namespace defaults to the
    /// binding's, and with neither it names nobody (`appliesToUser`).
    static func serviceAccountUsername(_ subject: Subject, bindingNamespace: String) -> String? {
        let ns = (subject.namespace ?? "").isEmpty ? bindingNamespace : subject.namespace!
        guard !ns.isEmpty else { return nil }
        return "system:serviceaccount:\(ns):\(subject.name ?? "")"
    }

    /// Whether `subject` names `user` (`appliesToUser`); `bindingNamespace` is empty for a
    /// ClusterRoleBinding.
    public static func subject(_ subject: Subject, appliesTo user: UserInfo, bindingNamespace: String) -> Bool {
        switch subject.kind ?? "" {
        case "User": return user.name == (subject.name ?? "")
        case "Group": return user.groups.contains(subject.name ?? "")
        case "ServiceAccount": return serviceAccountUsername(subject, bindingNamespace: bindingNamespace) == user.name
        default: return false
        }
    }
}
