import Foundation
import OrcaAPI
import OrcaCore

extension StructuralSchema {
    /// The object's violations with field paths (root properties like `spec.x`), as kube-apiserver reports a
    /// custom resource that fails its schema: the OpenAPI value validation, then the embedded resources'
    /// `apiVersion`/`kind`, then the uniqueness of `x-kubernetes-list-type` set and map lists. The root's
    /// `apiVersion`, `kind` and `metadata` are the API server's business and are not looked at.
    public func validate(_ object: JSONValue) -> [StatusCause] {
        var causes: [StatusCause] = []
        validateValue(object, name: "", base: nil, isRoot: true, into: &causes)
        causes += embeddedResourceErrors(object)
        causes += listTypeErrors(object)
        return causes
    }

    /// Validates `value` against this node as kube-openapi's `SchemaValidator` does. `name` is the value's
    /// path in messages (`spec.items[2].name`, empty at the top); field paths are `name` under `base` (nil:
    /// the name itself).
    func validateValue(_ value: JSONValue, name: String, base: String?, isRoot: Bool = false, into errs: inout [StatusCause]) {
        let field = Self.fieldPath(base: base, name: name)
        let types = self.types
        if case .null = value {
            if !types.isEmpty && !nullable {
                errs.append(SchemaFieldError.typeInvalid(field, name: name, expected: types.joined(separator: ","), actual: "null"))
            }
            validateEnum(value, field: field, into: &errs)
            return
        }
        let actual = Self.jsonType(value)
        if !types.isEmpty {
            let wholeNumber = actual == "number" && types.contains("integer") && Self.isJSONInteger(value)
            let integerAsNumber = actual == "integer" && types.contains("number")
            if !(types.contains(actual) || wholeNumber || integerAsNumber) {
                errs.append(SchemaFieldError.typeInvalid(field, name: name, expected: types.joined(separator: ","), actual: actual))
            }
        }
        validateJunctors(value, name: name, base: base, field: field, into: &errs)
        switch value {
        case .string(let s):
            validateString(s, name: name, field: field, into: &errs)
            if let format, let ok = SchemaFormat.check(format, value), !ok {
                errs.append(SchemaFieldError.typeInvalid(field, name: name, expected: format, actual: s))
            }
        case .int, .double:
            validateNumber(value, name: name, field: field, into: &errs)
            if let format, let ok = SchemaFormat.check(format, value), !ok {
                errs.append(SchemaFieldError.typeInvalid(field, name: name, expected: format, actual: SchemaFieldError.json(value)))
            }
        case .array(let a):
            validateArray(a, name: name, base: base, field: field, into: &errs)
        default:
            break
        }
        validateEnum(value, field: field, into: &errs)
        if case .object(let o) = value {
            validateObject(o, name: name, base: base, field: field, isRoot: isRoot, into: &errs)
        }
    }

