import Foundation
import OrcaAPI

/// Renders values as Go's `fmt` does, so error messages read exactly as kube-apiserver's
/// (`Invalid value: map[string]string{"app":"web"}: …`, `Invalid value: -1: …`).
enum GoFormat {
    /// `%q` of a string (`strconv.Quote`).
    static func quote(_ s: String) -> String { GoQuote.quote(s) }

    /// `%+v` of a decoded JSON value (`map[a:1 b:[x y]]`).
    static func describe(_ v: JSONValue) -> String {
        switch v {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            if let i = Int64(exactly: d) { return String(i) }
            return d == d.rounded() && abs(d) < 1e21 ? String(format: "%.0f", d) : String(d)
        case .string(let s): return s
        case .array(let a): return "[" + a.map(describe).joined(separator: " ") + "]"
        case .object(let o): return "map[" + o.keys.sorted().map { "\($0):\(describe(o[$0]!))" }.joined(separator: " ") + "]"
        }
    }

    /// `%#v` of a `map[string]string` (nil when absent).
    static func stringMap(_ v: JSONValue?) -> String {
        guard let o = v?.objectValue else { return "map[string]string(nil)" }
        let entries = o.keys.sorted().map { "\(quote($0)):\(quote(o[$0]?.stringValue ?? ""))" }
        return "map[string]string{" + entries.joined(separator: ", ") + "}"
    }

    /// `%#v` of a `[]string`.
    static func stringSlice(_ v: JSONValue?) -> String {
        guard let a = v?.arrayValue else { return "[]string(nil)" }
        return "[]string{" + a.map { quote($0.stringValue ?? "") }.joined(separator: ", ") + "}"
    }
}

extension StatusCause {
    /// `Invalid value` with the value already rendered (numbers and maps are not quoted in Go).
    static func invalidValue(_ field: String, rendered value: String, _ detail: String) -> StatusCause {
        StatusCause("FieldValueInvalid", field: field, "\(field): Invalid value: \(value): \(detail)")
    }

    /// `Invalid value` of an integer field.
    static func invalid(_ field: String, number: Int64, _ detail: String) -> StatusCause {
        invalidValue(field, rendered: String(number), detail)
    }

    /// `Unsupported value` of a field that is not a string (rendered as Go does).
    static func notSupported(_ field: String, rendered value: String, _ supported: [String]) -> StatusCause {
        let list = supported.map { "\"\($0)\"" }.joined(separator: ", ")
        return StatusCause("FieldValueNotSupported", field: field, "\(field): Unsupported value: \(value): supported values: \(list)")
    }
}
