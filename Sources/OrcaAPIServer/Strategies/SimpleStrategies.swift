import Foundation
import OrcaAPI

/// ConfigMaps: key names.
struct ConfigMapStrategy: ResourceStrategy {
    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes = ConfigMapStrategy.validateKeys(object["data"], "data")
        causes += ConfigMapStrategy.validateKeys(object["binaryData"], "binaryData")
        causes += Self.immutableData(object, old: old, fields: ["data", "binaryData"])
        return causes
    }

    /// What an update of a ConfigMap or Secret marked `immutable: true` may not do (kube's
    /// `ValidateConfigMapUpdate` / `ValidateSecretUpdate`): unset `immutable`, or change `fields`.
    static func immutableData(_ object: JSONValue, old: JSONValue?, fields: [String]) -> [StatusCause] {
        guard old?["immutable"]?.boolValue == true else { return [] }
        let message = "field is immutable when `immutable` is set"
        var causes: [StatusCause] = []
        if object["immutable"]?.boolValue != true { causes.append(.forbidden("immutable", message)) }
        for field in fields where Self.nonEmpty(object[field]) != Self.nonEmpty(old?[field]) {
            causes.append(.forbidden(field, message))
        }
        return causes
    }

    /// A map field, with an empty map the same as none.
    static func nonEmpty(_ value: JSONValue?) -> JSONValue? {
        guard let value, value != .null, value.objectValue?.isEmpty != true else { return nil }
        return value
    }
    static func validateKeys(_ data: JSONValue?, _ field: String) -> [StatusCause] {
        (data?.objectValue ?? [:]).keys.sorted().compactMap { k in
            let ok = !k.isEmpty && k.count <= 253 && k.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) } && k != "." && k != ".."
            return ok ? nil : .invalid("\(field)", k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
        }
    }
}

/// Secrets: type Opaque by default; `stringData` folded into `data`.
struct SecretStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws { Self.fold(&object) }
    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { Self.fold(&object) }
    static func fold(_ o: inout JSONValue) {
        if o["type"] == nil { o["type"] = "Opaque" }
        if let sd = o["stringData"]?.objectValue {
            var data = o["data"]?.objectValue ?? [:]
            for (k, v) in sd { data[k] = .string(Data((v.stringValue ?? "").utf8).base64EncodedString()) }
            o["data"] = .object(data)
            o["stringData"] = nil
        }
    }
    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes = ConfigMapStrategy.validateKeys(object["data"], "data")
        for (k, v) in object["data"]?.objectValue ?? [:] where Data(base64Encoded: v.stringValue ?? "") == nil {
            causes.append(.invalid("data[\(k)]", "<secret contents redacted>", "illegal base64 data"))
        }
        if let old, old["type"] != object["type"] { causes.append(.invalid("type", object["type"]?.stringValue ?? "", "field is immutable")) }
        causes += ConfigMapStrategy.immutableData(object, old: old, fields: ["data"])
        return causes
    }
}
