import OrcaAPI

/// Privilege-escalation prevention as kube-apiserver's `rbac/validation`: a user may only
/// write a Role or ClusterRole (or bind one) whose rules are covered by rules the user
/// already holds — unless the caller finds the user may `escalate` (roles) or `bind`
/// (bindings), or is in `system:masters`. Rules are compared broken down to one verb, one
/// group, one resource and one name each (`Covers`, `BreakdownRule`).
public enum RBACEscalation {
    /// The requested rules, broken down, that no owner rule covers; empty when `owner`
    /// covers all of `requested` (`validation.Covers`).
    public static func uncoveredRules(owner: [PolicyRule], requested: [PolicyRule]) -> [PolicyRule] {
        requested.flatMap(breakdown).filter { sub in !owner.contains { covers($0, sub) } }
    }

    /// A rule as equivalent rules of one group, one resource, one verb and at most one
    /// name each, then one URL and one verb each (`BreakdownRule`).
    public static func breakdown(_ rule: PolicyRule) -> [PolicyRule] {
        var out: [PolicyRule] = []
        let names = rule.resourceNames ?? []
        for group in rule.apiGroups ?? [] {
            for resource in rule.resources ?? [] {
                for verb in rule.verbs ?? [] {
                    if names.isEmpty {
                        out.append(PolicyRule(apiGroups: [group], resources: [resource], verbs: [verb]))
                    } else {
                        for name in names {
                            out.append(PolicyRule(apiGroups: [group], resourceNames: [name], resources: [resource], verbs: [verb]))
                        }
                    }
                }
            }
        }
        for url in rule.nonResourceURLs ?? [] {
            for verb in rule.verbs ?? [] {
                out.append(PolicyRule(nonResourceURLs: [url], verbs: [verb]))
            }
        }
        return out
    }

    /// Whether `owner` covers the broken-down `sub` (`ruleCovers`): `*` or all of its
    /// verbs and groups, its resource (or `*`, or `*/<subresource>`), its URL (exactly or
    /// by a `*` prefix), and its name — an owner restricted to names never covers a
    /// request for every name.
    public static func covers(_ owner: PolicyRule, _ sub: PolicyRule) -> Bool {
        let ownerVerbs = owner.verbs ?? [], ownerGroups = owner.apiGroups ?? []
        let verbs = ownerVerbs.contains("*") || Set(ownerVerbs).isSuperset(of: sub.verbs ?? [])
        let groups = ownerGroups.contains("*") || Set(ownerGroups).isSuperset(of: sub.apiGroups ?? [])
        let resources = resourcesCover(owner.resources ?? [], sub.resources ?? [])
        let urls = (sub.nonResourceURLs ?? []).allSatisfy { path in
            (owner.nonResourceURLs ?? []).contains { urlCovers($0, path) }
        }
        let ownerNames = owner.resourceNames ?? [], subNames = sub.resourceNames ?? []
        let names = subNames.isEmpty ? ownerNames.isEmpty : (ownerNames.isEmpty || Set(ownerNames).isSuperset(of: subNames))
        return verbs && groups && resources && urls && names
    }

    /// `resourceCoversAll`.
    static func resourcesCover(_ owner: [String], _ requested: [String]) -> Bool {
        let set = Set(owner)
        if set.contains("*") || set.isSuperset(of: requested) { return true }
        for path in requested where !set.contains(path) {
            guard let slash = path.firstIndex(of: "/") else { return false }
            if !set.contains("*/" + path[path.index(after: slash)...]) { return false }
        }
        return true
    }

    /// `nonResourceURLCovers`.
    static func urlCovers(_ owner: String, _ path: String) -> Bool {
        owner == path || (owner.hasSuffix("*") && path.hasPrefix(RBACAuthorizer.urlPrefix(owner)))
    }

    /// Merges rules of one group and one resource (and at most one name) that differ only
    /// in verbs, as kube does before reporting them (`CompactRules`).
    public static func compact(_ rules: [PolicyRule]) -> [PolicyRule] {
        struct Key: Hashable { var group, resource: String, name: String? }
        var compacted: [PolicyRule] = [], simple: [Key: PolicyRule] = [:], order: [Key] = []
        for rule in rules {
            let names = rule.resourceNames ?? []
            guard names.count <= 1, (rule.nonResourceURLs ?? []).isEmpty,
                  let groups = rule.apiGroups, groups.count == 1, let resources = rule.resources, resources.count == 1
            else {
                compacted.append(rule)
                continue
            }
            let key = Key(group: groups[0], resource: resources[0], name: names.first)
            if simple[key] == nil {
                simple[key] = rule
                order.append(key)
            } else {
                simple[key]!.verbs = (simple[key]!.verbs ?? []) + (rule.verbs ?? [])
            }
        }
        return compacted + order.map { simple[$0]! }
    }

