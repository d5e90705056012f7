import Foundation
import OrcaClient
#if canImport(Glibc)
import Glibc
#endif

/// Materialises a pod's volumes under `<pod-dir>/volumes/<name>`: emptyDir (disk or
/// tmpfs), hostPath, persistentVolumeClaim (its volume's host directory), configMap, secret,
/// downwardAPI and projected. Idempotent: content
/// volumes go through `AtomicWriter` (byte-exact, swapped in atomically and only when their
/// content changed), emptyDirs keep their data for the pod's life.
struct VolumeManager: Sendable {
    let client: any APIClient
    let env: EnvironmentResolver
    /// Where configMap and secret content is read (nil: straight from the API at every sync).
    var sources: VolumeSourceCache? = nil
    /// Where projected ServiceAccount tokens come from (nil: such sources are left out).
    var tokens: ServiceAccountTokenCache? = nil

    struct VolumeError: Error, CustomStringConvertible { let description: String }

    /// Relative path → file, as `AtomicWriter` projects it.
    typealias Payload = [String: AtomicWriter.FileProjection]

    /// The kinds whose content the agent projects (and mounts read-only).
    static let contentKinds = ["configMap", "secret", "downwardAPI", "projected"]

    /// Sets up every volume; returns volume name → host path. One volume that cannot be set
    /// up does not keep the others from it; the errors, each naming its volume, are thrown
    /// together at the end. `known` holds the paths of an earlier set-up: a persistentVolumeClaim
    /// resolved once is not looked up again (its volume stays where the containers mount it).
    func setUp(pod: JSONValue, podDir: String, known: [String: String] = [:]) async throws -> [String: String] {
        if let sources, let uid = pod.metadataUID {
            await sources.register(pod: uid, references: VolumeSourceCache.references(pod))
        }
        var paths: [String: String] = [:]
        var failures: [String] = []
        for v in pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            let name = v["name"]?.stringValue ?? ""
            if let path = known[name], let claim = v["persistentVolumeClaim"], !claim.isNull {
                paths[name] = path
                continue
            }
            do {
                paths[name] = try await setUp(volume: v, name: name, pod: pod, podDir: podDir)
            } catch {
                failures.append("volume \"\(name)\": \(error)")
            }
        }
        guard failures.isEmpty else { throw VolumeError(description: failures.joined(separator: "; ")) }
        return paths
    }

    /// Sets up one volume; returns its host path.
    func setUp(volume v: JSONValue, name: String, pod: JSONValue, podDir: String) async throws -> String {
        // Validation makes it a DNS label; here it only must not leave the volumes directory.
        guard SubPathResolver.isPlainName(name) else { throw VolumeError(description: "invalid volume name") }
        let fm = FileManager.default
        let dir = "\(podDir)/volumes/\(name)"
        if let claim = v["persistentVolumeClaim"], !claim.isNull {
            return try await persistentVolumePath(namespace: pod.metadataNamespace ?? "default",
                                                  claimName: claim["claimName"]?.stringValue ?? "")
        }
        if let hp = v["hostPath"] {
            let path = hp["path"]?.stringValue ?? ""
            let type = hp["type"]?.stringValue ?? ""
            var isDir: ObjCBool = false
            let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
            switch type {
            case "DirectoryOrCreate": if !exists { try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]) }
            case "FileOrCreate": if !exists { fm.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]) }
            case "Directory": if !exists || !isDir.boolValue { throw VolumeError(description: "hostPath type check failed: \(path) is not a directory") }
            case "File": if !exists || isDir.boolValue { throw VolumeError(description: "hostPath type check failed: \(path) is not a file") }
            default: break
            }
            return path
        }
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if let ed = v["emptyDir"] {
            if ed["medium"]?.stringValue == "Memory", !MountTable.isMountPoint(dir) {
                var options = "mode=0777"
                if let size = ed["sizeLimit"]?.stringValue, Quantity(size).isValid { options += ",size=\(Quantity(size).value)" }
                guard mount("tmpfs", dir, "tmpfs", 0, options) == 0 else {
                    throw VolumeError(description: "mounting tmpfs for emptyDir \(name): \(String(cString: strerror(errno)))")
                }
            } else {
                chmod(dir, 0o777)
            }
            return dir
        }
        guard let kind = Self.contentKinds.first(where: { v[$0] != nil }) else { return dir }
        let defaultMode = Self.mode(v[path: [kind, "defaultMode"]], default: 0o644)
        var payload: Payload = [:]
        func add(_ more: Payload) { payload.merge(more) { _, later in later } }
        if let cm = v["configMap"] { add(try await configMapPayload(pod, cm, defaultMode: defaultMode)) }
        if let s = v["secret"] { add(try await secretPayload(pod, s, defaultMode: defaultMode)) }
        if let d = v["downwardAPI"] { add(try downwardPayload(pod, d["items"]?.arrayValue ?? [], defaultMode: defaultMode)) }
        if let p = v["projected"] {
            for source in p["sources"]?.arrayValue ?? [] {
                if let cm = source["configMap"] { add(try await configMapPayload(pod, cm, defaultMode: defaultMode)) }
                if let s = source["secret"] { add(try await secretPayload(pod, s, defaultMode: defaultMode)) }
                if let d = source["downwardAPI"] { add(try downwardPayload(pod, d["items"]?.arrayValue ?? [], defaultMode: defaultMode)) }
                if let t = source["serviceAccountToken"] { add(try await tokenPayload(pod, t, defaultMode: defaultMode)) }
            }
        }
        try AtomicWriter(targetDirectory: dir).write(payload)
        return dir
    }

    /// A serviceAccountToken source: a token bound to the pod, refreshed before it expires.
    func tokenPayload(_ pod: JSONValue, _ src: JSONValue, defaultMode: Int) async throws -> Payload {
        guard let tokens else { return [:] }
        let path = src["path"]?.stringValue ?? ""
        let token = try await tokens.token(pod: pod, audience: src["audience"]?.stringValue ?? "",
                                           expirationSeconds: src["expirationSeconds"]?.intValue ?? 3600)
        return [path: AtomicWriter.FileProjection(data: Array(token.utf8), mode: defaultMode)]
    }

    /// A configMap source: `data` and `binaryData`, byte-exact.
    func configMapPayload(_ pod: JSONValue, _ src: JSONValue, defaultMode: Int) async throws -> Payload {
        let name = src["name"]?.stringValue ?? ""
        let optional = src["optional"]?.boolValue == true
        let namespace = pod.metadataNamespace ?? "default"
        let bytes: [String: [UInt8]]?
        if sources != nil {
            bytes = try await cached(.init(kind: .configMap, namespace: namespace, name: name), optional: optional)
                .map { EnvironmentResolver.configMapBytes($0) }
        } else {
            bytes = try await env.configMapBytes(namespace, name, optional: optional)
        }
        guard let data = bytes else { return [:] }
        return try Self.project(data, items: src["items"]?.arrayValue, defaultMode: defaultMode, optional: optional) {
            "configmap references non-existent config key: \($0)"
        }
    }

    /// A secret source: `data`, base64-decoded to its exact bytes.
    func secretPayload(_ pod: JSONValue, _ src: JSONValue, defaultMode: Int) async throws -> Payload {
        let name = src["secretName"]?.stringValue ?? src["name"]?.stringValue ?? ""
        let optional = src["optional"]?.boolValue == true
        let namespace = pod.metadataNamespace ?? "default"
        let bytes: [String: [UInt8]]?
        if sources != nil {
            bytes = try await cached(.init(kind: .secret, namespace: namespace, name: name), optional: optional)
                .map { EnvironmentResolver.secretBytes($0) }
        } else {
            bytes = try await env.secretBytes(namespace, name, optional: optional)
        }
        guard let data = bytes else { return [:] }
        return try Self.project(data, items: src["items"]?.arrayValue, defaultMode: defaultMode, optional: optional) {
            "references non-existent secret key: \($0)"
        }
    }

    /// A ConfigMap or Secret from the cache; nil when it is missing and `optional`.
    private func cached(_ key: VolumeSourceCache.Key, optional: Bool) async throws -> JSONValue? {
        if let object = try await sources?.get(key) { return object }
        if optional { return nil }
        let kind = key.kind == .configMap ? "configmap" : "secret"
        throw EnvironmentResolver.ConfigError(description: "\(kind) \"\(key.name)\" not found")
    }

    /// Kubernetes' key-to-path projection: every key at its own name with `defaultMode`, or
    /// only the listed `items`, each at its `path` with its `mode`. A listed key that is
    /// missing is an error unless the source is optional.
    static func project(_ data: [String: [UInt8]], items: [JSONValue]?, defaultMode: Int, optional: Bool,
                        missing: (String) -> String) throws -> Payload {
        guard let items, !items.isEmpty else {
            return data.mapValues { AtomicWriter.FileProjection(data: $0, mode: defaultMode) }
        }
        var payload: Payload = [:]
        for item in items {
            let key = item["key"]?.stringValue ?? ""
            guard let bytes = data[key] else {
                if optional { continue }
                throw VolumeError(description: missing(key))
            }
            payload[item["path"]?.stringValue ?? key] = AtomicWriter.FileProjection(data: bytes, mode: mode(item["mode"], default: defaultMode))
        }
        return payload
    }

    /// A downwardAPI source: field and resource values as text.
    func downwardPayload(_ pod: JSONValue, _ items: [JSONValue], defaultMode: Int) throws -> Payload {
        var payload: Payload = [:]
        for item in items {
            let text: String
            if let f = item["fieldRef"] {
                text = try EnvironmentResolver.fieldValue(pod, f["fieldPath"]?.stringValue ?? "")
            } else if let r = item["resourceFieldRef"] {
                let c = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).first { $0["name"] == r["containerName"] } ?? .null
                text = EnvironmentResolver.resourceValue(c, r["resource"]?.stringValue ?? "", divisor: r["divisor"]?.stringValue)
            } else {
                text = ""
            }
            payload[item["path"]?.stringValue ?? ""] = AtomicWriter.FileProjection(data: Array(text.utf8), mode: Self.mode(item["mode"], default: defaultMode))
        }
        return payload
    }

    /// A `mode`/`defaultMode` field; `AtomicWriter` refuses one outside 0…0o777.
    static func mode(_ value: JSONValue?, default defaultMode: Int) -> Int {
        value?.intValue.map { Int(clamping: $0) } ?? defaultMode
    }

    /// Unmounts the pod's subPath mounts and tmpfs volumes, then removes the volume
    /// directories. Returns false, and removes nothing below a mount that stayed, when an
    /// unmount failed: the caller must then not delete the pod directory either.
    @discardableResult
    func tearDown(podDir: String) -> Bool {
        var clean = SubPathResolver.cleanUp(podDirectory: podDir)
        let fm = FileManager.default
        let root = "\(podDir)/volumes"
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            SubPathResolver.unmount("\(root)/\(name)")
        }
        if MountTable.mountPoints(under: SubPathResolver.realPath(root) ?? root).isEmpty {
            try? fm.removeItem(atPath: root)
        } else {
            clean = false
        }
        return clean
    }
}
