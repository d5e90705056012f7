import Foundation
import OrcaAPI
import OrcaCore

/// The field errors of custom resource validation, worded as kube-apiserver's: kube-openapi's
/// `<name> in body …` details wrapped in `field.Error`s, with bad values rendered as Go's `%v`/`%#v`.
enum SchemaFieldError {
    /// `<name> in body` (kube-openapi's validation error subject; `in body` alone at the root).
    static func inBody(_ name: String) -> String { name.isEmpty ? "in body" : "\(name) in body" }

    /// `Invalid value: <value>: <detail>` (`FieldValueInvalid`).
    static func invalid(_ field: String, _ value: JSONValue, _ detail: String) -> StatusCause {
        StatusCause("FieldValueInvalid", field: field, "\(field): Invalid value: \(render(value)): \(detail)")
    }

    /// A type mismatch (`FieldValueTypeInvalid`, printed as `Invalid value`).
    static func typeInvalid(_ field: String, name: String, expected: String, actual: String) -> StatusCause {
        let q = GoQuote.quote(actual)
        return StatusCause("FieldValueTypeInvalid", field: field, "\(field): Invalid value: \(q): \(inBody(name)) must be of type \(expected): \(q)")
    }

    /// `Required value` with an optional detail.
    static func required(_ field: String, _ detail: String = "") -> StatusCause {
        StatusCause("FieldValueRequired", field: field, detail.isEmpty ? "\(field): Required value" : "\(field): Required value: \(detail)")
    }

    /// `Forbidden: <detail>`.
    static func forbidden(_ field: String, _ detail: String) -> StatusCause {
        StatusCause("FieldValueForbidden", field: field, "\(field): Forbidden: \(detail)")
    }

    /// `Unsupported value: <value>: supported values: "a", "b"`.
    static func notSupported(_ field: String, _ value: JSONValue, _ supported: [String]) -> StatusCause {
        let list = supported.map(GoQuote.quote).joined(separator: ", ")
        let detail = supported.isEmpty ? "" : ": supported values: \(list)"
        return StatusCause("FieldValueNotSupported", field: field, "\(field): Unsupported value: \(render(value))\(detail)")
    }

    /// `Duplicate value: <value>`.
    static func duplicate(_ field: String, _ value: JSONValue) -> StatusCause {
        StatusCause("FieldValueDuplicate", field: field, "\(field): Duplicate value: \(render(value))")
    }

    /// `Too long: may not be more than <n> bytes` (the value is omitted).
    static func tooLong(_ field: String, max: Int) -> StatusCause {
        StatusCause("FieldValueTooLong", field: field, "\(field): Too long: may not be more than \(max) \(max == 1 ? "byte" : "bytes")")
    }

    /// `Too many: <n>: must have at most <max> items`.
    static func tooMany(_ field: String, actual: Int, max: Int) -> StatusCause {
        StatusCause("FieldValueTooMany", field: field, "\(field): Too many: \(actual): must have at most \(max) \(max == 1 ? "item" : "items")")
    }

    /// A bad value as `field.Error` prints it: strings quoted, numbers and booleans bare, `null` as `"null"`,
    /// maps and lists as Go's `%#v` of unstructured JSON.
    static func render(_ v: JSONValue) -> String {
        if case .null = v { return "\"null\"" }
        return goSyntax(v)
    }

    /// Go's `%#v` of a decoded JSON value (`map[string]interface {}{"a":1}`).
    static func goSyntax(_ v: JSONValue) -> String {
        switch v {
        case .null: return "interface {}(nil)"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return goFloat(d)
        case .string(let s): return GoQuote.quote(s)
        case .array(let a): return "[]interface {}{" + a.map(goSyntax).joined(separator: ", ") + "}"
        case .object(let o):
            let entries = o.keys.sorted().map { "\(GoQuote.quote($0)):\(goSyntax(o[$0]!))" }
            return "map[string]interface {}{" + entries.joined(separator: ", ") + "}"
        }
    }

    /// A JSON value as `json.Marshal` writes it (enum values that are not strings).
    static func json(_ v: JSONValue) -> String {
        if case .double(let d) = v, let i = Int64(exactly: d) { return String(i) }
        return v.jsonString
    }

    /// Go's `%v` of a `float64`: shortest digits, exponent form below 1e-4 and from 1e+06 (`1e+06`, `2.5`, `-0.001`).
    static func goFloat(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        // Swift prints the shortest round-tripping digits too; re-lay them out the Go way.
        var text = "\(abs(d))"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        var digits = whole + (parts.count > 1 ? String(parts[1]) : "")
        var point = whole.count + exponent
        while digits.count > 1, digits.hasPrefix("0") { digits.removeFirst(); point -= 1 }
        while digits.count > 1, digits.hasSuffix("0") { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        let x = point - 1
        if x < -4 || x >= 6 {
            let mantissa = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : digits
            return "\(sign)\(mantissa)e\(x < 0 ? "-" : "+")\(abs(x) < 10 ? "0" : "")\(abs(x))"
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        return sign + digits.prefix(point) + "." + digits.dropFirst(point)
    }

    /// A schema bound as kube-openapi prints it next to a value: truncated to an integer when the value is one.
    static func bound(_ b: Double, forIntegerValue isInteger: Bool) -> String {
        if isInteger, let i = Int64(exactly: b.rounded(.towardZero)) { return String(i) }
        return goFloat(b)
    }
}
