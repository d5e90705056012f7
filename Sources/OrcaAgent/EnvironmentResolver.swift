import Foundation
import OrcaClient

/// Resolves a container's environment as the kubelet does: `envFrom`, then `env` with
/// `value` (with `$(VAR)` expansion), `fieldRef`, `resourceFieldRef`, `configMapKeyRef`
/// and `secretKeyRef`. A missing non-optional source is a `CreateContainerConfigError`.
struct EnvironmentResolver: Sendable {
    let client: any APIClient

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
                set(name, Self.expand(v, Dictionary(env, uniquingKeysWith: { _, b in b })))
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
        return env
    }

    func configMap(_ ns: String, _ name: String, optional: Bool) async throws -> [String: String]? {
        do {
            let cm = try await client.get(client.resource("configmaps"), namespace: ns, name: name)
            var data = (cm["data"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            for (k, v) in cm["binaryData"]?.objectValue ?? [:] {
                if let d = Data(base64Encoded: v.stringValue ?? "") { data[k] = String(decoding: d, as: UTF8.self) }
            }
            return data
        } catch let e as APIError where e.code == 404 {
            if optional { return nil }
            throw ConfigError(description: "configmap \"\(name)\" not found")
        }
    }

    func secret(_ ns: String, _ name: String, optional: Bool) async throws -> [String: String]? {
        do {
            let s = try await client.get(client.resource("secrets"), namespace: ns, name: name)
            return (s["data"]?.objectValue ?? [:]).compactMapValues { v in
                Data(base64Encoded: v.stringValue ?? "").map { String(decoding: $0, as: UTF8.self) }
            }
        } catch let e as APIError where e.code == 404 {
            if optional { return nil }
            throw ConfigError(description: "secret \"\(name)\" not found")
        }
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
        let d = divisor.flatMap { Quantity($0).isValid ? Quantity($0).milliValue : nil } ?? 1000
        guard d > 0 else { return "0" }
        // Rounded up, without overflowing a saturated value.
        return String(milli / d + (milli % d > 0 ? 1 : 0))
    }

    /// `$(VAR)` expansion with `$$` escaping, as Kubernetes' expansion package does.
    static func expand(_ s: String, _ env: [String: String]) -> String {
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
                    if let v = env[name] { out += v } else { out += "$(\(name))" }
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
