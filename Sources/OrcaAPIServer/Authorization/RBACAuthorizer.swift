import OrcaAPI

/// Role-based access control as kube-apiserver's RBAC authorizer
/// (`plugin/pkg/auth/authorizer/rbac`): a request is allowed when a rule of a role bound
/// to the user — by a ClusterRoleBinding, or by a RoleBinding in the request's namespace —
/// matches it; otherwise RBAC has no opinion. Pure: it reads one `RBACPolicy` snapshot.
public struct RBACAuthorizer: Sendable {
    /// The roles and bindings decided against.
    public var policy: RBACPolicy

    /// Decides against `policy`.
    public init(policy: RBACPolicy) { self.policy = policy }

    /// Allows `a` when any rule bound to its user matches (the first match names the
    /// binding in the reason); otherwise no opinion, with kube's `RBAC: <errors>` reason
    /// when bindings could not be resolved (empty when none).
    public func authorize(_ a: AuthorizationAttributes) -> AuthorizationDecision {
        var allowedBy: RBACRuleSource?
        var errors: [RBACResolutionError] = []
        policy.visitRules(for: a.user, namespace: a.namespace) { visit in
            switch visit {
            case .rule(let rule, let source):
                if Self.rule(rule, allows: a) {
                    allowedBy = source
                    return false
                }
            case .error(let error):
                errors.append(error)
            }
            return true
        }
        if let allowedBy { return .allow(reason: "RBAC: allowed by \(allowedBy)") }
        return .noOpinion(reason: errors.isEmpty ? "" : "RBAC: " + RBACResolutionError.aggregate(errors))
    }

    /// What a user may do in a namespace, for SelfSubjectRulesReview (`RulesFor`).
    public struct SubjectRules: Sendable, Equatable {
        /// Rules with resources (a rule with both resources and URLs is in both lists).
        public var resourceRules: [ResourceRule]
        /// Rules with non-resource URLs.
        public var nonResourceRules: [NonResourceRule]
        /// Whether the lists may be missing rules; RBAC enumerates everything it can, so
        /// it reports false even with resolution errors, as Kubernetes does.
        public var incomplete: Bool
        /// The resolution errors, aggregated as kube prints them; nil when none.
        public var evaluationError: String?

        /// As a `SubjectRulesReview` status (lists present even when empty, as kube sends them).
        public var status: SubjectRulesReviewStatus {
            SubjectRulesReviewStatus(
                evaluationError: evaluationError, incomplete: incomplete,
                nonResourceRules: nonResourceRules, resourceRules: resourceRules)
        }
    }

    /// The rules bound to `user` in `namespace` (cluster-wide ones only when empty).
    public func rules(for user: UserInfo, namespace: String) -> SubjectRules {
        let (rules, errors) = policy.rules(for: user, namespace: namespace)
        var result = SubjectRules(resourceRules: [], nonResourceRules: [], incomplete: false, evaluationError: nil)
        for rule in rules {
            if !(rule.resources ?? []).isEmpty {
                result.resourceRules.append(ResourceRule(
                    apiGroups: rule.apiGroups, resourceNames: rule.resourceNames, resources: rule.resources, verbs: rule.verbs))
            }
            if !(rule.nonResourceURLs ?? []).isEmpty {
                result.nonResourceRules.append(NonResourceRule(nonResourceURLs: rule.nonResourceURLs, verbs: rule.verbs))
            }
        }
        if !errors.isEmpty { result.evaluationError = RBACResolutionError.aggregate(errors) }
        return result
    }
}

extension RBACAuthorizer {
    /// Whether `rule` allows `a` (`RuleAllows`): verb, group, `resource[/subresource]` and
    /// name for resource requests; verb and URL for non-resource requests.
    public static func rule(_ rule: PolicyRule, allows a: AuthorizationAttributes) -> Bool {
        guard verbMatches(rule, a.verb) else { return false }
        guard a.isResourceRequest else { return nonResourceURLMatches(rule, a.path) }
        let combined = a.subresource.isEmpty ? a.resource : a.resource + "/" + a.subresource
        return apiGroupMatches(rule, a.apiGroup)
            && resourceMatches(rule, combined: combined, subresource: a.subresource)
            && resourceNameMatches(rule, a.name)
    }

    /// `*` or the verb itself.
    public static func verbMatches(_ rule: PolicyRule, _ verb: String) -> Bool {
        (rule.verbs ?? []).contains { $0 == "*" || $0 == verb }
    }

    /// `*` or the group itself.
    public static func apiGroupMatches(_ rule: PolicyRule, _ group: String) -> Bool {
        (rule.apiGroups ?? []).contains { $0 == "*" || $0 == group }
    }

    /// `*`, the exact `resource[/subresource]`, or `*/<subresource>` for a subresource request.
    public static func resourceMatches(_ rule: PolicyRule, combined: String, subresource: String) -> Bool {
        (rule.resources ?? []).contains { r in
            if r == "*" || r == combined { return true }
            guard !subresource.isEmpty else { return false }
            return r == "*/" + subresource
        }
    }

    /// A rule without resourceNames matches any name; one with names matches only a
    /// request naming one of them (so never a list, watch, create or deletecollection).
    public static func resourceNameMatches(_ rule: PolicyRule, _ name: String) -> Bool {
        let names = rule.resourceNames ?? []
        return names.isEmpty || names.contains(name)
    }

    /// `*`, the exact path, or a prefix written with a trailing `*` (`/apis/*`).
    public static func nonResourceURLMatches(_ rule: PolicyRule, _ path: String) -> Bool {
        (rule.nonResourceURLs ?? []).contains { url in
            if url == "*" || url == path { return true }
            return url.hasSuffix("*") && path.hasPrefix(urlPrefix(url))
        }
    }

    /// A URL pattern without its trailing stars (Go's `strings.TrimRight(url, "*")`).
    static func urlPrefix(_ url: String) -> String {
        var s = Substring(url)
        while s.last == "*" { s.removeLast() }
        return String(s)
    }
}
