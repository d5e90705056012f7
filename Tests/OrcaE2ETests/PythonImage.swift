import Foundation

/// An OCI image layout for tests that run Python in pods: an image of the server's store (the
/// built-in busybox) with one more layer holding Debian's Python 3.11 as this machine has it —
/// the interpreter, its standard library and every shared library `ldd` lists for the
/// interpreter and the extension modules — and a `pip install --target` directory at
/// `packagesPath` (for PYTHONPATH). `load(into:)` imports it with `orca image import`;
/// `remove()` deletes the layout.
struct PythonImage {
    /// Where `make deps` installs kopf and its dependencies from PyPI with Debian's Python.
    static let kopfPackages = "/var/cache/orca-tests/kopf"
    /// Where the packages directory is in the image.
    static let packagesPath = "/opt/site-packages"
    static let interpreter = "/usr/bin/python3.11"
    static let standardLibrary = "/usr/lib/python3.11"

    /// The image's name, e.g. `example.com/orca-e2e/kopf:1a2b3c`.
    let name: String
    /// The OCI layout directory.
    let path: String

    /// Builds the layout from `base` (a name in the store at `store`) and the packages directory `packages`.
    init(store: String, base: String, packages: String, name: String) throws {
        self.name = name
        path = NSTemporaryDirectory() + "orca-e2e-python-\(UUID().uuidString.prefix(8))"
        do { try build(store: store, base: base, packages: packages) } catch {
            remove()
            throw error
        }
    }

    /// Imports the image into the store of the server with data directory `dataDir`.
    func load(into dataDir: String) throws {
        let archive = path + ".tar"
        defer { try? FileManager.default.removeItem(atPath: archive) }
        try SystemCommand.must("/bin/tar", ["-C", path, "-cf", archive, "."], timeout: 300)
        let imported = try OrcaServerProcess.run(OrcaServerProcess.binary, ["image", "import", "--data-dir", dataDir, archive], timeout: 300)
        guard imported.status == 0, imported.out.contains(name) else {
            throw E2EError("orca image import of \(name) failed (\(imported.status)): \(imported.err)\(imported.out)")
        }
    }

    func remove() {
        for p in [path, path + ".tar", path + ".work"] { try? FileManager.default.removeItem(atPath: p) }
    }

