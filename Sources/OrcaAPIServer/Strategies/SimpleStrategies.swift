import Foundation
import OrcaAPI

/// Services: type, ports and traffic-policy defaults.
struct ServiceStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        object["status"] = ["loadBalancer": [:]]
        Self.defaults(&object)
    }
    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        Self.defaults(&object)
        if object[path: ["spec", "clusterIP"]] == nil { object[path: ["spec", "clusterIP"]] = old[path: ["spec", "clusterIP"]] }
        if object[path: ["spec", "clusterIPs"]] == nil { object[path: ["spec", "clusterIPs"]] = old[path: ["spec", "clusterIPs"]] }
    }
    static func defaults(_ o: inout JSONValue) {
        if o[path: ["spec", "type"]] == nil { o[path: ["spec", "type"]] = "ClusterIP" }
        if o[path: ["spec", "sessionAffinity"]] == nil { o[path: ["spec", "sessionAffinity"]] = "None" }
        if o[path: ["spec", "internalTrafficPolicy"]] == nil { o[path: ["spec", "internalTrafficPolicy"]] = "Cluster" }
        if o[path: ["spec", "ipFamilies"]] == nil { o[path: ["spec", "ipFamilies"]] = ["IPv4"] }
        if o[path: ["spec", "ipFamilyPolicy"]] == nil { o[path: ["spec", "ipFamilyPolicy"]] = "SingleStack" }
        if let ports = o[path: ["spec", "ports"]]?.arrayValue {
            o[path: ["spec", "ports"]] = .array(ports.map { p in
                var p = p
                if p["protocol"] == nil { p["protocol"] = "TCP" }
                if p["targetPort"] == nil { p["targetPort"] = p["port"] }
                return p
            })
        }
    }
    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        let type = object[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(type) {
            causes.append(.notSupported("spec.type", type, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]))
        }
        if let old, let was = old[path: ["spec", "clusterIP"]]?.stringValue, !was.isEmpty,
           let now = object[path: ["spec", "clusterIP"]]?.stringValue, now != was {
            causes.append(.invalid("spec.clusterIPs[0]", now, "may not change once set"))
        }
        let ports = object[path: ["spec", "ports"]]?.arrayValue ?? []
        if ports.isEmpty, type != "ExternalName", object[path: ["spec", "clusterIP"]]?.stringValue != "None" {
            causes.append(.required("spec.ports"))
        }
        for (i, p) in ports.enumerated() {
            let n = p["port"]?.intValue ?? 0
            if n < 1 || n > 65535 { causes.append(.invalid("spec.ports[\(i)].port", String(n), "must be between 1 and 65535, inclusive")) }
        }
        return causes
    }
}

/// ConfigMaps: key names.
struct ConfigMapStrategy: ResourceStrategy {
    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes = ConfigMapStrategy.validateKeys(object["data"], "data")
        causes += ConfigMapStrategy.validateKeys(object["binaryData"], "binaryData")
        if old?["immutable"]?.boolValue == true, old?["data"] != object["data"] || old?["binaryData"] != object["binaryData"] {
            causes.append(.forbidden("data", "field is immutable when `immutable` is set"))
        }
        return causes
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
        return causes
    }
}
