import Foundation
import OrcaCore

/// The checks kube-apiserver makes on a CRD version's `openAPIV3Schema` (apiextensions'
/// `ValidateCustomResourceDefinitionOpenAPISchema`, `schema.ValidateStructural` and
/// `defaulting.ValidateDefaults`), over the raw JSON so that keywords a structural schema cannot hold
/// (`$ref`, `definitions`, …) and keywords of the wrong JSON type are seen too.
struct SchemaCheck {
    /// What is wrong, in the order found.
    private(set) var causes: [StatusCause] = []

    /// Where a schema node sits in the structural tree (the wording of a missing `type` depends on it).
    enum Level { case root, item, field }

    /// The fields of an object that belong to the API server at the root and in embedded resources.
    static let metaFields: Set<String> = ["apiVersion", "kind", "metadata"]
    /// The `type`s a CRD schema may use, sorted as kube-apiserver lists them.
    static let types = ["array", "boolean", "integer", "number", "object", "string"]

    /// `path.component` (or the component alone under an empty path).
    static func sub(_ path: String, _ component: String) -> String { path.isEmpty ? component : "\(path).\(component)" }

    /// Records one problem.
    mutating func add(_ cause: StatusCause) { causes.append(cause) }

    /// Runs every check on the root schema at `path`.
    mutating func run(_ schema: JSONValue, path: String) {
        checkNode(schema, path: path, isRoot: true, insideResourceMeta: false, defaultsForbidden: nil)
        if case .object(let root) = schema {
            checkStructural(root, path: path, level: .root)
            checkCompleteness(root, path: path)
        }
        if causes.isEmpty { checkDefaults(schema, path: path, insideMeta: false) }
    }