    /// The JSON type name of a value as kube-openapi infers it (`integer` for whole JSON numbers without a fraction).
    static func jsonType(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// `name` as a field path under `base`.
    static func fieldPath(base: String?, name: String) -> String {
        guard let base else { return name }
        if name.isEmpty { return base }
        return name.hasPrefix("[") ? base + name : "\(base).\(name)"
    }

    /// Whether a number is integral as JSON sees it (go-openapi's `IsFloat64AJSONInteger`).
    static func isJSONInteger(_ v: JSONValue) -> Bool {
        switch v {
        case .int: return true
        case .double(let d): return isWhole(d)
        default: return false
        }
    }

    private static func isWhole(_ d: Double) -> Bool {
        guard d.isFinite, abs(d) <= 9_007_199_254_740_991 else { return false }
        let diff = abs(d - d.rounded())
        return diff == 0 || diff / max(abs(d), 1) < 1e-9
    }

    private static func child(_ name: String, _ key: String) -> String { name.isEmpty ? key : "\(name).\(key)" }

    private func validateString(_ s: String, name: String, field: String, into errs: inout [StatusCause]) {
        let length = s.unicodeScalars.count
        if let maxLength, length > maxLength {
            errs.append(SchemaFieldError.tooLong(field, max: maxLength))
        } else if let minLength, length < minLength {
            errs.append(SchemaFieldError.invalid(field, .string(s), "\(SchemaFieldError.inBody(name)) should be at least \(minLength) chars long"))
        } else if let pattern, pattern.compiled.regex != nil, !pattern.matches(s) {
            errs.append(SchemaFieldError.invalid(field, .string(s), "\(SchemaFieldError.inBody(name)) should match '\(pattern.source)'"))
        }
    }

    private func validateNumber(_ value: JSONValue, name: String, field: String, into errs: inout [StatusCause]) {
        let isInteger: Bool
        let x: Double
        switch value {
        case .int(let i): (isInteger, x) = (true, Double(i))
        case .double(let d): (isInteger, x) = (false, d)
        default: return
        }
        let subject = SchemaFieldError.inBody(name)
        if let m = multipleOf {
            if m <= 0 {
                errs.append(SchemaFieldError.invalid(field, value, "factor MultipleOf declared for \(name) must be positive: \(SchemaFieldError.goFloat(m))"))
            } else if !Self.isWhole(x / m) {
                errs.append(SchemaFieldError.invalid(field, value, "\(subject) should be a multiple of \(SchemaFieldError.bound(m, forIntegerValue: isInteger))"))
            }
        }
        if let maximum {
            let b = isInteger ? maximum.rounded(.towardZero) : maximum
            if exclusiveMaximum ? x >= b : x > b {
                let rel = exclusiveMaximum ? "less than" : "less than or equal to"
                errs.append(SchemaFieldError.invalid(field, value, "\(subject) should be \(rel) \(SchemaFieldError.bound(maximum, forIntegerValue: isInteger))"))
            }
        }
        if let minimum {
            let b = isInteger ? minimum.rounded(.towardZero) : minimum
            if exclusiveMinimum ? x <= b : x < b {
                let rel = exclusiveMinimum ? "greater than" : "greater than or equal to"
                errs.append(SchemaFieldError.invalid(field, value, "\(subject) should be \(rel) \(SchemaFieldError.bound(minimum, forIntegerValue: isInteger))"))
            }
        }
    }

    private func validateArray(_ a: [JSONValue], name: String, base: String?, field: String, into errs: inout [StatusCause]) {
        if let items {
            for (i, element) in a.enumerated() {
                items.validateValue(element, name: "\(name)[\(i)]", base: base, into: &errs)
            }
        }
        if let minItems, a.count < minItems {
            errs.append(SchemaFieldError.invalid(field, .int(Int64(a.count)), "\(SchemaFieldError.inBody(name)) should have at least \(minItems) items"))
        }
        if let maxItems, a.count > maxItems {
            errs.append(SchemaFieldError.tooMany(field, actual: a.count, max: maxItems))
        }
        if uniqueItems, Set(a).count != a.count {
            errs.append(SchemaFieldError.invalid(field, .string(""), "\(SchemaFieldError.inBody(name)) shouldn't contain duplicates"))
        }
    }

    private func validateObject(_ o: [String: JSONValue], name: String, base: String?, field: String, isRoot: Bool,
                                into errs: inout [StatusCause]) {
        let subject = SchemaFieldError.inBody(name)
        if let minProperties, o.count < minProperties {
            errs.append(SchemaFieldError.invalid(field, .int(Int64(o.count)), "\(subject) should have at least \(minProperties) properties"))
            return
        }
        if let maxProperties, o.count > maxProperties {
            errs.append(SchemaFieldError.tooMany(field, actual: o.count, max: maxProperties))
            return
        }
        let skipped: Set<String> = isRoot ? ["apiVersion", "kind", "metadata"] : []
        for key in o.keys.sorted() where properties[key] == nil && !skipped.contains(key) {
            switch additionalProperties {
            case .allowed(false)?:
                errs.append(SchemaFieldError.invalid(field, .string(key), "\(Self.child(name, key)) in body is a forbidden property"))
            case .schema(let s)?:
                s.validateValue(o[key]!, name: Self.child(name, key), base: base, into: &errs)
            case .allowed(true)?, nil:
                break
            }
        }
        for key in properties.keys.sorted() where !skipped.contains(key) {
            if let v = o[key] { properties[key]!.validateValue(v, name: Self.child(name, key), base: base, into: &errs) }
        }
        for key in required where o[key] == nil && !skipped.contains(key) {
            errs.append(SchemaFieldError.required(Self.fieldPath(base: base, name: Self.child(name, key))))
        }
    }

    private func validateEnum(_ value: JSONValue, field: String, into errs: inout [StatusCause]) {
        guard let enumValues, !enumValues.isEmpty else { return }
        if enumValues.contains(where: { Self.sameValue($0, value) }) { return }
        errs.append(SchemaFieldError.notSupported(field, value, enumValues.map { $0.stringValue ?? SchemaFieldError.json($0) }))
    }

    /// JSON equality with integers and floats of the same value equal (as the enum check converts them).
    private static func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        default: return a == b
        }
    }

    private func validateJunctors(_ value: JSONValue, name: String, base: String?, field: String, into errs: inout [StatusCause]) {
        func errors(_ s: StructuralSchema) -> [StatusCause] {
            var e: [StatusCause] = []
            s.validateValue(value, name: name, base: base, into: &e)
            return e
        }
        func composite(_ detail: String) -> StatusCause {
            SchemaFieldError.invalid(field, .string(""), "\(GoQuote.quote(name)) \(detail)")
        }
        if !anyOf.isEmpty {
            let results = anyOf.map(errors)
            if !results.contains(where: \.isEmpty) {
                errs.append(composite("must validate at least one schema (anyOf)"))
                errs += results.min(by: { $0.count < $1.count }) ?? []
            }
        }
        if !oneOf.isEmpty {
            let results = oneOf.map(errors)
            let valid = results.filter(\.isEmpty).count
            if valid == 0 {
                errs.append(composite("must validate one and only one schema (oneOf). Found none valid"))
                errs += results.min(by: { $0.count < $1.count }) ?? []
            } else if valid > 1 {
                errs.append(composite("must validate one and only one schema (oneOf). Found \(valid) valid alternatives"))
            }
        }
        if !allOf.isEmpty {
            let results = allOf.map(errors)
            let valid = results.filter(\.isEmpty).count
            errs += results.flatMap { $0 }
            if valid != allOf.count {
                errs.append(composite("must validate all the schemas (allOf)\(valid == 0 ? ". None validated" : "")"))
            }
        }
        if let not, errors(not).isEmpty {
            errs.append(composite("must not validate the schema (not)"))
        }
    }
}
