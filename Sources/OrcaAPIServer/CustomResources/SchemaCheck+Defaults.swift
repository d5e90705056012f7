import Foundation
import OrcaCore

extension SchemaCheck {
    /// apiextensions' `defaulting.ValidateDefaults`: every `default` (outside `additionalProperties`, where
    /// none applies) must be pruned already ("must not have unknown fields") and validate against its own
    /// schema, errors named under `<path>.default`. A `default: null` needs `nullable: true`.
    mutating func checkDefaults(_ node: JSONValue, path: String, insideMeta: Bool, isRoot: Bool = true) {
        guard case .object(let o) = node else { return }
        let embedded = isRoot || o["x-kubernetes-embedded-resource"]?.boolValue == true
        let insideMeta = embedded ? false : insideMeta
        if let value = o["default"] {
            let schema = StructuralSchema(node)
            let defaultPath = Self.sub(path, "default")
            if value == .null {
                if !schema.nullable && !schema.types.isEmpty {
                    add(SchemaFieldError.typeInvalid(defaultPath, name: "", expected: schema.types.joined(separator: ","), actual: "null"))
                }
            } else {
                if !insideMeta && StructuralSchema.pruned(value, schema, isRoot: embedded) != value {
                    add(SchemaFieldError.invalid(defaultPath, value, "must not have unknown fields"))
                }
                var errs: [StatusCause] = []
                schema.validateValue(value, name: "", base: defaultPath, into: &errs)
                errs.forEach { add($0) }
            }
        }
        if let items = o["items"], case .object = items {
            checkDefaults(items, path: Self.sub(path, "items"), insideMeta: insideMeta, isRoot: false)
        }
        let properties = o["properties"]?.objectValue ?? [:]
        for key in properties.keys.sorted() {
            let meta = insideMeta || (embedded && Self.metaFields.contains(key))
            checkDefaults(properties[key]!, path: "\(Self.sub(path, "properties"))[\(key)]", insideMeta: meta, isRoot: false)
        }
    }
}