    /// A rule as kube's escalation message prints it (`CompactString`):
    /// `{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}`.
    public static func compactString(_ rule: PolicyRule) -> String {
        var parts: [String] = []
        func add(_ label: String, _ values: [String]?) {
            guard let values, !values.isEmpty else { return }
            parts.append("\(label):\(goQuotedList(values))")
        }
        add("APIGroups", rule.apiGroups)
        add("Resources", rule.resources)
        add("NonResourceURLs", rule.nonResourceURLs)
        add("ResourceNames", rule.resourceNames)
        add("Verbs", rule.verbs)
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// Go's `%q` of a `[]string`: `["a" "b"]`.
    static func goQuotedList(_ values: [String]) -> String {
        "[" + values.map(GoQuote.quote).joined(separator: " ") + "]"
    }

    /// kube's message for rules not held (`ConfirmNoEscalation`): the uncovered rules
    /// compacted, printed, de-duplicated and sorted, one a line, after
    /// `user "x" (groups=["a" "b"]) is attempting to grant RBAC permissions not currently held:`,
    /// with `; resolution errors: [...]` when the owner's rules could not all be resolved.
    /// The API server wraps it as `<resource> "<name>" is forbidden: <message>`.
    public static func message(user: UserInfo, uncovered: [PolicyRule], resolutionErrors: [RBACResolutionError] = []) -> String {
        let lines = Set(compact(uncovered).map(compactString)).sorted()
        var msg = "user \(GoQuote.quote(user.name)) (groups=\(goQuotedList(user.groups))) is attempting to grant RBAC permissions not currently held:\n"
            + lines.joined(separator: "\n")
        if !resolutionErrors.isEmpty {
            msg += "; resolution errors: [\(RBACResolutionError.aggregate(resolutionErrors))]"
        }
        return msg
    }

    /// The escalation check for `user` writing `requested` rules in `namespace` (empty
    /// for a ClusterRole or ClusterRoleBinding): nil when the user holds them all, else
    /// kube's message. The caller skips it for `escalationAllowed` users and for users
    /// authorized to `escalate`/`bind` (see `escalateAttributes`, `bindAttributes`).
    public static func confirmNoEscalation(user: UserInfo, namespace: String, requested: [PolicyRule], policy: RBACPolicy) -> String? {
        let (owner, errors) = ownerRules(user: user, namespace: namespace, policy: policy)
        let uncovered = uncoveredRules(owner: owner, requested: requested)
        return uncovered.isEmpty ? nil : message(user: user, uncovered: uncovered, resolutionErrors: errors)
    }

    /// The rules `user` holds in `namespace` — ClusterRoleBindings plus that namespace's
    /// RoleBindings — the owner side of the check, with the errors met resolving them.
    public static func ownerRules(user: UserInfo, namespace: String, policy: RBACPolicy) -> (rules: [PolicyRule], errors: [RBACResolutionError]) {
        policy.rules(for: user, namespace: namespace)
    }

    /// Members of `system:masters` may grant anything: the API server's own loopback
    /// client is one (`EscalationAllowed`).
    public static func escalationAllowed(_ user: UserInfo) -> Bool { user.groups.contains("system:masters") }

    /// The request to authorize before skipping the check on a Role or ClusterRole write
    /// (`RoleEscalationAuthorized`): verb `escalate` on the object being written.
    public static func escalateAttributes(user: UserInfo, resource: String, namespace: String, name: String) -> AuthorizationAttributes {
        .resource(user: user, verb: "escalate", namespace: namespace, apiGroup: "rbac.authorization.k8s.io",
                  apiVersion: "*", resource: resource, name: name)
    }

    /// The request to authorize before skipping the check on a binding write
    /// (`BindingAuthorized`): verb `bind` on the referenced role, in the binding's
    /// namespace (empty for a ClusterRoleBinding); nil for an unknown role kind.
    public static func bindAttributes(user: UserInfo, roleRef: RoleRef, bindingNamespace: String) -> AuthorizationAttributes? {
        let resource: String
        switch roleRef.kind ?? "" {
        case "ClusterRole": resource = "clusterroles"
        case "Role": resource = "roles"
        default: return nil
        }
        return .resource(user: user, verb: "bind", namespace: bindingNamespace, apiGroup: roleRef.apiGroup ?? "",
                         resource: resource, name: roleRef.name ?? "")
    }
}
