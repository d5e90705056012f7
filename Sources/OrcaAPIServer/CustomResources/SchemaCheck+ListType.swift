import Foundation
import OrcaCore

extension SchemaCheck {
    /// `x-kubernetes-map-type`, `x-kubernetes-list-type` and `x-kubernetes-list-map-keys` of one node.
    mutating func checkListAndMapTypes(_ o: [String: JSONValue], path: String, type: String) {
        let typePath = Self.sub(path, "type")
        if let mapType = o["x-kubernetes-map-type"], mapType != .null {
            if type != "object" { add(mustBe("object", "if x-kubernetes-map-type is specified", type, typePath)) }
            if mapType != "atomic" && mapType != "granular" {
                add(SchemaFieldError.notSupported(Self.sub(path, "x-kubernetes-map-type"), mapType, ["atomic", "granular"]))
            }
        }
        let listType = o["x-kubernetes-list-type"].flatMap { $0 == .null ? nil : $0 }
        let items = o["items"]?.objectValue
        if let listType {
            if type != "array" {
                add(mustBe("array", "if x-kubernetes-list-type is specified", type, typePath))
            } else if listType == "set", let items {
                checkSetItems(items, path: Self.sub(path, "items"))
            }
            if listType != "atomic" && listType != "set" && listType != "map" {
                add(SchemaFieldError.notSupported(Self.sub(path, "x-kubernetes-list-type"), listType, ["atomic", "set", "map"]))
            }
        }
        let keysValue = o["x-kubernetes-list-map-keys"] ?? .null
        let keys = keysValue.arrayValue?.compactMap(\.stringValue) ?? []
        if !keys.isEmpty {
            if listType == nil {
                add(SchemaFieldError.required(Self.sub(path, "x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty"))
            } else if listType != "map" {
                add(SchemaFieldError.invalid(Self.sub(path, "x-kubernetes-list-type"), listType!, "must be map if x-kubernetes-list-map-keys is non-empty"))
            }
        }
        if listType == "map" { checkMapList(o, path: path, keys: keys, keysValue: keysValue) }
        if let listType, listType == "set" || listType == "map", items?["nullable"]?.boolValue == true {
            add(SchemaFieldError.forbidden(Self.sub(Self.sub(path, "items"), "nullable"),
                                           "cannot be nullable when x-kubernetes-list-type is \(listType.stringValue ?? "")"))
        }
    }

    /// `Required` when `type` is empty, else `Invalid`: "must be <want> <why>".
    private func mustBe(_ want: String, _ why: String, _ type: String, _ typePath: String) -> StatusCause {
        type.isEmpty ? SchemaFieldError.required(typePath, "must be \(want) \(why)")
            : SchemaFieldError.invalid(typePath, .string(type), "must be \(want) \(why)")
    }

    /// Items of a set must be atomic: lists with `x-kubernetes-list-type: atomic` (or none), objects with
    /// `x-kubernetes-map-type: atomic`.
    private mutating func checkSetItems(_ items: [String: JSONValue], path: String) {
        let detail = "must be atomic as item of a list with x-kubernetes-list-type=set"
        switch items["type"]?.stringValue {
        case "array"?:
            if let lt = items["x-kubernetes-list-type"], lt != .null, lt != "atomic" {
                add(SchemaFieldError.invalid(Self.sub(path, "x-kubernetes-list-type"), lt, detail))
            }
        case "object"?:
            if items["x-kubernetes-map-type"] != "atomic" {
                add(SchemaFieldError.invalid(Self.sub(path, "x-kubernetes-map-type"), items["x-kubernetes-map-type"] ?? .null, detail))
            }
        default:
            break
        }
    }

    /// A map list needs keys and object items whose key properties are scalars, required or defaulted, and
    /// not nullable.
    private mutating func checkMapList(_ o: [String: JSONValue], path: String, keys: [String], keysValue: JSONValue) {
        let itemsPath = Self.sub(path, "items"), keysPath = Self.sub(path, "x-kubernetes-list-map-keys")
        if keys.isEmpty {
            add(SchemaFieldError.required(keysPath, "must not be empty if x-kubernetes-list-type is map"))
        }
        switch o["items"] {
        case nil, .null?:
            add(SchemaFieldError.required(itemsPath, "must have a schema if x-kubernetes-list-type is map"))
        case .object(let items)?:
            let itemType = items["type"]?.stringValue ?? ""
            guard itemType == "object" else {
                add(SchemaFieldError.invalid(Self.sub(itemsPath, "type"), .string(itemType), "must be object if parent array's x-kubernetes-list-type is map"))
                return
            }
            let properties = items["properties"]?.objectValue ?? [:]
            let required = Set(items["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            var seen: Set<String> = []
            for key in keys {
                let keyPath = "\(Self.sub(itemsPath, "properties"))[\(key)]"
                if let p = properties[key] {
                    let t = p["type"]?.stringValue
                    if t == "array" || t == "object" {
                        add(SchemaFieldError.invalid(Self.sub(keyPath, "type"), .string(itemType), "must be a scalar type if parent array's x-kubernetes-list-type is map"))
                    }
                    if !required.contains(key) && (p["default"] ?? .null) == .null {
                        add(SchemaFieldError.required(Self.sub(keyPath, "default"), "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"))
                    }
                    if p["nullable"]?.boolValue == true {
                        add(SchemaFieldError.forbidden(Self.sub(keyPath, "nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"))
                    }
                } else {
                    add(StatusCause.invalidValue(keysPath, rendered: GoFormat.stringSlice(keysValue), "entries must all be names of item properties"))
                }
                if !seen.insert(key).inserted {
                    add(StatusCause.invalidValue(keysPath, rendered: GoFormat.stringSlice(keysValue), "must not contain duplicate entries"))
                }
            }
        case let items?:
            add(SchemaFieldError.invalid(itemsPath, items, "must only have a single schema if x-kubernetes-list-type is map"))
        }
    }
}
