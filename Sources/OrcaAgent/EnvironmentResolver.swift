import Foundation
import OrcaClient

/// Resolves a container's environment as the kubelet does: `envFrom`, then `env` with
/// `value` (with `$(VAR)` expansion), `fieldRef`, `resourceFieldRef`, `configMapKeyRef`
/// and `secretKeyRef`, then the Service variables the container did not set itself (they can
/// be used in `$(VAR)` expansion). A missing non-optional source is a
/// `CreateContainerConfigError`.
struct EnvironmentResolver: Sendable {
    let client: any APIClient
    /// The Services the node knows (nil: no Service variables, for tests without Services).
    var services: SharedInformer<Service>? = nil

    struct ConfigError: Error, CustomStringConvertible {
        let description: String
    }

    func resolve(pod: JSONValue, container: JSONValue) async throws -> [(String, String)] {
        let ns = pod.metadataNamespace ?? "default"
        var env: [(String, String)] = []
        var index: [String: Int] = [:]
        func set(_ k: String, _ v: String) {
            if let i = index[k] { env[i] = (k, v) } else { index[k] = env.count; env.append((k, v)) }
        }
        let serviceEnv = try await serviceVariables(pod)
        // `$(VAR)` sees the Service variables under the container's own.
        var expansion = Dictionary(serviceEnv, uniquingKeysWith: { _, b in b })
        for source in container["envFrom"]?.arrayValue ?? [] {
            let prefix = source["prefix"]?.stringValue ?? ""
            if let ref = source["configMapRef"] {
                guard let data = try await configMap(ns, ref["name"]?.stringValue ?? "", optional: ref["optional"]?.boolValue == true) else { continue }
                for (k, v) in data.sorted(by: { $0.key < $1.key }) { set(prefix + k, v) }
            }
            if let ref = source["secretRef"] {
                guard let data = try await secret(ns, ref["name"]?.stringValue ?? "", optional: ref["optional"]?.boolValue == true) else { continue }
                for (k, v) in data.sorted(by: { $0.key < $1.key }) { set(prefix + k, v) }
            }
        }
        for e in container["env"]?.arrayValue ?? [] {
            let name = e["name"]?.stringValue ?? ""
            if let v = e["value"]?.stringValue {
                expansion.merge(env, uniquingKeysWith: { _, b in b })
                set(name, Self.expand(v, expansion))
                continue
            }
            guard let from = e["valueFrom"] else { set(name, ""); continue }
            if let f = from["fieldRef"] {
                set(name, try Self.fieldValue(pod, f["fieldPath"]?.stringValue ?? ""))
            } else if let r = from["resourceFieldRef"] {
                let target = r["containerName"]?.stringValue.flatMap { cn in
                    (pod[path: ["spec", "containers"]]?.arrayValue ?? []).first { $0["name"]?.stringValue == cn }
                } ?? container
                set(name, Self.resourceValue(target, r["resource"]?.stringValue ?? "", divisor: r["divisor"]?.stringValue))
            } else if let r = from["configMapKeyRef"] {
                let cmName = r["name"]?.stringValue ?? ""
                let key = r["key"]?.stringValue ?? ""
                let optional = r["optional"]?.boolValue == true
                guard let data = try await configMap(ns, cmName, optional: optional) else { continue }
                guard let v = data[key] else {
                    if optional { continue }
                    throw ConfigError(description: "couldn't find key \(key) in ConfigMap \(ns)/\(cmName)")
                }
                set(name, v)
            } else if let r = from["secretKeyRef"] {
                let sName = r["name"]?.stringValue ?? ""
                let key = r["key"]?.stringValue ?? ""
                let optional = r["optional"]?.boolValue == true
                guard let data = try await secret(ns, sName, optional: optional) else { continue }
                guard let v = data[key] else {
                    if optional { continue }
                    throw ConfigError(description: "couldn't find key \(key) in Secret \(ns)/\(sName)")
                }
                set(name, v)
            }
        }
        for (k, v) in serviceEnv where index[k] == nil { set(k, v) }
        return env
    }