    private func build(store: String, base: String, packages: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: path + "/blobs/sha256", withIntermediateDirectories: true)
        let work = path + ".work"
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: work) }

        // The base image's manifest, config and layers, as in the store (laid out as an OCI layout's blobs).
        let refs = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: store + "/refs.json"))) as? [String: String] ?? [:]
        guard let baseDigest = refs[base] else { throw E2EError("\(base) is not in the store \(store)") }
        func storeBlob(_ digest: String) -> String { store + "/blobs/sha256/" + digest.dropFirst("sha256:".count) }
        func layoutBlob(_ digest: String) -> String { path + "/blobs/sha256/" + digest.dropFirst("sha256:".count) }
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: storeBlob(baseDigest)))) as? [String: Any] ?? [:]
        guard let configDigest = (manifest["config"] as? [String: Any])?["digest"] as? String,
              let baseLayers = manifest["layers"] as? [[String: Any]] else { throw E2EError("\(base): unexpected manifest \(manifest)") }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: storeBlob(configDigest)))) as? [String: Any] ?? [:]
        for layer in baseLayers {
            guard let digest = layer["digest"] as? String else { continue }
            if !fm.fileExists(atPath: layoutBlob(digest)) { try fm.copyItem(atPath: storeBlob(digest), toPath: layoutBlob(digest)) }
        }

        // The new layer, uncompressed (so its digest is its diff ID).
        let layer = work + "/layer.tar"
        try Self.writeLayer(to: layer, packages: packages)
        let layerDigest = try Self.sha256(file: layer)
        let layerSize = (try fm.attributesOfItem(atPath: layer)[.size] as? NSNumber)?.intValue ?? 0
        try fm.moveItem(atPath: layer, toPath: layoutBlob(layerDigest))

        var rootfs = config["rootfs"] as? [String: Any] ?? ["type": "layers"]
        rootfs["diff_ids"] = (rootfs["diff_ids"] as? [String] ?? []) + [layerDigest]
        config["rootfs"] = rootfs
        let configData = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        let newConfigDigest = try put(configData)
        manifest["config"] = ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": newConfigDigest, "size": configData.count]
        manifest["layers"] = baseLayers + [["mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": layerSize]]
        manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
        let manifestData = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
        let manifestDigest = try put(manifestData)
        let index: [String: Any] = ["schemaVersion": 2, "manifests": [[
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestData.count,
            "annotations": ["org.opencontainers.image.ref.name": name],
        ]]]
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: path + "/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: path + "/oci-layout"))
    }

    /// Writes a small blob (config, manifest) into the layout; returns its digest.
    private func put(_ data: Data) throws -> String {
        let digest = TestImageLayout.sha256(data)
        try data.write(to: URL(fileURLWithPath: path + "/blobs/sha256/" + digest.dropFirst("sha256:".count)))
        return digest
    }

    /// The Python layer: the interpreter and its standard library (without the build
    /// configuration and Debian's sitecustomize link into /etc), the shared libraries as regular
    /// files at the paths `ldd` names, and the packages under `packagesPath`; all owned by root.
    static func writeLayer(to layer: String, packages: String) throws {
        let owner = ["--owner=0", "--group=0", "--numeric-owner"]
        let relative = { (absolute: String) in String(absolute.dropFirst()) }
        try SystemCommand.must("/bin/tar", ["-C", "/"] + owner + [
            "--exclude=\(relative(standardLibrary))/config-*", "--exclude=\(relative(standardLibrary))/sitecustomize.py",
            "-cf", layer, "usr/bin/python3", relative(interpreter), relative(standardLibrary),
        ], timeout: 300)
        let modules = [interpreter] + sharedObjects(under: standardLibrary + "/lib-dynload") + sharedObjects(under: packages)
        let libraries = try sharedLibraries(of: modules).filter { !$0.hasPrefix(packages + "/") }
        try SystemCommand.must("/bin/tar", ["-C", "/", "--dereference"] + owner + ["-rf", layer] + libraries.map(relative), timeout: 300)
        let top = try FileManager.default.contentsOfDirectory(atPath: packages).sorted()
        // Prefixes member names only, not symlink targets (S).
        try SystemCommand.must("/bin/tar", ["-C", packages] + owner + ["--transform", "s,^,\(relative(packagesPath))/,S", "-rf", layer] + top,
                               timeout: 300)
    }

    /// The extension modules and libraries (`*.so`, `*.so.*`) under `directory`.
    static func sharedObjects(under directory: String) -> [String] {
        let names = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
        return names.filter { $0.hasSuffix(".so") || $0.contains(".so.") }.sorted().map { directory + "/" + $0 }
    }

    /// The shared libraries (absolute paths, the dynamic loader included) `ldd` lists for `files`.
    static func sharedLibraries(of files: [String]) throws -> [String] {
        // ldd fails for a file that is not dynamic, and still lists the others.
        let r = try OrcaServerProcess.run("/usr/bin/ldd", files, timeout: 120)
        var libraries = Set<String>()
        for line in r.out.split(separator: "\n") where line.hasPrefix("\t") {
            // "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x…)" or "\t/lib64/ld-linux-x86-64.so.2 (0x…)".
            let resolved = line.range(of: "=>").map { line[$0.upperBound...] } ?? line[...]
            if let path = resolved.split(whereSeparator: { $0 == " " || $0 == "\t" }).first, path.hasPrefix("/") {
                libraries.insert(String(path))
            }
        }
        guard libraries.contains(where: { $0.contains("/libc.so") }) else {
            throw E2EError("ldd lists no C library for \(interpreter): \(r.out)\(r.err)")
        }
        return libraries.sorted()
    }

    static func sha256(file: String) throws -> String {
        let out = try SystemCommand.must("/usr/bin/sha256sum", [file], timeout: 300)
        guard let hex = out.split(separator: " ").first, hex.count == 64 else { throw E2EError("sha256sum \(file): \(out)") }
        return "sha256:" + hex
    }
}
