import Foundation
import OrcaCore

/// The `metav1.Time` and `metav1.MicroTime` fields of each kind, from the bundled schema, and
/// their normalisation on write as kube-apiserver's decoding and encoding does it: a `Time` is
/// written back in UTC to the second (`2026-12-07T00:45:00Z`), a `MicroTime` in UTC with six
/// fractional digits (`2026-12-07T00:45:00.123456Z`). A value that is not RFC 3339 is a 400.
public enum TimeFields {
    /// Where a kind's time fields are.
    indirect enum Shape: Sendable {
        case time(micro: Bool)
        case object([String: Shape])
        case array(Shape)
        case map(Shape)
    }

    static let timeDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
    static let microTimeDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"

    /// The shape of each definition with time fields (nil: none).
    static let shapes: [String: Shape] = {
        var done: [String: Shape?] = [:]
        for name in OpenAPISchema.definitions.keys { _ = shape(name, &done, visiting: []) }
        return done.compactMapValues { $0 }
    }()

    static func shape(_ name: String, _ done: inout [String: Shape?], visiting: Set<String>) -> Shape? {
        if name == timeDefinition { return .time(micro: false) }
        if name == microTimeDefinition { return .time(micro: true) }
        if let known = done[name] { return known }
        guard !visiting.contains(name), let def = OpenAPISchema.definitions[name] else { return nil }
        let result = schemaShape(def, &done, visiting: visiting.union([name]))
        done[name] = .some(result)
        return result
    }

    static func schemaShape(_ schema: JSONValue, _ done: inout [String: Shape?], visiting: Set<String>) -> Shape? {
        if let ref = schema["$ref"]?.stringValue ?? schema["allOf"]?.arrayValue?.first?["$ref"]?.stringValue {
            return shape(String(ref.split(separator: "/").last ?? ""), &done, visiting: visiting)
        }
        if let items = schema["items"] { return schemaShape(items, &done, visiting: visiting).map(Shape.array) }
        if let values = schema["additionalProperties"], values.objectValue != nil {
            return schemaShape(values, &done, visiting: visiting).map(Shape.map)
        }
        var fields: [String: Shape] = [:]
        for (key, property) in schema["properties"]?.objectValue ?? [:] {
            if let s = schemaShape(property, &done, visiting: visiting) { fields[key] = s }
        }
        return fields.isEmpty ? nil : .object(fields)
    }

    /// Normalises the time fields of `object`, an object of `definition`
    /// (`OpenAPISchema.definitionName`); throws 400 for a value that is not a time.
    public static func normalize(_ object: inout JSONValue, definition: String?) throws {
        guard let definition, let shape = shapes[definition] else { return }
        try normalize(&object, shape, path: "")
    }

    static func normalize(_ value: inout JSONValue, _ shape: Shape, path: String) throws {
        switch (shape, value) {
        case (.time(let micro), .string(let text)):
            guard let date = KubernetesTime.date(text) else {
                throw APIError.badRequest("\(path.isEmpty ? "" : path + ": ")parsing time \(GoQuote.quote(text)) as \"\(micro ? "2006-01-02T15:04:05.000000Z07:00" : "2006-01-02T15:04:05Z07:00")\": cannot parse \(GoQuote.quote(text)) as a time")
            }
            value = .string(micro ? KubernetesTime.microString(date) : KubernetesTime.string(date))
        case (.object(let fields), .object(var o)):
            for (key, field) in fields where o[key] != nil {
                try normalize(&o[key]!, field, path: path.isEmpty ? key : "\(path).\(key)")
            }
            value = .object(o)
        case (.array(let item), .array(var items)):
            for i in items.indices { try normalize(&items[i], item, path: "\(path)[\(i)]") }
            value = .array(items)
        case (.map(let item), .object(var o)):
            for key in Array(o.keys) { try normalize(&o[key]!, item, path: "\(path)[\(key)]") }
            value = .object(o)
        default:
            break
        }
    }
}
