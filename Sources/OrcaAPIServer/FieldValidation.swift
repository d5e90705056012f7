import Foundation
import OrcaAPI

/// Server-side field validation (the `fieldValidation` query parameter of create, update
/// and patch): Kubernetes' strict decoding, done on JSON against the bundled OpenAPI schema —
/// or, for a custom resource, against its version's structural schema (`Schema.custom`).
///
/// Unknown fields are always dropped from what is stored — a Go struct has nowhere to keep
/// them — and the directive decides what the client hears: `Strict` fails the request,
/// `Warn` (the default, as in kube-apiserver) answers with a `Warning` header per field,
/// `Ignore` says nothing. Free-form values (RawExtension, FieldsV1, maps of strings,
/// `x-kubernetes-preserve-unknown-fields`) are not walked.
struct FieldValidation: Sendable {
    enum Directive: String, Sendable, CaseIterable {
        case ignore = "Ignore"
        case warn = "Warn"
        case strict = "Strict"
    }

    /// How a path names list items: `containers[0]` as strict decoding does, or
    /// `.containers[name="c"]` as server-side apply's typed paths do.
    enum PathStyle: Sendable {
        case decoding
        case apply
    }

    /// What decides which fields of a body are unknown.
    enum Schema: Sendable {
        /// A built-in kind: its definition in the bundled OpenAPI schema.
        case builtIn
        /// A custom resource: its version's structural schema (nil: the version has none, so only
        /// `metadata` is checked), as `CustomResourceUnknownFields` applies it.
        case custom(StructuralSchema?)

        /// The schema of `r`'s bodies: a custom resource's when `served` serves `r` as one.
        init(_ r: ResourceType, served: ServedResources) {
            if let custom = served.customResource(r) {
                self = .custom(custom.version(r)?.schema)
            } else {
                self = .builtIn
            }
        }
    }

    var directive: Directive
    var schema: Schema = .builtIn

    init(_ directive: Directive, schema: Schema = .builtIn) {
        self.directive = directive
        self.schema = schema
    }

    /// Reads `fieldValidation` from a request query. `options` names the options kind in the
    /// error for a bad value (`CreateOptions`, `UpdateOptions`, `PatchOptions`).
    init(query: [String: String], options: String) throws {
        let value = query["fieldValidation"] ?? ""
        if value.isEmpty {
            directive = .warn
        } else if let d = Directive(rawValue: value) {
            directive = d
        } else {
            let supported = ["", "Ignore", "Strict", "Warn"].map { "\"\($0)\"" }.joined(separator: ", ")
            let body = "Unsupported value: \"\(value)\": supported values: \(supported)"
            throw APIError(code: 422, reason: "Invalid",
                           message: "\(options).meta.k8s.io \"\" is invalid: fieldValidation: \(body)",
                           details: ["group": "meta.k8s.io", "kind": .string(options), "name": "",
                                     "causes": [["reason": "FieldValueNotSupported", "message": .string(body), "field": "fieldValidation"]]])
        }
    }

    // MARK: the schema walk

    /// Drops the fields `definition` does not declare from `object` (recursively) and
    /// returns their paths in document order of sorted keys.
    static func prune(_ object: inout JSONValue, definition: String?, style: PathStyle = .decoding) -> [String] {
        var findings = Findings()
        walk(&object, definition: definition, path: style == .apply ? "" : nil, style: style, findings: &findings)
        return findings.unknown
    }

    /// What a schema walk found: unknown fields, and numbers a Go decoder would refuse.
    struct Findings {
        var unknown: [String] = []
        /// Decoding errors: a value of the wrong JSON type, or a number out of its integer
        /// field's range (`cannot unmarshal number … of type int32`).
        var numbers: [String] = []
    }

    /// Drops unknown fields like `prune`, and returns both findings. `path` names where `object`
    /// sits (`metadata`), nil for a whole body.
    static func inspect(_ object: inout JSONValue, definition: String?, at path: String? = nil) -> Findings {
        var findings = Findings()
        walk(&object, definition: definition, path: path, style: .decoding, findings: &findings)
        return findings
    }

    /// Drops the unknown fields of a body of `r` as this validation's schema sees them, and
    /// returns the findings.
    func inspect(_ object: inout JSONValue, _ r: ResourceType) -> Findings {
        switch schema {
        case .builtIn: Self.inspect(&object, definition: Self.definition(r))
        case .custom(let structural): CustomResourceUnknownFields.inspect(&object, schema: structural)
        }
    }

