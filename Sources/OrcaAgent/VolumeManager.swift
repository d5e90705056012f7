import Foundation
import OrcaClient
#if canImport(Glibc)
import Glibc
#endif

/// Materialises a pod's volumes under `<pod-dir>/volumes/<name>`: emptyDir (disk or
/// tmpfs), hostPath, configMap, secret, downwardAPI and projected. Idempotent: content
/// volumes are rewritten on each sync, emptyDirs keep their data for the pod's life.
struct VolumeManager: Sendable {
    let client: any APIClient
    let env: EnvironmentResolver

    struct VolumeError: Error, CustomStringConvertible { let description: String }

    /// Sets up every volume; returns volume name → host path.
    func setUp(pod: JSONValue, podDir: String) async throws -> [String: String] {
        var paths: [String: String] = [:]
        let fm = FileManager.default
        for v in pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            let name = v["name"]?.stringValue ?? ""
            let dir = "\(podDir)/volumes/\(name)"
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
                paths[name] = path
                continue
            }
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            paths[name] = dir
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
                continue
            }
            var files: [(String, Data, Int)] = []
            let defaultMode = Int(v[path: ["configMap", "defaultMode"]]?.intValue ?? v[path: ["secret", "defaultMode"]]?.intValue
                ?? v[path: ["downwardAPI", "defaultMode"]]?.intValue ?? v[path: ["projected", "defaultMode"]]?.intValue ?? 0o644)
            if let cm = v["configMap"] { files += try await configMapFiles(pod, cm, defaultMode) }
            if let s = v["secret"] { files += try await secretFiles(pod, s, defaultMode) }
            if let d = v["downwardAPI"] { files += try downwardFiles(pod, d["items"]?.arrayValue ?? [], defaultMode) }
            if let p = v["projected"] {
                for source in p["sources"]?.arrayValue ?? [] {
                    if let cm = source["configMap"] { files += try await configMapFiles(pod, cm, defaultMode) }
                    if let s = source["secret"] { files += try await secretFiles(pod, s, defaultMode) }
                    if let d = source["downwardAPI"] { files += try downwardFiles(pod, d["items"]?.arrayValue ?? [], defaultMode) }
                }
            }
            if v["configMap"] != nil || v["secret"] != nil || v["downwardAPI"] != nil || v["projected"] != nil {
                try write(files, into: dir)
            }
        }
        return paths
    }

    func configMapFiles(_ pod: JSONValue, _ src: JSONValue, _ defaultMode: Int) async throws -> [(String, Data, Int)] {
        let name = src["name"]?.stringValue ?? ""
        guard let data = try await env.configMap(pod.metadataNamespace ?? "default", name, optional: src["optional"]?.boolValue == true) else { return [] }
        return try select(data.mapValues { Data($0.utf8) }, src["items"]?.arrayValue, defaultMode, what: "configmap \(name)")
    }

    func secretFiles(_ pod: JSONValue, _ src: JSONValue, _ defaultMode: Int) async throws -> [(String, Data, Int)] {
        let name = src["secretName"]?.stringValue ?? src["name"]?.stringValue ?? ""
        guard let data = try await env.secret(pod.metadataNamespace ?? "default", name, optional: src["optional"]?.boolValue == true) else { return [] }
        return try select(data.mapValues { Data($0.utf8) }, src["items"]?.arrayValue, defaultMode, what: "secret \(name)")
    }

    func select(_ data: [String: Data], _ items: [JSONValue]?, _ defaultMode: Int, what: String) throws -> [(String, Data, Int)] {
        guard let items, !items.isEmpty else { return data.sorted { $0.key < $1.key }.map { ($0.key, $0.value, defaultMode) } }
        return try items.map { item in
            let key = item["key"]?.stringValue ?? ""
            guard let d = data[key] else { throw VolumeError(description: "configmap references non-existent config key: \(key) in \(what)") }
            return (item["path"]?.stringValue ?? key, d, Int(item["mode"]?.intValue ?? Int64(defaultMode)))
        }
    }

    func downwardFiles(_ pod: JSONValue, _ items: [JSONValue], _ defaultMode: Int) throws -> [(String, Data, Int)] {
        try items.map { item in
            let path = item["path"]?.stringValue ?? ""
            let mode = Int(item["mode"]?.intValue ?? Int64(defaultMode))
            if let f = item["fieldRef"] {
                return (path, Data(try EnvironmentResolver.fieldValue(pod, f["fieldPath"]?.stringValue ?? "").utf8), mode)
            }
            if let r = item["resourceFieldRef"] {
                let c = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).first { $0["name"] == r["containerName"] } ?? .null
                return (path, Data(EnvironmentResolver.resourceValue(c, r["resource"]?.stringValue ?? "", divisor: r["divisor"]?.stringValue).utf8), mode)
            }
            return (path, Data(), mode)
        }
    }

    /// Writes files atomically: a new timestamped directory, then the `..data` symlink swap
    /// (as the kubelet's atomic writer), so readers never see a half-written set.
    func write(_ files: [(String, Data, Int)], into dir: String) throws {
        let fm = FileManager.default
        let stamp = "..\(UInt64(Date().timeIntervalSince1970 * 1e6))"
        let staging = "\(dir)/\(stamp)"
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for (path, data, mode) in files {
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { continue }
            let full = "\(staging)/\(path)"
            try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            fm.createFile(atPath: full, contents: data, attributes: [.posixPermissions: mode])
        }
        let link = "\(dir)/..data"
        let tmpLink = "\(dir)/..data_tmp"
        try? fm.removeItem(atPath: tmpLink)
        try fm.createSymbolicLink(atPath: tmpLink, withDestinationPath: stamp)
        guard rename(tmpLink, link) == 0 else { throw VolumeError(description: "swapping \(link): \(String(cString: strerror(errno)))") }
        for (path, _, _) in files {
            let top = String(path.split(separator: "/").first ?? "")
            let entry = "\(dir)/\(top)"
            if (try? fm.destinationOfSymbolicLink(atPath: entry)) == nil, !fm.fileExists(atPath: entry) {
                try fm.createSymbolicLink(atPath: entry, withDestinationPath: "..data/\(top)")
            }
        }
        for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where entry.hasPrefix("..") && entry != stamp && entry != "..data" {
            try? fm.removeItem(atPath: "\(dir)/\(entry)")
        }
    }

    /// Unmounts tmpfs volumes and removes the pod's volume directories.
    func tearDown(podDir: String) {
        let fm = FileManager.default
        let root = "\(podDir)/volumes"
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            let dir = "\(root)/\(name)"
            while MountTable.isMountPoint(dir) { if umount2(dir, Int32(MNT_DETACH)) != 0 { break } }
        }
        try? fm.removeItem(atPath: root)
    }
}
