import Foundation
import OrcaCore

/// One CRD version's `openAPIV3Schema`, parsed: the structural schema of apiextensions-apiserver
/// (`pkg/apiserver/schema`) with its value validations, as one recursive value.
///
/// Parsing never fails: keywords of the wrong JSON type are ignored here (``validateSchema(_:fieldPath:)``
/// reports them), so a stored CRD with a bad schema still yields a usable, if lenient, schema.
public struct StructuralSchema: Sendable, Hashable {
    /// `type` (`object`, `array`, `string`, `integer`, `number`, `boolean`), nil when unset.
    public var type: String?
    /// `nullable`.
    public var nullable = false
    /// `format` (`int32`, `date-time`, `uuid`, …).
    public var format: String?
    /// `default`, as written (`.null` for `default: null`).
    public var defaultValue: JSONValue?
    /// `properties`.
    public var properties: [String: StructuralSchema] = [:]
    /// `required`.
    public var required: [String] = []
    /// `additionalProperties`, nil when unset.
    public var additionalProperties: AdditionalProperties?
    /// `enum`.
    public var enumValues: [JSONValue]?
    /// `pattern`, compiled once.
    public var pattern: Pattern?
    /// `maximum` / `exclusiveMaximum`, `minimum` / `exclusiveMinimum`, `multipleOf`.
    public var maximum: Double?, exclusiveMaximum = false
    public var minimum: Double?, exclusiveMinimum = false
    public var multipleOf: Double?
    /// String length bounds (in characters), array and object size bounds.
    public var maxLength: Int?, minLength: Int?
    public var maxItems: Int?, minItems: Int?
    public var maxProperties: Int?, minProperties: Int?
    /// `uniqueItems`.
    public var uniqueItems = false
    /// The logic junctors (value validation only).
    public var allOf: [StructuralSchema] = [], anyOf: [StructuralSchema] = [], oneOf: [StructuralSchema] = []
    /// `x-kubernetes-preserve-unknown-fields: true`.
    public var preserveUnknownFields = false
    /// `x-kubernetes-embedded-resource: true`.
    public var embeddedResource = false
    /// `x-kubernetes-int-or-string: true`.
    public var intOrString = false
    /// `x-kubernetes-list-type` (`atomic`, `set`, `map`).
    public var listType: String?
    /// `x-kubernetes-list-map-keys`.
    public var listMapKeys: [String] = []
    /// `x-kubernetes-map-type` (`atomic`, `granular`).
    public var mapType: String?
    /// `x-kubernetes-validations` of this node.
    public var rules: [ValidationRule] = []

    private var itemsStorage: [StructuralSchema] = []
    private var notStorage: [StructuralSchema] = []

    /// `items` (a single schema; an array of schemas is not structural and is ignored).
    public var items: StructuralSchema? {
        get { itemsStorage.first }
        set { itemsStorage = newValue.map { [$0] } ?? [] }
    }

    /// `not`.
    public var not: StructuralSchema? {
        get { notStorage.first }
        set { notStorage = newValue.map { [$0] } ?? [] }
    }

    /// `additionalProperties`: `true`, `false`, or a schema for every value.
    public indirect enum AdditionalProperties: Sendable, Hashable {
        case allowed(Bool)
        case schema(StructuralSchema)

        /// The schema of the values, if one is given.
        public var schema: StructuralSchema? {
            if case .schema(let s) = self { return s }
            return nil
        }
    }

    /// A `pattern` and its compiled regular expression (nil when it does not compile).
    public struct Pattern: Sendable, Hashable {
        /// The pattern as written.
        public let source: String
        let compiled: CompiledRegex

        init(_ source: String) {
            self.source = source
            self.compiled = CompiledRegex(source)
        }

        /// Whether `s` contains a match (JSON Schema patterns are not anchored); a pattern that does not
        /// compile matches nothing.
        public func matches(_ s: String) -> Bool { compiled.matches(s) }

        /// Patterns are equal when their sources are.
        public static func == (a: Pattern, b: Pattern) -> Bool { a.source == b.source }
        public func hash(into hasher: inout Hasher) { hasher.combine(source) }
    }

    /// One `x-kubernetes-validations` rule (CEL; not evaluated yet).
    public struct ValidationRule: Sendable, Hashable {
        /// The CEL expression.
        public var rule: String
        /// `message`, `messageExpression`, `reason` and `fieldPath` as written.
        public var message: String?
        public var messageExpression: String?
        public var reason: String?
        public var fieldPath: String?
    }

    /// An empty schema (allows anything, prunes everything).
    public init() {}

