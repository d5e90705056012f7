import Foundation
import OrcaCore

extension SchemaCheck {
    /// apiextensions' `validateStructuralInvariants`: every node specifies its type, arrays their items,
    /// the root is an object without `additionalProperties`, metadata is left alone, and value validations
    /// (`allOf`, `anyOf`, `oneOf`, `not`) only validate.
    mutating func checkStructural(_ o: [String: JSONValue], path: String, level: Level) {
        let type = o["type"]?.stringValue ?? ""
        let intOrString = o["x-kubernetes-int-or-string"]?.boolValue == true
        let preserve = o["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
        let embedded = o["x-kubernetes-embedded-resource"]?.boolValue == true
        let properties = o["properties"]?.objectValue ?? [:]
        let hasAdditional = o["additionalProperties"].map { $0 != .null } ?? false
        if type == "array" && (o["items"] ?? .null) == .null {
            add(SchemaFieldError.required(Self.sub(path, "items"), "must be specified"))
        }
        if case .object(let items)? = o["items"] { checkStructural(items, path: Self.sub(path, "items"), level: .item) }
        for key in properties.keys.sorted() {
            if case .object(let p) = properties[key]! { checkStructural(p, path: "\(Self.sub(path, "properties"))[\(key)]", level: .field) }
        }
        if hasAdditional {
            if level == .root { add(SchemaFieldError.forbidden(Self.sub(path, "additionalProperties"), "must not be used at the root")) }
            if case .object(let ap)? = o["additionalProperties"] { checkStructural(ap, path: Self.sub(path, "additionalProperties"), level: .field) }
        }
        if intOrString && preserve {
            add(SchemaFieldError.invalid(Self.sub(path, "x-kubernetes-preserve-unknown-fields"), true, "must be false if x-kubernetes-int-or-string is true"))
        }
        if intOrString && embedded {
            add(SchemaFieldError.invalid(Self.sub(path, "x-kubernetes-embedded-resource"), true, "must be false if x-kubernetes-int-or-string is true"))
        }
        checkJunctors(o, path: path, level: level, skipAnyOf: Self.isIntOrStringAnyOf(o["anyOf"]),
                      skipFirstAllOfAnyOf: Self.isIntOrStringAnyOf(o["allOf"]?.arrayValue?.first?["anyOf"]))
        if embedded && type != "object" {
            let detail = "must be object if x-kubernetes-embedded-resource is true"
            add(type.isEmpty ? SchemaFieldError.required(Self.sub(path, "type"), detail) : SchemaFieldError.invalid(Self.sub(path, "type"), .string(type), detail))
        } else if type.isEmpty && !intOrString && !preserve {
            let detail: String
            switch level {
            case .root: detail = "must not be empty at the root"
            case .item: detail = "must not be empty for specified array items"
            case .field: detail = "must not be empty for specified object fields"
            }
            add(SchemaFieldError.required(Self.sub(path, "type"), detail))
        }
        if embedded && hasAdditional {
            add(SchemaFieldError.forbidden(Self.sub(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"))
        }
        if level == .root && !type.isEmpty && type != "object" {
            add(SchemaFieldError.invalid(Self.sub(path, "type"), .string(type), "must be object at the root"))
        }
        let checkMetadata = level == .root || embedded
        for key in ["kind", "apiVersion"] where checkMetadata {
            if let p = properties[key], (p["type"]?.stringValue ?? "") != "string" {
                add(SchemaFieldError.invalid("\(Self.sub(path, "properties"))[\(key)].type", .string(p["type"]?.stringValue ?? ""), "must be string"))
            }
        }
        if let metadata = properties["metadata"] {
            checkMetadataSchema(metadata, path: "\(Self.sub(path, "properties"))[metadata]", checkType: checkMetadata, isRoot: level == .root)
        }
        if embedded && !preserve && properties.isEmpty {
            add(SchemaFieldError.required(Self.sub(path, "properties"), "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"))
        }
    }

    /// Metadata must be an object, and at the root may only restrict `name` and `generateName`.
    private mutating func checkMetadataSchema(_ metadata: JSONValue, path: String, checkType: Bool, isRoot: Bool) {
        let type = metadata["type"]?.stringValue ?? ""
        if checkType && type != "object" {
            add(SchemaFieldError.invalid(Self.sub(path, "type"), .string(type), "must be object"))
        }
        guard isRoot, case .object(var m) = metadata else { return }
        m["type"] = nil
        m["default"] = nil
        if let props = m["properties"]?.objectValue, Set(props.keys).isSubset(of: ["name", "generateName"]) { m["properties"] = nil }
        let meaningful = m.filter { _, v in
            switch v {
            case .null, .bool(false), .string(""), .array([]), .object([:]): return false
            default: return true
            }
        }
        if !meaningful.isEmpty {
            add(SchemaFieldError.forbidden(path, "must not specify anything other than name and generateName, but metadata is implicitly specified"))
        }
    }

    /// `anyOf: [{type: integer}, {type: string}]`, the one shape of `type` allowed in a value validation.
    static func isIntOrStringAnyOf(_ v: JSONValue?) -> Bool {
        v == .array([["type": "integer"], ["type": "string"]])
    }

    private mutating func checkJunctors(_ o: [String: JSONValue], path: String, level: Level, skipAnyOf: Bool, skipFirstAllOfAnyOf: Bool) {
        if !skipAnyOf {
            for (i, b) in (o["anyOf"]?.arrayValue ?? []).enumerated() {
                checkNested(b, path: "\(Self.sub(path, "anyOf"))[\(i)]", level: level, skipAnyOf: false, skipFirstAllOfAnyOf: false)
            }
        }
        for (i, b) in (o["allOf"]?.arrayValue ?? []).enumerated() {
            checkNested(b, path: "\(Self.sub(path, "allOf"))[\(i)]", level: level, skipAnyOf: skipFirstAllOfAnyOf && i == 0, skipFirstAllOfAnyOf: false)
        }
        for (i, b) in (o["oneOf"]?.arrayValue ?? []).enumerated() {
            checkNested(b, path: "\(Self.sub(path, "oneOf"))[\(i)]", level: level, skipAnyOf: false, skipFirstAllOfAnyOf: false)
        }
        if let not = o["not"] { checkNested(not, path: Self.sub(path, "not"), level: level, skipAnyOf: false, skipFirstAllOfAnyOf: false) }
    }

    /// A value validation (under `allOf`, `anyOf`, `oneOf`, `not`) must not say anything structural.
    private mutating func checkNested(_ node: JSONValue, path: String, level: Level, skipAnyOf: Bool, skipFirstAllOfAnyOf: Bool) {
        guard case .object(let o) = node else { return }
        checkJunctors(o, path: path, level: level, skipAnyOf: skipAnyOf, skipFirstAllOfAnyOf: skipFirstAllOfAnyOf)
        if let items = o["items"], items != .null {
            checkNested(items, path: Self.sub(path, "items"), level: level, skipAnyOf: false, skipFirstAllOfAnyOf: false)
        }
        let properties = o["properties"]?.objectValue ?? [:]
        for key in properties.keys.sorted() {
            checkNested(properties[key]!, path: "\(Self.sub(path, "properties"))[\(key)]", level: .field, skipAnyOf: false, skipFirstAllOfAnyOf: false)
        }
        let rules: [(String, String, (JSONValue) -> Bool)] = [
            ("type", "must be empty to be structural", { !($0.stringValue ?? "").isEmpty }),
            ("additionalProperties", "must be undefined to be structural", { $0 != .null }),
            ("default", "must be undefined to be structural", { $0 != .null }),
            ("title", "must be empty to be structural", { !($0.stringValue ?? "").isEmpty }),
            ("description", "must be empty to be structural", { !($0.stringValue ?? "").isEmpty }),
            ("nullable", "must be false to be structural", { $0 == .bool(true) }),
            ("externalDocs", "must be undefined to be structural", { $0 != .null }),
            ("x-kubernetes-preserve-unknown-fields", "must be false to be structural", { $0 == .bool(true) }),
            ("x-kubernetes-embedded-resource", "must be false to be structural", { $0 == .bool(true) }),
            ("x-kubernetes-int-or-string", "must be false to be structural", { $0 == .bool(true) }),
            ("x-kubernetes-list-map-keys", "must be empty to be structural", { !($0.arrayValue ?? []).isEmpty }),
            ("x-kubernetes-list-type", "must be undefined to be structural", { $0 != .null }),
            ("x-kubernetes-map-type", "must be undefined to be structural", { $0 != .null }),
            ("x-kubernetes-validations", "must be empty to be structural", { !($0.arrayValue ?? []).isEmpty }),
        ]
        for (key, detail, isSet) in rules {
            if let v = o[key], isSet(v) { add(SchemaFieldError.forbidden(Self.sub(path, key), detail)) }
        }
        if properties["metadata"] != nil {
            add(SchemaFieldError.forbidden("\(Self.sub(path, "properties"))[metadata]", "must not be specified in a nested context"))
        }
    }

    /// apiextensions' `validateStructuralCompleteness`: every property or items a root value validation
    /// talks about is specified structurally too.
    mutating func checkCompleteness(_ root: [String: JSONValue], path: String) {
        completeness(of: root, structural: .object(root), sPath: path, vPath: path)
    }

    private mutating func completeness(of v: [String: JSONValue], structural s: JSONValue?, sPath: String, vPath: String) {
        if let not = v["not"]?.objectValue { nestedCompleteness(not, structural: s, sPath: sPath, vPath: Self.sub(vPath, "not")) }
        for junctor in ["allOf", "anyOf", "oneOf"] {
            for (i, branch) in (v[junctor]?.arrayValue ?? []).enumerated() {
                guard let b = branch.objectValue else { continue }
                nestedCompleteness(b, structural: s, sPath: sPath, vPath: "\(Self.sub(vPath, junctor))[\(i)]")
            }
        }
    }

    private mutating func nestedCompleteness(_ v: [String: JSONValue], structural s: JSONValue?, sPath: String, vPath: String) {
        guard let s, s != .null else {
            add(SchemaFieldError.required(sPath, "because it is defined in \(vPath)"))
            return
        }
        completeness(of: v, structural: s, sPath: sPath, vPath: vPath)
        if let items = v["items"]?.objectValue {
            nestedCompleteness(items, structural: s["items"], sPath: Self.sub(sPath, "items"), vPath: Self.sub(vPath, "items"))
        }
        let sProperties = s["properties"]?.objectValue ?? [:]
        let vProperties = v["properties"]?.objectValue ?? [:]
        for key in vProperties.keys.sorted() {
            let sKey = "\(Self.sub(sPath, "properties"))[\(key)]", vKey = "\(Self.sub(vPath, "properties"))[\(key)]"
            if let sub = sProperties[key] {
                if let vSub = vProperties[key]!.objectValue { nestedCompleteness(vSub, structural: sub, sPath: sKey, vPath: vKey) }
            } else {
                add(SchemaFieldError.required(sKey, "because it is defined in \(vKey)"))
            }
        }
    }
}
