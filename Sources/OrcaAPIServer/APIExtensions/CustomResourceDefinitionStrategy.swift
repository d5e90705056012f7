import Foundation
import OrcaAPI

/// `apiextensions.k8s.io/v1` CustomResourceDefinitions (apiextensions-apiserver's strategy
/// and `ValidateCustomResourceDefinition`): defaults for names and conversion, a clean status
/// on create, and the checks that make a definition servable — names, scope, exactly one
/// storage version, structural schemas, subresources, printer columns and conversion.
struct CustomResourceDefinitionStrategy: ResourceStrategy {
    static let scopes = ["Cluster", "Namespaced"]
    static let columnTypes = ["boolean", "date", "integer", "number", "string"]
    static let conversionStrategies = ["None", "Webhook"]
    static let reviewVersions = ["v1", "v1beta1"]

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        Self.defaults(&object)
        let storage = (object[path: ["spec", "versions"]]?.arrayValue ?? []).first { $0["storage"]?.boolValue == true }
        object["status"] = ["storedVersions": .array(storage?["name"].map { [$0] } ?? []), "conditions": [],
                            "acceptedNames": ["plural": "", "kind": ""]]
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        Self.defaults(&object)
    }

    /// `SetDefaults_CustomResourceDefinition`: singular and list kind from the kind, `None`
    /// conversion, and the status subresource's `{}` kept as set.
    static func defaults(_ o: inout JSONValue) {
        if let kind = o[path: ["spec", "names", "kind"]]?.stringValue, !kind.isEmpty {
            if (o[path: ["spec", "names", "singular"]]?.stringValue ?? "").isEmpty {
                o[path: ["spec", "names", "singular"]] = .string(kind.lowercased())
            }
            if (o[path: ["spec", "names", "listKind"]]?.stringValue ?? "").isEmpty {
                o[path: ["spec", "names", "listKind"]] = .string(kind + "List")
            }
        }
        if (o[path: ["spec", "conversion", "strategy"]]?.stringValue ?? "").isEmpty {
            o[path: ["spec", "conversion", "strategy"]] = "None"
        }
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        let spec = object["spec"] ?? [:]
        let group = spec["group"]?.stringValue ?? ""
        let plural = spec[path: ["names", "plural"]]?.stringValue ?? ""
        let name = object.metadataName ?? ""
        if name != "\(plural).\(group)" {
            causes.append(.invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"))
        }
        if group.isEmpty {
            causes.append(.required("spec.group"))
        } else if !ObjectMetaRules.isDNS1123Subdomain(group) {
            causes.append(.invalid("spec.group", group, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
        } else if group.split(separator: ".").count < 2 {
            causes.append(.invalid("spec.group", group, "should be a domain with at least one dot"))
        }
        let scope = spec["scope"]?.stringValue ?? ""
        if scope.isEmpty {
            causes.append(.required("spec.scope"))
        } else if !Self.scopes.contains(scope) {
            causes.append(.notSupported("spec.scope", scope, Self.scopes))
        }
        causes += Self.validateNames(spec["names"] ?? [:], field: "spec.names")
        causes += Self.validateVersions(spec["versions"]?.arrayValue ?? [])
        causes += Self.validateConversion(spec["conversion"] ?? [:], versions: spec["versions"]?.arrayValue ?? [])
        if spec["preserveUnknownFields"]?.boolValue == true {
            causes.append(.invalid("spec.preserveUnknownFields", "true",
                                   "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead"))
        }
        if let old {
            if let oldScope = old[path: ["spec", "scope"]]?.stringValue, oldScope != scope {
                causes.append(.invalid("spec.scope", scope, "field is immutable"))
            }
            if let oldGroup = old[path: ["spec", "group"]]?.stringValue, oldGroup != group {
                causes.append(.invalid("spec.group", group, "field is immutable"))
            }
        }
        let served = Set((spec["versions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        for (i, stored) in (object[path: ["status", "storedVersions"]]?.arrayValue ?? []).enumerated() {
            if let v = stored.stringValue, !served.contains(v) {
                causes.append(.invalid("status.storedVersions[\(i)]", v, "must appear in spec.versions"))
            }
        }
        return causes
    }

    /// CEL is not evaluated yet: each `x-kubernetes-validations` rule is named in a Warning
    /// rather than silently skipped.
    func warnings(_ object: JSONValue) -> [String] {
        var out: [String] = []
        for (i, v) in (object[path: ["spec", "versions"]]?.arrayValue ?? []).enumerated() {
            guard let schema = v[path: ["schema", "openAPIV3Schema"]] else { continue }
            for rule in StructuralSchema(schema).validationRules {
                let path = rule.path.isEmpty ? "" : "." + rule.path
                out.append("spec.versions[\(i)].schema.openAPIV3Schema\(path): x-kubernetes-validations rule \"\(rule.rule)\" is not evaluated by Orca yet")
            }
        }
        return out
    }

    /// `ValidateCustomResourceDefinitionNames`.
    static func validateNames(_ names: JSONValue, field: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        func label(_ value: String, _ path: String, required: Bool, lowercased: Bool = false) {
            if value.isEmpty {
                if required { causes.append(.required(path)) }
                return
            }
            let checked = lowercased ? value.lowercased() : value
            if !isDNS1035Label(checked) {
                let detail = lowercased ? "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?"
                    : "a lowercase RFC 1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
                causes.append(.invalid(path, value, detail))
            }
        }
        label(names["plural"]?.stringValue ?? "", "\(field).plural", required: true)
        label(names["singular"]?.stringValue ?? "", "\(field).singular", required: true)
        let kind = names["kind"]?.stringValue ?? ""
        label(kind, "\(field).kind", required: true, lowercased: true)
        let listKind = names["listKind"]?.stringValue ?? ""
        label(listKind, "\(field).listKind", required: true, lowercased: true)
        if !kind.isEmpty, kind == listKind {
            causes.append(.invalid("\(field).listKind", listKind, "kind and listKind cannot be the same"))
        }
        for (i, s) in (names["shortNames"]?.arrayValue ?? []).enumerated() {
            label(s.stringValue ?? "", "\(field).shortNames[\(i)]", required: true)
        }
        for (i, s) in (names["categories"]?.arrayValue ?? []).enumerated() {
            label(s.stringValue ?? "", "\(field).categories[\(i)]", required: true)
        }
        return causes
    }

    /// Versions: named, unique, exactly one stored; each with a structural schema, valid
    /// subresources, printer columns and selectable fields.
    static func validateVersions(_ versions: [JSONValue]) -> [StatusCause] {
        if versions.isEmpty { return [.required("spec.versions", "must have exactly one version marked as storage version")] }
        var causes: [StatusCause] = []
        var seen = Set<String>()
        var storage = 0
        for (i, v) in versions.enumerated() {
            let field = "spec.versions[\(i)]"
            let name = v["name"]?.stringValue ?? ""
            if name.isEmpty {
                causes.append(.required("\(field).name"))
            } else if !isDNS1035Label(name) {
                causes.append(.invalid("\(field).name", name, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"))
            } else if !seen.insert(name).inserted {
                causes.append(.duplicate("\(field).name", name))
            }
            if v["storage"]?.boolValue == true { storage += 1 }
            if let schema = v[path: ["schema", "openAPIV3Schema"]] {
                causes += StructuralSchema.validateSchema(schema, fieldPath: "\(field).schema.openAPIV3Schema")
            } else {
                causes.append(.required("\(field).schema.openAPIV3Schema", "schemas are required"))
            }
            causes += validateScale(v[path: ["subresources", "scale"]], field: "\(field).subresources.scale")
            for (j, column) in (v["additionalPrinterColumns"]?.arrayValue ?? []).enumerated() {
                let path = "\(field).additionalPrinterColumns[\(j)]"
                if (column["name"]?.stringValue ?? "").isEmpty { causes.append(.required("\(path).name")) }
                let type = column["type"]?.stringValue ?? ""
                if type.isEmpty {
                    causes.append(.required("\(path).type"))
                } else if !columnTypes.contains(type) {
                    causes.append(.notSupported("\(path).type", type, columnTypes))
                }
                causes += validateJSONPath(column["jsonPath"]?.stringValue ?? "", field: "\(path).jsonPath")
            }
            for (j, selectable) in (v["selectableFields"]?.arrayValue ?? []).enumerated() {
                causes += validateJSONPath(selectable["jsonPath"]?.stringValue ?? "", field: "\(field).selectableFields[\(j)].jsonPath")
            }
        }
        if storage != 1 {
            causes.append(.invalid("spec.versions", "\(versions.count) versions",
                                   "must have exactly one version marked as storage version"))
        }
        return causes
    }

    static func validateScale(_ scale: JSONValue?, field: String) -> [StatusCause] {
        guard let scale else { return [] }
        var causes: [StatusCause] = []
        let spec = scale["specReplicasPath"]?.stringValue ?? ""
        if spec.isEmpty {
            causes.append(.required("\(field).specReplicasPath"))
        } else if !spec.hasPrefix(".spec.") || CustomResourceJSONPath(spec) == nil {
            causes.append(.invalid("\(field).specReplicasPath", spec, "should be a json path under .spec"))
        }
        let status = scale["statusReplicasPath"]?.stringValue ?? ""
        if status.isEmpty {
            causes.append(.required("\(field).statusReplicasPath"))
        } else if !status.hasPrefix(".status.") || CustomResourceJSONPath(status) == nil {
            causes.append(.invalid("\(field).statusReplicasPath", status, "should be a json path under .status"))
        }
        if let selector = scale["labelSelectorPath"]?.stringValue, !selector.isEmpty,
           !(selector.hasPrefix(".spec.") || selector.hasPrefix(".status.")) || CustomResourceJSONPath(selector) == nil {
            causes.append(.invalid("\(field).labelSelectorPath", selector, "should be a json path under either .spec or .status"))
        }
        return causes
    }

    static func validateJSONPath(_ path: String, field: String) -> [StatusCause] {
        if path.isEmpty { return [.required(field)] }
        if CustomResourceJSONPath(path) == nil { return [.invalid(field, path, "must be a simple json path")] }
        return []
    }

    static func validateConversion(_ conversion: JSONValue, versions: [JSONValue]) -> [StatusCause] {
        let strategy = conversion["strategy"]?.stringValue ?? "None"
        guard conversionStrategies.contains(strategy) else {
            return [.notSupported("spec.conversion.strategy", strategy, conversionStrategies)]
        }
        if strategy == "None" {
            return conversion["webhook"] == nil || conversion["webhook"] == .null ? []
                : [.forbidden("spec.conversion.webhook", "should not be set when strategy is not set to Webhook")]
        }
        var causes: [StatusCause] = []
        guard let webhook = conversion["webhook"], webhook != .null else {
            return [.required("spec.conversion.webhook", "required when strategy is set to Webhook")]
        }
        let config = webhook["clientConfig"] ?? .null
        let url = config["url"]?.stringValue ?? ""
        let service = config["service"]
        if url.isEmpty == (service == nil || service == .null) {
            causes.append(.required("spec.conversion.webhook.clientConfig", "exactly one of url or service is required"))
        }
        let review = (webhook["conversionReviewVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
        if !review.contains(where: reviewVersions.contains) {
            causes.append(.invalid("spec.conversion.webhook.conversionReviewVersions", "[\(review.joined(separator: " "))]",
                                   "must include at least one of v1, v1beta1"))
        }
        return causes
    }

    /// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
    static func isDNS1035Label(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, let last = b.last, b.count <= 63, first >= 0x61 && first <= 0x7a else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
        return alnum(last) && b.allSatisfy { alnum($0) || $0 == 0x2d }
    }
}