    /// Kubernetes decodes into Go structs, so a value must have its field's JSON type (a label
    /// value cannot be an object), and a number in an integer field must be whole and fit the
    /// field's type (`int32` or `int64`); otherwise the request is a 400. This keeps every later
    /// reader of the stored object from meeting a shape or a number it cannot handle.
    private static func checkType(_ value: JSONValue, schema: JSONValue, path: String, findings: inout Findings) {
        let types = schema["type"]?.stringValue.map { [$0] } ?? schema["type"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard let type = types.first(where: { $0 != "null" }), schema["x-kubernetes-int-or-string"]?.boolValue != true else { return }
        let kind: String? = switch value {
        case .null: nil
        case .bool: type == "boolean" ? nil : "bool"
        case .int, .double: type == "integer" || type == "number" ? nil : "number"
        case .string: type == "string" ? nil : "string"
        case .array: type == "array" ? nil : "array"
        case .object: type == "object" ? nil : "object"
        }
        if let kind {
            let goType = ["string": "string", "integer": schema["format"]?.stringValue ?? "int64", "boolean": "bool",
                          "number": "float64", "array": "slice", "object": "map"][type] ?? type
            findings.numbers.append("json: cannot unmarshal \(kind) into Go struct field \(path) of type \(goType)")
            return
        }
        guard type == "integer" else { return }
        let format = schema["format"]?.stringValue == "int32" ? "int32" : "int64"
        let range: ClosedRange<Int64> = format == "int32" ? Int64(Int32.min)...Int64(Int32.max) : Int64.min...Int64.max
        let text: String
        switch value {
        case .int(let i):
            if range.contains(i) { return }
            text = String(i)
        case .double(let d):
            if let i = Int64(exactly: d), range.contains(i) { return }
            text = GoFormat.describe(value)
        default:
            return
        }
        findings.numbers.append("json: cannot unmarshal number \(text) into Go struct field \(path) of type \(format)")
    }

    /// The paths of unknown fields of `object`, leaving it as it is.
    static func unknownFields(_ object: JSONValue, definition: String?, style: PathStyle = .decoding) -> [String] {
        var copy = object
        return prune(&copy, definition: definition, style: style)
    }

    /// The definition name of a resource's kind, if the schema has it.
    static func definition(_ r: ResourceType) -> String? {
        OpenAPISchema.definitionName(apiVersion: r.apiVersion, kind: r.kind)
    }

    /// `path` nil means the root in decoding style (no leading dot).
    private static func walk(_ value: inout JSONValue, definition: String?, path: String?, style: PathStyle, findings: inout Findings) {
        guard let definition, let def = OpenAPISchema.definitions[definition],
              let properties = def["properties"]?.objectValue,
              def["x-kubernetes-preserve-unknown-fields"]?.boolValue != true,
              case .object(var fields) = value else { return }
        for key in fields.keys.sorted() {
            let child = path.map { "\($0).\(key)" } ?? key
            guard let property = properties[key] else {
                findings.unknown.append(child)
                fields[key] = nil
                continue
            }
            walkProperty(&fields[key]!, schema: property, path: child, style: style, findings: &findings)
        }
        value = .object(fields)
    }

    private static func walkProperty(_ value: inout JSONValue, schema: JSONValue, path: String, style: PathStyle, findings: inout Findings) {
        if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true { return }
        if let ref = reference(schema) {
            walk(&value, definition: ref, path: path, style: style, findings: &findings)
            return
        }
        checkType(value, schema: schema, path: path, findings: &findings)
        if schema["type"]?.stringValue == "array", let items = schema["items"], case .array(var elements) = value {
            let keys = schema["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue)
                ?? schema["x-kubernetes-patch-merge-key"]?.stringValue.map { [$0] } ?? []
            for i in elements.indices {
                let item = path + itemSelector(elements[i], index: i, keys: keys, style: style)
                walkProperty(&elements[i], schema: items, path: item, style: style, findings: &findings)
            }
            value = .array(elements)
        } else if let values = schema["additionalProperties"], values.objectValue != nil, case .object(var entries) = value {
            for key in entries.keys.sorted() {
                let entry = style == .apply ? "\(path).\(key)" : "\(path)[\(key)]"
                walkProperty(&entries[key]!, schema: values, path: entry, style: style, findings: &findings)
            }
            value = .object(entries)
        }
    }

    /// The definition a property refers to (`$ref`, or the first of `allOf`).
    private static func reference(_ schema: JSONValue) -> String? {
        let ref = schema["$ref"]?.stringValue ?? schema["allOf"]?.arrayValue?.first?["$ref"]?.stringValue
        return ref.map { String($0.split(separator: "/").last ?? "") }
    }

    private static func itemSelector(_ item: JSONValue, index: Int, keys: [String], style: PathStyle) -> String {
        guard style == .apply, !keys.isEmpty, item.objectValue != nil else { return "[\(index)]" }
        let parts = keys.compactMap { key -> String? in
            guard let v = item[key] else { return nil }
            if let s = v.stringValue { return "\(key)=\(GoFormat.quote(s))" }
            return "\(key)=\(v.jsonString)"
        }
        return parts.isEmpty ? "[\(index)]" : "[\(parts.joined(separator: ","))]"
    }

    // MARK: outcomes

    /// The strict decoding error text for some unknown fields.
    static func strictDecodingError(_ unknown: [String], duplicates: [String] = []) -> String {
        "strict decoding error: " + problems(unknown, duplicates).joined(separator: ", ")
    }

    /// Each unknown and duplicate field as kube's strict decoder words it.
    static func problems(_ unknown: [String], _ duplicates: [String]) -> [String] {
        unknown.map { "unknown field \"\($0)\"" } + duplicates.map { "duplicate field \"\($0)\"" }
    }

    /// The checks of a create or update body: drops unknown fields and returns the
    /// warnings to send; throws 400 under `Strict` (as Kubernetes' decoder does).
    func check(body object: inout JSONValue, _ r: ResourceType, duplicates: [String] = []) throws -> [String] {
        let findings = inspect(&object, r)
        try Self.checkNumbers(findings, r)
        let unknown = findings.unknown
        return try outcome(unknown, duplicates) {
            APIError.badRequest("\(r.kind) in version \"\(r.version)\" cannot be handled as a \(r.kind): \(Self.strictDecodingError(unknown, duplicates: duplicates))")
        }
    }

    /// The checks of a patched object: drops unknown fields, ignoring those the current
    /// object had already; under `Strict` throws 422 with the patch as the bad value, as
    /// Kubernetes' patch handler does.
    func check(patched object: inout JSONValue, current: JSONValue, patch: JSONValue, strategic: Bool, _ r: ResourceType) throws -> [String] {
        var copy = current
        let known = Set(inspect(&copy, r).unknown)
        let shown = strategic ? GoFormat.describe(patch) : object.jsonString
        let findings = inspect(&object, r)
        try Self.checkNumbers(findings, r)
        let unknown = findings.unknown.filter { !known.contains($0) }
        return try outcome(unknown) {
            let body = "Invalid value: \(GoFormat.quote(shown)): \(Self.strictDecodingError(unknown))"
            return APIError(code: 422, reason: "Invalid", message: " \"\" is invalid: patch: \(body)",
                            details: ["name": "", "kind": "",
                                      "causes": [["reason": "FieldValueInvalid", "message": .string(body), "field": "patch"]]])
        }
    }

    /// 400 for numbers no Go decoder would take, whatever the directive.
    static func checkNumbers(_ findings: Findings, _ r: ResourceType) throws {
        guard let first = findings.numbers.first else { return }
        throw APIError.badRequest("\(r.kind) in version \"\(r.version)\" cannot be handled as a \(r.kind): \(first)")
    }

    private func outcome(_ unknown: [String], _ duplicates: [String] = [], strictError: () -> APIError) throws -> [String] {
        if unknown.isEmpty, duplicates.isEmpty { return [] }
        switch directive {
        case .strict: throw strictError()
        case .warn: return Self.problems(unknown, duplicates)
        case .ignore: return []
        }
    }

    /// Server-side apply: a configuration with fields the schema does not declare fails
    /// whatever the directive, as Kubernetes' typed conversion does (500, no reason).
    static func checkApplied(_ applied: JSONValue, _ r: ResourceType, namespace: String?, name: String) throws {
        let unknown = unknownFields(applied, definition: definition(r), style: .apply)
        if unknown.isEmpty { return }
        let errors = unknown.map { "\($0): field not declared in schema" }
        let text = errors.count == 1 ? errors[0] : (["errors:"] + errors.map { "  " + $0 }).joined(separator: "\n")
        let group = r.group.isEmpty ? "" : "\(r.group)/"
        throw APIError(code: 500, reason: "",
                       message: "failed to create typed patch object (\(namespace ?? "")/\(name); \(group)\(r.version), Kind=\(r.kind)): \(text)")
    }
}

/// The `Warning` response header (RFC 7234 warn-code 299, agent `-`), as Kubernetes writes it.
enum WarningHeader {
    static func value(_ text: String) -> String {
        var quoted = "\""
        for c in text {
            if c == "\"" || c == "\\" { quoted.append("\\") }
            quoted.append(c.isNewline ? " " : c)
        }
        return "299 - " + quoted + "\""
    }
}