    /// The pod's Service variables, once the node has read the Services at least once.
    func serviceVariables(_ pod: JSONValue) async throws -> [(String, String)] {
        guard let services else { return [] }
        guard await services.hasSynced else {
            throw ConfigError(description: "services have not yet been read at least once, cannot construct envvars")
        }
        return ServiceEnvironment.variables(services: await services.list(), namespace: pod.metadataNamespace ?? "default",
                                            enableServiceLinks: pod[path: ["spec", "enableServiceLinks"]]?.boolValue ?? true)
    }

    /// A ConfigMap's `data`, as environment variables see it (the kubelet reads only `data`
    /// for `envFrom` and `configMapKeyRef`; `binaryData` goes to volumes alone). Nil when the
    /// ConfigMap is missing and `optional`.
    func configMap(_ ns: String, _ name: String, optional: Bool) async throws -> [String: String]? {
        guard let cm = try await object("configmaps", kind: "configmap", ns, name, optional: optional) else { return nil }
        return (cm["data"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    /// A ConfigMap's content byte-exact, as volumes project it: `data` (its UTF-8 bytes) merged
    /// with `binaryData` (base64-decoded). Nil when the ConfigMap is missing and `optional`.
    func configMapBytes(_ ns: String, _ name: String, optional: Bool) async throws -> [String: [UInt8]]? {
        guard let cm = try await object("configmaps", kind: "configmap", ns, name, optional: optional) else { return nil }
        return Self.configMapBytes(cm)
    }

    /// A ConfigMap object's content byte-exact: `data` (UTF-8) merged with `binaryData` (base64).
    static func configMapBytes(_ cm: JSONValue) -> [String: [UInt8]] {
        var bytes: [String: [UInt8]] = [:]
        for (k, v) in cm["binaryData"]?.objectValue ?? [:] {
            if let d = v.stringValue.flatMap(Self.base64Bytes) { bytes[k] = d }
        }
        // Validation keeps the two key sets apart; `data` wins if a stored object has both, as
        // the kubelet's key lookup does.
        for (k, v) in cm["data"]?.objectValue ?? [:] {
            if let s = v.stringValue { bytes[k] = Array(s.utf8) }
        }
        return bytes
    }

    /// A Secret's `data` as strings for environment variables: the exact bytes where they are
    /// UTF-8 (NUL included), invalid sequences replaced (an environment entry is text). Nil when
    /// the Secret is missing and `optional`.
    func secret(_ ns: String, _ name: String, optional: Bool) async throws -> [String: String]? {
        try await secretBytes(ns, name, optional: optional)?.mapValues { String(decoding: $0, as: UTF8.self) }
    }

    /// A Secret's `data`, base64-decoded to its exact bytes (`stringData` is write-only: the API
    /// server has merged it into `data`). Nil when the Secret is missing and `optional`.
    func secretBytes(_ ns: String, _ name: String, optional: Bool) async throws -> [String: [UInt8]]? {
        guard let s = try await object("secrets", kind: "secret", ns, name, optional: optional) else { return nil }
        return Self.secretBytes(s)
    }

    /// A Secret object's `data`, base64-decoded to its exact bytes.
    static func secretBytes(_ s: JSONValue) -> [String: [UInt8]] {
        (s["data"]?.objectValue ?? [:]).compactMapValues { $0.stringValue.flatMap(Self.base64Bytes) }
    }

    /// Reads one ConfigMap or Secret; nil when it is missing and `optional`.
    private func object(_ resource: String, kind: String, _ ns: String, _ name: String, optional: Bool) async throws -> JSONValue? {
        do {
            return try await client.get(client.resource(resource), namespace: ns, name: name)
        } catch let e as APIError where e.code == 404 {
            if optional { return nil }
            throw ConfigError(description: "\(kind) \"\(name)\" not found")
        }
    }

    /// Standard base64 as Go's decoder takes it (line breaks ignored); nil when malformed (the
    /// API server never stores such a value; a key that does not decode is left out).
    static func base64Bytes(_ text: String) -> [UInt8]? {
        let compact = Data(text.utf8.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") })
        return Data(base64Encoded: compact).map { Array($0) }
    }

    /// The value of a downward-API field path.
    static func fieldValue(_ pod: JSONValue, _ path: String) throws -> String {
        func keyed(_ prefix: String, _ map: String) -> String? {
            guard path.hasPrefix(prefix + "['"), path.hasSuffix("']") else { return nil }
            let key = String(path.dropFirst(prefix.count + 2).dropLast(2))
            return pod[path: ["metadata", map, key]]?.stringValue ?? ""
        }
        if let v = keyed("metadata.labels", "labels") { return v }
        if let v = keyed("metadata.annotations", "annotations") { return v }
        switch path {
        case "metadata.name": return pod.metadataName ?? ""
        case "metadata.namespace": return pod.metadataNamespace ?? ""
        case "metadata.uid": return pod.metadataUID ?? ""
        case "metadata.labels":
            return pod.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: "\n")
        case "metadata.annotations":
            return (pod[path: ["metadata", "annotations"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                .sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: "\n")
        case "spec.nodeName": return pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        case "spec.serviceAccountName": return pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? ""
        case "status.hostIP": return pod[path: ["status", "hostIP"]]?.stringValue ?? ""
        case "status.hostIPs":
            return (pod[path: ["status", "hostIPs"]]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }.joined(separator: ",")
        case "status.podIP": return pod[path: ["status", "podIP"]]?.stringValue ?? ""
        case "status.podIPs":
            return (pod[path: ["status", "podIPs"]]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }.joined(separator: ",")
        default: throw ConfigError(description: "unsupported fieldPath \(path)")
        }
    }

    /// The value of a resourceFieldRef (`limits.cpu`, `requests.memory`, …) in units of `divisor`.
    static func resourceValue(_ container: JSONValue, _ resource: String, divisor: String?) -> String {
        let parts = resource.split(separator: ".").map(String.init)
        guard parts.count == 2 else { return "" }
        let isCPU = parts[1] == "cpu"
        let text = container[path: ["resources", parts[0], parts[1]]]?.stringValue
        let milli: Int64
        if let text, Quantity(text).isValid { milli = Quantity(text).milliValue }
        else if parts[0] == "limits" {
            // Unset limits read as node allocatable.
            milli = isCPU ? Int64(ProcessInfo.processInfo.activeProcessorCount) * 1000
                : Int64(clamping: ProcessInfo.processInfo.physicalMemory).multipliedSaturating(by: 1000)
        } else { milli = 0 }
        // No divisor, or a zero one (what Go clients send for an unset Quantity), is 1 (the kubelet's
        // `ExtractContainerResourceValue`).
        var d = divisor.flatMap { Quantity($0).isValid ? Quantity($0).milliValue : nil } ?? 1000
        if d <= 0 { d = 1000 }
        // Rounded up, without overflowing a saturated value.
        return String(milli / d + (milli % d > 0 ? 1 : 0))
    }

    /// `$(VAR)` expansion with `$$` escaping, as Kubernetes' expansion package does.
    static func expand(_ s: String, _ env: [String: String]) -> String {
        expand(s) { env[$0] }
    }

    /// `$(VAR)` expansion with `$$` escaping; `lookup` returns nil for an unknown name, which
    /// stays as written (`$(VAR)`).
    static func expand(_ s: String, lookup: (String) -> String?) -> String {
        guard s.contains("$") else { return s }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            let next = s.index(after: i)
            if c == "$", next < s.endIndex {
                if s[next] == "$" { out.append("$"); i = s.index(after: next); continue }
                if s[next] == "(", let close = s[next...].firstIndex(of: ")") {
                    let name = String(s[s.index(after: next)..<close])
                    if let v = lookup(name) { out += v } else { out += "$(\(name))" }
                    i = s.index(after: close)
                    continue
                }
            }
            out.append(c)
            i = next
        }
        return out
    }
}
