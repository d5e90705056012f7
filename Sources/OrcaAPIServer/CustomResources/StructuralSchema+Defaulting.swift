import Foundation
import OrcaCore

extension StructuralSchema {
    /// Applies `default`s as apiextensions does on every decode. First, nulls of non-nullable fields that have
    /// no default are dropped (`PruneNonNullableNullsWithoutDefaults`); then, top-down, a property's default
    /// fills it when it is absent or (unless `nullable`) null, and defaulting continues inside what is now
    /// there, so a defaulted object gets its own fields' defaults too. Inside `items` and `additionalProperties`
    /// defaults apply per element, and a null element takes the items' default.
    public func applyDefaults(_ object: inout JSONValue) {
        object = Self.withoutDefaultlessNulls(object, self)
        object = defaulted(object)
    }

    private func defaulted(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(var o):
            for (key, p) in properties {
                guard let d = p.defaultValue, d != .null else { continue }
                if o[key] == nil || (o[key] == .null && !p.nullable) { o[key] = d }
            }
            for (key, v) in o {
                if let p = properties[key] {
                    o[key] = p.defaulted(v)
                } else if let ap = additionalProperties?.schema {
                    o[key] = ap.defaulted(v == .null && !ap.nullable ? ap.defaultValue ?? .null : v)
                }
            }
            return .object(o)
        case .array(let a):
            guard let items else { return value }
            return .array(a.map { items.defaulted($0 == .null && !items.nullable ? items.defaultValue ?? .null : $0) })
        default:
            return value
        }
    }

    /// `value` without the nulls of non-nullable fields that have no default.
    private static func withoutDefaultlessNulls(_ value: JSONValue, _ schema: StructuralSchema?) -> JSONValue {
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (key, v) in o {
                let s = schema?.child(key)
                if v == .null, let s, !s.nullable, (s.defaultValue ?? .null) == .null { continue }
                out[key] = withoutDefaultlessNulls(v, s)
            }
            return .object(out)
        case .array(let a):
            return .array(a.map { withoutDefaultlessNulls($0, schema?.items) })
        default:
            return value
        }
    }
}
