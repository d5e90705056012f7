import Foundation
import OrcaCore

extension StructuralSchema {
    /// The `metadata` fields an embedded resource keeps.
    static let embeddedMetadataFields: Set<String> = ["name", "namespace", "labels", "annotations", "generateName"]

    /// Drops fields the schema does not know, as apiextensions' pruning does: below
    /// `x-kubernetes-preserve-unknown-fields` unknown fields stay (known ones are still pruned by their
    /// schema); `additionalProperties` (a schema, `true` or `false`) keeps every key; `apiVersion`, `kind`
    /// and `metadata` stay at the root and in `x-kubernetes-embedded-resource` objects. Root `metadata` is
    /// left to the API server; an embedded resource's is cut down to name, namespace, labels, annotations
    /// and generateName (dropped when it is not an object).
    public func prune(_ object: inout JSONValue) {
        object = Self.pruned(object, self, isRoot: true)
    }

    /// `value` pruned by `schema` (nil: no schema, so objects lose every field).
    static func pruned(_ value: JSONValue, _ schema: StructuralSchema?, isRoot: Bool = false) -> JSONValue {
        if let schema, schema.preserveUnknownFields { return schema.prunedKnownFields(value, isRoot: isRoot) }
        switch value {
        case .object(let o):
            guard let schema else { return .object([:]) }
            var out: [String: JSONValue] = [:]
            for (key, v) in o {
                if isRoot || schema.embeddedResource, let kept = typeMeta(key, v, isRoot: isRoot) {
                    out[key] = kept
                } else if let p = schema.properties[key] {
                    out[key] = pruned(v, p)
                } else if let ap = schema.additionalProperties {
                    out[key] = pruned(v, ap.schema)
                }
            }
            return .object(out)
        case .array(let a):
            return .array(a.map { pruned($0, schema?.items) })
        default:
            return value
        }
    }

    /// Under `x-kubernetes-preserve-unknown-fields`: unknown fields stay, known ones are pruned by their schema.
    private func prunedKnownFields(_ value: JSONValue, isRoot: Bool) -> JSONValue {
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (key, v) in o {
                if isRoot || embeddedResource, let kept = Self.typeMeta(key, v, isRoot: isRoot) {
                    out[key] = kept
                } else if let p = properties[key] {
                    out[key] = Self.pruned(v, p)
                } else if let ap = additionalProperties {
                    out[key] = Self.pruned(v, ap.schema)
                } else {
                    out[key] = v
                }
            }
            return .object(out)
        case .array(let a):
            guard let items else { return value }
            return .array(a.map { items.prunedKnownFields($0, isRoot: false) })
        default:
            return value
        }
    }

    /// What an object keeps of `apiVersion`, `kind` or `metadata` (nil: `key` is none of them, or
    /// embedded metadata that is not an object, which is dropped).
    private static func typeMeta(_ key: String, _ value: JSONValue, isRoot: Bool) -> JSONValue?? {
        switch key {
        case "apiVersion", "kind":
            return .some(value)
        case "metadata":
            if isRoot { return .some(value) }
            guard case .object(let m) = value else { return .some(nil) }
            return .some(.object(m.filter { embeddedMetadataFields.contains($0.key) }))
        default:
            return nil
        }
    }
}