    /// The per-node keyword checks of CRD validation, recursing into every sub-schema (including those
    /// under `allOf`, `anyOf`, `oneOf` and `not`).
    mutating func checkNode(_ node: JSONValue, path: String, isRoot: Bool, insideResourceMeta: Bool, defaultsForbidden: String?) {
        guard case .object(let o) = node else {
            add(SchemaFieldError.invalid(path, node, "must be a JSON schema object"))
            return
        }
        checkKeywordTypes(o, path: path)
        let type = o["type"]?.stringValue ?? ""
        if !type.isEmpty && !Self.types.contains(type) {
            add(SchemaFieldError.notSupported(Self.sub(path, "type"), .string(type), Self.types))
        }
        if o["default"] != nil, let reason = defaultsForbidden {
            add(SchemaFieldError.forbidden(Self.sub(path, "default"), reason))
        }
        for (key, what) in [("id", "id"), ("$schema", "$schema")] where !(o[key]?.stringValue ?? "").isEmpty {
            add(SchemaFieldError.forbidden(Self.sub(path, key), "\(what) is not supported"))
        }
        if o["additionalItems"] != nil && o["additionalItems"] != .null {
            add(SchemaFieldError.forbidden(Self.sub(path, "additionalItems"), "additionalItems is not supported"))
        }
        for key in ["patternProperties", "definitions"] where !(o[key]?.objectValue ?? [:]).isEmpty {
            add(SchemaFieldError.forbidden(Self.sub(path, key), "\(key) is not supported"))
        }
        if o["dependencies"] != nil && o["dependencies"] != .null {
            add(SchemaFieldError.forbidden(Self.sub(path, "dependencies"), "dependencies is not supported"))
        }
        if o["$ref"] != nil && o["$ref"] != .null {
            add(SchemaFieldError.forbidden(Self.sub(path, "$ref"), "$ref is not supported"))
        }
        if type == "null" {
            add(SchemaFieldError.forbidden(Self.sub(path, "type"), "type cannot be set to null, use nullable as an alternative"))
        }
        if case .array(let list)? = o["items"], !list.isEmpty {
            add(SchemaFieldError.forbidden(Self.sub(path, "items"), "items must be a schema object and not an array"))
        }
        if insideResourceMeta && o["x-kubernetes-embedded-resource"]?.boolValue == true {
            add(SchemaFieldError.forbidden(Self.sub(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta"))
        }
        if o["uniqueItems"]?.boolValue == true {
            add(SchemaFieldError.forbidden(Self.sub(path, "uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
        }
        if let pattern = o["pattern"]?.stringValue, let error = CompiledRegex(pattern).error {
            add(SchemaFieldError.invalid(Self.sub(path, "pattern"), .string(pattern), "must be a valid regular expression, but isn't: \(error)"))
        }
        if o["x-kubernetes-int-or-string"]?.boolValue == true && !type.isEmpty {
            add(SchemaFieldError.invalid(Self.sub(path, "type"), .string(type), "must be empty if x-kubernetes-int-or-string is true"))
        }
        recurse(o, path: path, isRoot: isRoot, insideResourceMeta: insideResourceMeta, defaultsForbidden: defaultsForbidden)
        if o["x-kubernetes-preserve-unknown-fields"] == .bool(false) {
            add(SchemaFieldError.invalid(Self.sub(path, "x-kubernetes-preserve-unknown-fields"), .bool(false), "must be true or undefined"))
        }
        checkListAndMapTypes(o, path: path, type: type)
        checkRules(o, path: path)
    }

    private mutating func recurse(_ o: [String: JSONValue], path: String, isRoot: Bool, insideResourceMeta: Bool, defaultsForbidden: String?) {
        let properties = o["properties"]?.objectValue ?? [:]
        switch o["additionalProperties"] {
        case .bool(false)?, .object?:
            if !properties.isEmpty {
                add(SchemaFieldError.forbidden(Self.sub(path, "additionalProperties"), "additionalProperties and properties are mutual exclusive"))
            }
        default: break
        }
        if case .object? = o["additionalProperties"] {
            let reason = insideResourceMeta ? "inside additionalProperties applying to object metadata" : defaultsForbidden
            checkNode(o["additionalProperties"]!, path: Self.sub(path, "additionalProperties"), isRoot: false,
                      insideResourceMeta: insideResourceMeta, defaultsForbidden: reason)
        }
        let embedded = o["x-kubernetes-embedded-resource"]?.boolValue == true
        for key in properties.keys.sorted() {
            var inMeta = insideResourceMeta, reason = defaultsForbidden
            if (isRoot || embedded) && Self.metaFields.contains(key) {
                inMeta = true
                if isRoot { reason = "in top-level \(key)" }
            }
            checkNode(properties[key]!, path: "\(Self.sub(path, "properties"))[\(key)]", isRoot: false, insideResourceMeta: inMeta, defaultsForbidden: reason)
        }
        if let not = o["not"], not != .null {
            checkNode(not, path: Self.sub(path, "not"), isRoot: false, insideResourceMeta: insideResourceMeta, defaultsForbidden: defaultsForbidden)
        }
        for junctor in ["allOf", "oneOf", "anyOf"] {
            for (i, branch) in (o[junctor]?.arrayValue ?? []).enumerated() {
                checkNode(branch, path: "\(Self.sub(path, junctor))[\(i)]", isRoot: false, insideResourceMeta: insideResourceMeta, defaultsForbidden: defaultsForbidden)
            }
        }
        switch o["items"] {
        case .object?:
            checkNode(o["items"]!, path: Self.sub(path, "items"), isRoot: false, insideResourceMeta: insideResourceMeta, defaultsForbidden: defaultsForbidden)
        case .array(let list)?:
            for (i, item) in list.enumerated() {
                checkNode(item, path: "\(Self.sub(path, "items"))[\(i)]", isRoot: false, insideResourceMeta: insideResourceMeta, defaultsForbidden: defaultsForbidden)
            }
        default: break
        }
    }

    /// Keywords whose JSON type is wrong (kube-apiserver would fail to decode them).
    private mutating func checkKeywordTypes(_ o: [String: JSONValue], path: String) {
        let kinds: [(String, [String])] = [
            ("a string", ["type", "format", "pattern", "description", "title", "id", "$schema", "$ref", "x-kubernetes-list-type", "x-kubernetes-map-type"]),
            ("a boolean", ["nullable", "uniqueItems", "exclusiveMinimum", "exclusiveMaximum", "x-kubernetes-preserve-unknown-fields",
                           "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string"]),
            ("a number", ["minimum", "maximum", "multipleOf"]),
            ("a non-negative integer", ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"]),
            ("a list of strings", ["required", "x-kubernetes-list-map-keys"]),
            ("a list", ["enum", "allOf", "anyOf", "oneOf", "x-kubernetes-validations"]),
            ("an object", ["properties", "not", "externalDocs", "definitions", "patternProperties", "dependencies"]),
            ("an object or a boolean", ["additionalProperties", "additionalItems"]),
            ("an object or a list", ["items"]),
        ]
        for (kind, keys) in kinds {
            for key in keys {
                guard let v = o[key], v != .null, !Self.has(v, kind) else { continue }
                add(SchemaFieldError.invalid(Self.sub(path, key), v, "must be \(kind)"))
            }
        }
    }

    private static func has(_ v: JSONValue, _ kind: String) -> Bool {
        switch (kind, v) {
        case ("a string", .string), ("a boolean", .bool), ("a number", .int), ("a number", .double), ("a list", .array),
             ("an object", .object), ("an object or a boolean", .object), ("an object or a boolean", .bool),
             ("an object or a list", .object), ("an object or a list", .array):
            return true
        case ("a non-negative integer", _): return (v.intValue ?? -1) >= 0
        case ("a list of strings", .array(let a)): return a.allSatisfy { $0.stringValue != nil }
        default: return false
        }
    }

    /// `x-kubernetes-validations`: every rule needs a `rule`, and a `reason` must be a known one.
    private mutating func checkRules(_ o: [String: JSONValue], path: String) {
        let reasons = ["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"]
        for (i, rule) in (o["x-kubernetes-validations"]?.arrayValue ?? []).enumerated() {
            let rulePath = "\(Self.sub(path, "x-kubernetes-validations"))[\(i)]"
            if (rule["rule"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                add(SchemaFieldError.required(Self.sub(rulePath, "rule"), "rule is not specified"))
            }
            if let reason = rule["reason"], reason != .null, !reasons.contains(reason.stringValue ?? "") {
                add(SchemaFieldError.notSupported(Self.sub(rulePath, "reason"), reason, reasons))
            }
        }
    }
}
