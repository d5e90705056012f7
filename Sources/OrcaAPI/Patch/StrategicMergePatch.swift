import Foundation
import OrcaCore

/// Strategic merge patch (`application/strategic-merge-patch+json`), driven by the
/// schema's `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`, with the
/// `$patch`, `$retainKeys`, `$deleteFromPrimitiveList` and `$setElementOrder` directives.
public enum StrategicMergePatch {
    /// Applies `patch` to `original`, an object of the schema definition `definition`.
    public static func apply(_ patch: JSONValue, to original: JSONValue, definition: String?) throws -> JSONValue {
        try apply(patch, to: original, schema: definition.map(OpenAPIMergeSchema.init(definition:)))
    }

    /// Applies `patch` to `original`, an object of `schema` (nil: every value is replaced).
    public static func apply(_ patch: JSONValue, to original: JSONValue, schema: (any MergeSchema)?) throws -> JSONValue {
        guard case .object(let p) = patch else { throw OrcaError(.badRequest, "strategic merge patch must be a JSON object") }
        return try mergeMap(original.objectValue ?? [:], p, schema).map(JSONValue.object) ?? .object([:])
    }

    static func mergeMap(_ original: [String: JSONValue], _ patch: [String: JSONValue], _ schema: (any MergeSchema)?) throws -> [String: JSONValue]? {
        if let directive = patch["$patch"]?.stringValue {
            switch directive {
            case "replace":
                var p = patch
                p["$patch"] = nil
                return p
            case "delete": return nil
            default: throw OrcaError(.badRequest, "unknown patch type: \(directive)")
            }
        }
        var result = original
        if let retain = patch["$retainKeys"]?.arrayValue?.compactMap(\.stringValue) {
            let keep = Set(retain)
            for k in result.keys where !keep.contains(k) { result[k] = nil }
        }
        for (key, value) in patch {
            if key == "$retainKeys" || key.hasPrefix("$setElementOrder/") { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = value.arrayValue ?? []
                if let list = result[field]?.arrayValue { result[field] = .array(list.filter { !remove.contains($0) }) }
                continue
            }
            if value.isNull { result[key] = nil; continue }
            let field = schema?.mergeField(key)
            switch (result[key], value) {
            case (.object(let o)?, .object(let pv)) where field?.isList != true:
                if field?.isMap == true && field?.schema == nil {
                    result[key] = MergePatch.apply(value, to: .object(o))
                } else {
                    result[key] = try mergeMap(o, pv, field?.schema).map(JSONValue.object)
                }
            case (.array(let a)?, .array(let pv)) where field?.mergesList == true:
                result[key] = .array(try mergeList(a, pv, field!))
            case (_, .object(let pv)):
                // New value: strip directives by merging into empty.
                result[key] = try mergeMap([:], pv, field?.schema).map(JSONValue.object)
            case (_, .array(let pv)) where field?.mergesList == true:
                result[key] = .array(try mergeList([], pv, field!))
            default:
                result[key] = value
            }
        }
        return result
    }

    static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], _ field: MergeField) throws -> [JSONValue] {
        let keys = field.mergeKeys
        guard !keys.isEmpty else {
            // Primitive list with merge strategy: union, keeping order.
            var out = original
            for v in patch where !out.contains(v) {
                if case .object(let o) = v, o["$patch"] != nil { continue }
                out.append(v)
            }
            return out
        }
        var out = original
        for item in patch {
            guard case .object(let p) = item else { out.append(item); continue }
            if p["$patch"]?.stringValue == "replace" {
                // Replace the whole list with the remaining patch items.
                return try patch.filter { $0["$patch"] == nil }.map { try mergeMap([:], $0.objectValue ?? [:], field.schema).map(JSONValue.object) ?? .null }
            }
            // The item with the same values of every merge key (at least one of them set).
            let identified = keys.contains { p[$0] != nil }
            let index = identified ? out.firstIndex { item in keys.allSatisfy { item[$0] == p[$0] } } : nil
            if p["$patch"]?.stringValue == "delete" {
                if let index { out.remove(at: index) }
                continue
            }
            if let index, case .object(let o) = out[index] {
                out[index] = try mergeMap(o, p, field.schema).map(JSONValue.object) ?? .null
            } else {
                out.append(try mergeMap([:], p, field.schema).map(JSONValue.object) ?? .null)
            }
        }
        return out.filter { !$0.isNull }
    }
}