    /// Parses a schema (a JSON Schema object as in CRD `spec.versions[].schema.openAPIV3Schema`). Never traps on odd input.
    public init(_ schema: JSONValue) {
        guard let o = schema.objectValue else { return }
        type = o["type"]?.stringValue
        nullable = o["nullable"]?.boolValue ?? false
        format = o["format"]?.stringValue
        defaultValue = o["default"]
        for (k, v) in o["properties"]?.objectValue ?? [:] { properties[k] = StructuralSchema(v) }
        required = o["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        switch o["additionalProperties"] {
        case .bool(let b)?: additionalProperties = .allowed(b)
        case .object(let s)?: additionalProperties = .schema(StructuralSchema(.object(s)))
        default: break
        }
        if case .object(let s)? = o["items"] { items = StructuralSchema(.object(s)) }
        if case .object(let s)? = o["not"] { not = StructuralSchema(.object(s)) }
        enumValues = o["enum"]?.arrayValue
        pattern = o["pattern"]?.stringValue.map(Pattern.init)
        maximum = Self.number(o["maximum"])
        minimum = Self.number(o["minimum"])
        multipleOf = Self.number(o["multipleOf"])
        exclusiveMaximum = o["exclusiveMaximum"]?.boolValue ?? false
        exclusiveMinimum = o["exclusiveMinimum"]?.boolValue ?? false
        maxLength = Self.count(o["maxLength"])
        minLength = Self.count(o["minLength"])
        maxItems = Self.count(o["maxItems"])
        minItems = Self.count(o["minItems"])
        maxProperties = Self.count(o["maxProperties"])
        minProperties = Self.count(o["minProperties"])
        uniqueItems = o["uniqueItems"]?.boolValue ?? false
        allOf = (o["allOf"]?.arrayValue ?? []).map(StructuralSchema.init)
        anyOf = (o["anyOf"]?.arrayValue ?? []).map(StructuralSchema.init)
        oneOf = (o["oneOf"]?.arrayValue ?? []).map(StructuralSchema.init)
        preserveUnknownFields = o["x-kubernetes-preserve-unknown-fields"]?.boolValue ?? false
        embeddedResource = o["x-kubernetes-embedded-resource"]?.boolValue ?? false
        intOrString = o["x-kubernetes-int-or-string"]?.boolValue ?? false
        listType = o["x-kubernetes-list-type"]?.stringValue
        listMapKeys = o["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
        mapType = o["x-kubernetes-map-type"]?.stringValue
        rules = (o["x-kubernetes-validations"]?.arrayValue ?? []).compactMap { r in
            guard let rule = r["rule"]?.stringValue else { return nil }
            return ValidationRule(rule: rule, message: r["message"]?.stringValue, messageExpression: r["messageExpression"]?.stringValue,
                                  reason: r["reason"]?.stringValue, fieldPath: r["fieldPath"]?.stringValue)
        }
    }

    /// The JSON types a value may have here (`x-kubernetes-int-or-string` means integer or string); empty = any.
    var types: [String] {
        if intOrString { return ["integer", "string"] }
        return type.map { [$0] } ?? []
    }

    /// The schema of field `name` of an object here: its property, else the `additionalProperties` schema.
    public func child(_ name: String) -> StructuralSchema? {
        properties[name] ?? additionalProperties?.schema
    }

    /// The schema at a path of field names (`["spec", "ports"]`), stepping into `items` wherever a list is
    /// crossed (`["spec", "ports", "name"]` is the `name` of a port): what server-side apply asks for the
    /// `listType`, `listMapKeys` and `mapType` of a field. Nil when the schema does not know the path.
    public func schema(at path: [String]) -> StructuralSchema? {
        var node = self
        for name in path {
            while node.type == "array", let items = node.items { node = items }
            guard let next = node.child(name) else { return nil }
            node = next
        }
        return node
    }

    /// The `x-kubernetes-validations` rules with the field paths they apply to (`spec`, `spec.ports[*]`,
    /// `spec.labels[*]` for map values; the root is `""`), depth first with properties by name, so the server
    /// can name them in a Warning (CEL is not evaluated yet).
    public var validationRules: [(path: String, rule: String)] {
        var out: [(path: String, rule: String)] = []
        collectRules(path: "", into: &out)
        return out
    }

    private func collectRules(path: String, into out: inout [(path: String, rule: String)]) {
        for r in rules { out.append((path, r.rule)) }
        for k in properties.keys.sorted() {
            properties[k]?.collectRules(path: path.isEmpty ? k : "\(path).\(k)", into: &out)
        }
        additionalProperties?.schema?.collectRules(path: path + "[*]", into: &out)
        items?.collectRules(path: path + "[*]", into: &out)
    }

    private static func number(_ v: JSONValue?) -> Double? {
        switch v {
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d.isFinite ? d : nil
        default: return nil
        }
    }

    private static func count(_ v: JSONValue?) -> Int? {
        guard let i = v?.intValue else { return nil }
        return Int(clamping: i)
    }
}

/// An `NSRegularExpression` compiled once per schema node; immutable, and matching is thread-safe.
final class CompiledRegex: @unchecked Sendable {
    let regex: NSRegularExpression?
    /// Why the pattern does not compile, if it does not.
    let error: String?

    /// Whether `s` contains a match (never, when the pattern does not compile).
    func matches(_ s: String) -> Bool {
        guard let regex else { return false }
        return regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    init(_ pattern: String, options: NSRegularExpression.Options = []) {
        do {
            regex = try NSRegularExpression(pattern: pattern, options: options)
            error = nil
        } catch {
            regex = nil
            self.error = "error parsing regexp: invalid pattern: `\(pattern)`"
        }
    }
}
