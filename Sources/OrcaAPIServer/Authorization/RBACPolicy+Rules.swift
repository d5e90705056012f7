import OrcaAPI

/// A problem met while resolving a user's bindings to rules (a binding names a missing
/// role, or a role reference of an unknown kind). Rules are additive, so resolution goes
/// on and the problems only explain a denial; they are data, never thrown.
public struct RBACResolutionError: Sendable, Equatable, CustomStringConvertible {
    /// The message, worded as kube-apiserver's (`clusterrole.rbac.authorization.k8s.io "x" not found`).
    public var message: String
    /// A problem with kube's `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }

    /// kube's `utilerrors.NewAggregate(errs).Error()`: one message alone, several
    /// (duplicates dropped) as `[a, b]`.
    public static func aggregate(_ errors: [RBACResolutionError]) -> String {
        if errors.count == 1 { return errors[0].message }
        var seen = Set<String>(), parts: [String] = []
        for e in errors where seen.insert(e.message).inserted { parts.append(e.message) }
        return parts.count == 1 ? parts[0] : "[" + parts.joined(separator: ", ") + "]"
    }
}

/// The binding and subject a rule came to a user through (kube's binding describers).
public struct RBACRuleSource: Sendable, Equatable, CustomStringConvertible {
    /// The binding's name.
    public var bindingName: String
    /// The RoleBinding's namespace; empty for a ClusterRoleBinding.
    public var bindingNamespace: String
    /// The role the binding references.
    public var roleRef: RoleRef
    /// The first subject of the binding that names the user.
    public var subject: Subject

    /// `ClusterRoleBinding "b" of ClusterRole "r" to Group "g"` or
    /// `RoleBinding "b/ns" of Role "r" to ServiceAccount "sa/ns"`.
    public var description: String {
        let role = "\(roleRef.kind ?? "") \(GoQuote.quote(roleRef.name ?? ""))"
        let kind = subject.kind ?? ""
        let name = subject.name ?? ""
        let who: String
        if kind == "ServiceAccount" {
            let ns = (subject.namespace ?? "").isEmpty ? bindingNamespace : subject.namespace!
            who = "\(kind) \(GoQuote.quote(name + "/" + ns))"
        } else {
            who = "\(kind) \(GoQuote.quote(name))"
        }
        if bindingNamespace.isEmpty {
            return "ClusterRoleBinding \(GoQuote.quote(bindingName)) of \(role) to \(who)"
        }
        return "RoleBinding \(GoQuote.quote(bindingName + "/" + bindingNamespace)) of \(role) to \(who)"
    }
}

/// One step of walking a user's rules: a rule and where it came from, or an error.
public enum RBACRuleVisit: Sendable, Equatable {
    /// A rule bound to the user, and the binding it came through.
    case rule(PolicyRule, source: RBACRuleSource)
    /// A binding of the user that could not be resolved.
    case error(RBACResolutionError)
}

extension RBACPolicy {
    /// Calls `visitor` with each rule that applies to `user` in `namespace` and each error
    /// met, as kube's `DefaultRuleResolver.VisitRulesFor`: the ClusterRoleBindings first,
    /// then (for a non-empty namespace) that namespace's RoleBindings. Stops when `visitor`
    /// returns false.
    public func visitRules(for user: UserInfo, namespace: String, _ visitor: (RBACRuleVisit) -> Bool) {
        for binding in clusterRoleBindingCandidates(for: user) {
            guard let subject = (binding.subjects ?? []).first(where: { Self.subject($0, appliesTo: user, bindingNamespace: "") }) else { continue }
            let ref = binding.roleRef ?? RoleRef()
            let (rules, error) = roleReferenceRules(ref, bindingNamespace: "")
            if let error {
                if !visitor(.error(error)) { return }
                continue
            }
            let source = RBACRuleSource(bindingName: binding.metadata?.name ?? "", bindingNamespace: "", roleRef: ref, subject: subject)
            for rule in rules {
                if !visitor(.rule(rule, source: source)) { return }
            }
        }
        guard !namespace.isEmpty else { return }
        for binding in roleBindingCandidates(for: user, namespace: namespace) {
            guard let subject = (binding.subjects ?? []).first(where: { Self.subject($0, appliesTo: user, bindingNamespace: namespace) }) else { continue }
            let ref = binding.roleRef ?? RoleRef()
            let (rules, error) = roleReferenceRules(ref, bindingNamespace: namespace)
            if let error {
                if !visitor(.error(error)) { return }
                continue
            }
            let source = RBACRuleSource(bindingName: binding.metadata?.name ?? "", bindingNamespace: namespace, roleRef: ref, subject: subject)
            for rule in rules {
                if !visitor(.rule(rule, source: source)) { return }
            }
        }
    }

    /// Every rule that applies to `user` in `namespace` (cluster-wide ones only when
    /// `namespace` is empty) and the errors met (`RulesFor`). The rules are usable even
    /// when there are errors.
    public func rules(for user: UserInfo, namespace: String) -> (rules: [PolicyRule], errors: [RBACResolutionError]) {
        var rules: [PolicyRule] = [], errors: [RBACResolutionError] = []
        visitRules(for: user, namespace: namespace) { visit in
            switch visit {
            case .rule(let rule, _): rules.append(rule)
            case .error(let error): errors.append(error)
            }
            return true
        }
        return (rules, errors)
    }

    /// The rules a role reference grants (`GetRoleReferenceRules`): a Role in the
    /// binding's namespace or a ClusterRole; with no rules, kube's not-found or
    /// unsupported-kind error.
    public func roleReferenceRules(_ ref: RoleRef, bindingNamespace: String) -> (rules: [PolicyRule], error: RBACResolutionError?) {
        let name = ref.name ?? ""
        switch ref.kind ?? "" {
        case "Role":
            guard let role = role(namespace: bindingNamespace, name: name) else {
                return ([], RBACResolutionError("role.rbac.authorization.k8s.io \(GoQuote.quote(name)) not found"))
            }
            return (role.rules ?? [], nil)
        case "ClusterRole":
            guard let role = clusterRole(named: name) else {
                return ([], RBACResolutionError("clusterrole.rbac.authorization.k8s.io \(GoQuote.quote(name)) not found"))
            }
            return (role.rules ?? [], nil)
        case let kind:
            return ([], RBACResolutionError("unsupported role reference kind: \(GoQuote.quote(kind))"))
        }
    }
}
