import OrcaAPI

/// The clusterrole-aggregation controller's logic as pure functions: a ClusterRole with an
/// `aggregationRule` gets the union of the rules of every other ClusterRole matched by any
/// of its selectors — selector by selector, matched roles by name, first occurrence of a
/// rule kept (`syncClusterRole`). The controller re-syncs every aggregated role whenever
/// any ClusterRole changes, so aggregates of aggregates (`admin` ⊇ `edit` ⊇ `view`) settle;
/// `aggregate(_:)` runs those syncs to the same fixed point.
public enum ClusterRoleAggregation {
    /// The rules `role` should have given `all` ClusterRoles (one controller sync); nil
    /// when it has no aggregation rule. Throws for a selector with an unknown operator,
    /// which leaves the role as it is.
    public static func aggregatedRules(for role: ClusterRole, in all: [ClusterRole]) throws -> [PolicyRule]? {
        guard let aggregation = role.aggregationRule else { return nil }
        let ownName = role.metadata?.name ?? ""
        let sorted = all.sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
        var rules: [PolicyRule] = [], seen = Set<PolicyRule>()
        for selector in aggregation.clusterRoleSelectors ?? [] {
            let matcher = try LabelMatcher(selector)
            for other in sorted where (other.metadata?.name ?? "") != ownName && matcher.matches(other.metadata?.labels ?? [:]) {
                for rule in other.rules ?? [] where seen.insert(semantic(rule)).inserted {
                    rules.append(rule)
                }
            }
        }
        return rules
    }

    /// `roles` with every aggregated ClusterRole's rules brought up to date, syncing in
    /// order and repeating until nothing changes (bounded, so a selector cycle cannot
    /// loop forever). Roles without an aggregation rule are returned unchanged.
    public static func aggregate(_ roles: [ClusterRole]) -> [ClusterRole] {
        var roles = roles
        for _ in 0...roles.count {
            var changed = false
            for i in roles.indices where roles[i].aggregationRule != nil {
                guard let rules = try? aggregatedRules(for: roles[i], in: roles) else { continue }
                if rules.map(semantic) == (roles[i].rules ?? []).map(semantic) { continue }
                roles[i].rules = rules.isEmpty ? nil : rules
                changed = true
            }
            if !changed { break }
        }
        return roles
    }

    /// A rule with empty lists as nil: Kubernetes compares rules semantically, where an
    /// empty list and a missing one are equal.
    static func semantic(_ rule: PolicyRule) -> PolicyRule {
        func n(_ v: [String]?) -> [String]? { (v ?? []).isEmpty ? nil : v }
        return PolicyRule(apiGroups: n(rule.apiGroups), nonResourceURLs: n(rule.nonResourceURLs),
                          resourceNames: n(rule.resourceNames), resources: n(rule.resources), verbs: n(rule.verbs))
    }
}
