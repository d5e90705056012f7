import Foundation
import OrcaAPI

/// Roles and ClusterRoles: every rule needs verbs, and either resources with API groups
/// or (cluster roles only) non-resource URLs (`ValidatePolicyRule`).
struct RoleStrategy: ResourceStrategy {
    var namespaced: Bool

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        for (i, rule) in (object["rules"]?.arrayValue ?? []).enumerated() {
            causes += Self.validateRule(rule, namespaced: namespaced, path: "rules[\(i)]")
        }
        if !namespaced, let aggregation = object["aggregationRule"], !aggregation.isNull {
            let selectors = aggregation["clusterRoleSelectors"]?.arrayValue ?? []
            if selectors.isEmpty { causes.append(.required("aggregationRule.clusterRoleSelectors")) }
            for (i, s) in selectors.enumerated() {
                causes += WorkloadValidation.validateSelector(s, path: "aggregationRule.clusterRoleSelectors[\(i)]")
            }
        }
        return causes
    }

    static func validateRule(_ rule: JSONValue, namespaced: Bool, path: String) -> [StatusCause] {
        func count(_ key: String) -> Int { rule[key]?.arrayValue?.count ?? 0 }
        var causes: [StatusCause] = []
        if count("verbs") == 0 { causes.append(.required("\(path).verbs", "Required value: verbs must contain at least one value")) }
        if count("nonResourceURLs") > 0 {
            let urls = GoFormat.stringSlice(rule["nonResourceURLs"])
            if namespaced {
                causes.append(.invalidValue("\(path).nonResourceURLs", rendered: urls, "namespaced rules cannot apply to non-resource URLs"))
            }
            if count("apiGroups") > 0 || count("resources") > 0 || count("resourceNames") > 0 {
                causes.append(.invalidValue("\(path).nonResourceURLs", rendered: urls, "rules cannot apply to both regular resources and non-resource URLs"))
            }
            return causes
        }
        if count("apiGroups") == 0 { causes.append(.required("\(path).apiGroups", "Required value: resource rules must supply at least one api group")) }
        if count("resources") == 0 { causes.append(.required("\(path).resources", "Required value: resource rules must supply at least one resource")) }
        return causes
    }
}

/// RoleBindings and ClusterRoleBindings: `SetDefaults_Subject`/`RoleRef`, a valid and
/// immutable `roleRef`, well-formed subjects.
struct RoleBindingStrategy: ResourceStrategy {
    static let group = "rbac.authorization.k8s.io"
    var namespaced: Bool

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    static func defaults(_ o: inout JSONValue) {
        if (o[path: ["roleRef", "apiGroup"]]?.stringValue ?? "").isEmpty, o["roleRef"]?.objectValue != nil {
            o[path: ["roleRef", "apiGroup"]] = .string(group)
        }
        guard let subjects = o["subjects"]?.arrayValue else { return }
        o["subjects"] = .array(subjects.map { s in
            var s = s
            if (s["apiGroup"]?.stringValue ?? "").isEmpty, let kind = s["kind"]?.stringValue, kind == "User" || kind == "Group" {
                s["apiGroup"] = .string(group)
            }
            return s
        })
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        let ref = object["roleRef"]
        let apiGroup = ref?["apiGroup"]?.stringValue ?? ""
        if apiGroup != Self.group { causes.append(.notSupported("roleRef.apiGroup", apiGroup, [Self.group])) }
        let kind = ref?["kind"]?.stringValue ?? ""
        let kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"]
        if !kinds.contains(kind) { causes.append(.notSupported("roleRef.kind", kind, kinds)) }
        let name = ref?["name"]?.stringValue ?? ""
        if name.isEmpty {
            causes.append(.required("roleRef.name"))
        } else {
            causes += Self.pathSegmentErrors(name).map { .invalid("roleRef.name", name, $0) }
        }
        for (i, s) in (object["subjects"]?.arrayValue ?? []).enumerated() {
            causes += validateSubject(s, path: "subjects[\(i)]")
        }
        if let old, old["roleRef"] != ref {
            causes.append(.invalidValue("roleRef", rendered: Self.renderRoleRef(ref), "cannot change roleRef"))
        }
        return causes
    }

    func validateSubject(_ s: JSONValue, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        let name = s["name"]?.stringValue ?? ""
        let apiGroup = s["apiGroup"]?.stringValue ?? ""
        if name.isEmpty { causes.append(.required("\(path).name")) }
        switch s["kind"]?.stringValue ?? "" {
        case "ServiceAccount":
            if !name.isEmpty, !ObjectMetaRules.isDNS1123Subdomain(name) {
                causes.append(.invalid("\(path).name", name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
            }
            if !apiGroup.isEmpty { causes.append(.notSupported("\(path).apiGroup", apiGroup, [""])) }
            if !namespaced, (s["namespace"]?.stringValue ?? "").isEmpty { causes.append(.required("\(path).namespace")) }
        case "User", "Group":
            if apiGroup != Self.group { causes.append(.notSupported("\(path).apiGroup", apiGroup, [Self.group])) }
        case let other:
            causes.append(.notSupported("\(path).kind", other, ["ServiceAccount", "User", "Group"]))
        }
        return causes
    }

    /// `IsValidPathSegmentName`: what RBAC names may not be.
    static func pathSegmentErrors(_ name: String) -> [String] {
        if name == "." { return ["may not be '.'"] }
        if name == ".." { return ["may not be '..'"] }
        var errors: [String] = []
        if name.contains("/") { errors.append("may not contain '/'") }
        if name.contains("%") { errors.append("may not contain '%'") }
        return errors
    }

    static func renderRoleRef(_ ref: JSONValue?) -> String {
        let g = GoFormat.quote(ref?["apiGroup"]?.stringValue ?? "")
        let k = GoFormat.quote(ref?["kind"]?.stringValue ?? "")
        let n = GoFormat.quote(ref?["name"]?.stringValue ?? "")
        return "rbac.RoleRef{APIGroup:\(g), Kind:\(k), Name:\(n)}"
    }
}
