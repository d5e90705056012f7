import Foundation
import Glibc
import OrcaCore

/// A local image: what the node agent needs to make a container's root file system and process.
public struct Image: Hashable, Sendable {
    /// The normalised name it was found by (or the first of `repoTags` when listed).
    public var name: String
    /// Every name in the store that points at the same manifest, sorted.
    public var repoTags: [String]
    /// The digest of the manifest (what a `name@sha256:…` reference pins).
    public var manifestDigest: ContentDigest
    /// The image ID: the digest of the image configuration blob.
    public var id: ContentDigest
    /// The runtime defaults: Env, Entrypoint, Cmd, WorkingDir, User.
    public var config: ImageConfig
    public var architecture: String
    public var os: String
    /// The unpacked layer directories, bottom layer first (overlay lowerdirs, reversed).
    public var layers: [String]
    /// Size in bytes of the config and the layer blobs as stored.
    public var size: Int64
}

/// A content-addressed image store under one root directory (e.g. `<data-dir>/images`).
///
/// Layout: `blobs/sha256/<hex>` (manifests, configs, layer tarballs), `refs.json` (normalised
/// name → manifest digest), `layers/sha256/<diff-id>/` (each layer unpacked once, whiteouts
/// converted to overlayfs form), `tmp/` (staging). Writes are atomic renames; the refs index is
/// updated under an exclusive `flock` so several processes may share the store.
public final class ImageStore: Sendable {
    /// The store's root directory.
    public let root: String
    /// Runs `tar` for layer extraction.
    let runner: any CommandRunner
    /// The tar binary used to unpack layers.
    let tarPath: String

    /// Disk use (percent) at which unpacking and importing stop (the image GC high threshold).
    public let diskHighThresholdPercent: Int

    /// Opens (creating if needed) the store at `root`.
    ///
    /// The root is private to root (0700): layers hold images' setuid binaries and device nodes,
    /// which other local users must not reach. Overlay mounts read the layers with the
    /// mounter's credentials, so containers need no access to these paths.
    public init(root: String, runner: any CommandRunner = SubprocessCommandRunner(), tarPath: String = "/bin/tar",
                diskHighThresholdPercent: Int = 85) throws {
        self.root = root
        self.runner = runner
        self.tarPath = tarPath
        self.diskHighThresholdPercent = diskHighThresholdPercent
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = chmod(root, 0o700)
        for dir in ["blobs/sha256", "layers/sha256", "layers/verified", "tmp"] {
            try fm.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    // MARK: - Blobs

    /// Where the blob with `digest` is (or would be) stored.
    public func blobPath(_ digest: ContentDigest) -> String { "\(root)/blobs/sha256/\(digest.hex)" }

    /// Whether the blob is present.
    public func hasBlob(_ digest: ContentDigest) -> Bool { Syscall.exists(blobPath(digest)) }

    /// The blob's bytes; throws `notFound` when absent.
    public func readBlob(_ digest: ContentDigest) throws -> Data {
        guard let data = FileManager.default.contents(atPath: blobPath(digest)) else {
            throw OrcaError(.notFound, "blob \(digest) is not in the image store")
        }
        return data
    }

    /// Stores `data`, checking it against `expected` when given; returns its digest and size.
    @discardableResult
    public func putBlob(_ data: Data, expected: ContentDigest? = nil) throws -> (digest: ContentDigest, size: Int64) {
        let digest = ContentDigest.sha256(of: data)
        if let expected, expected != digest {
            throw OrcaError(.invalid, "blob content has digest \(digest), expected \(expected)")
        }
        if !hasBlob(digest) {
            let tmp = stagingPath("blob")
            try data.write(to: URL(fileURLWithPath: tmp))
            try Syscall.call("rename", tmp) { rename(tmp, blobPath(digest)) }
        }
        return (digest, Int64(data.count))
    }

    /// Moves the file at `path` (on the same file system, e.g. under `stagingDirectory`) into the
    /// store, checking it against `expected` when given; returns its digest and size.
    @discardableResult
    public func putBlob(movingFileAt path: String, expected: ContentDigest? = nil) throws -> (digest: ContentDigest, size: Int64) {
        let (digest, size) = try ContentDigest.sha256(ofFileAt: path)
        if let expected, expected != digest {
            try? FileManager.default.removeItem(atPath: path)
            throw OrcaError(.invalid, "blob content has digest \(digest), expected \(expected)")
        }
        if hasBlob(digest) {
            try? FileManager.default.removeItem(atPath: path)
        } else {
            try Syscall.call("rename", path) { rename(path, blobPath(digest)) }
        }
        return (digest, size)
    }

    /// A directory for staging downloads and builds, on the store's file system.
    public var stagingDirectory: String { "\(root)/tmp" }

    /// A fresh, unused path under `stagingDirectory`.
    func stagingPath(_ prefix: String) -> String { "\(stagingDirectory)/\(prefix)-\(UUID().uuidString.lowercased())" }

    // MARK: - Images

    /// Records `manifest` (its config and layer blobs must already be stored) under `reference`,
    /// unpacking any layer not yet unpacked; returns the image.
    @discardableResult
    public func register(_ reference: String, manifest: Data) async throws -> Image {
        let ref = try ImageReference(parsing: reference)
        let m = try decodeManifest(manifest)
        let config = try decodeConfiguration(readBlob(m.config.digest))
        guard config.rootfs.diffIDs.count == m.layers.count else {
            throw OrcaError(.invalid, "image config lists \(config.rootfs.diffIDs.count) diff IDs for \(m.layers.count) layers")
        }
        for (layer, diffID) in zip(m.layers, config.rootfs.diffIDs) {
            guard hasBlob(layer.digest) else { throw OrcaError(.notFound, "layer blob \(layer.digest) is not in the image store") }
            try await unpackLayer(blob: layer.digest, mediaType: layer.mediaType, diffID: diffID)
        }
        let (digest, _) = try putBlob(manifest)
        try updateRefs { $0[ref.description] = digest.description }
        guard let image = try image(ref.description) else {
            throw OrcaError(.internalError, "image \(ref) vanished while it was registered")
        }
        return image
    }

    /// The image `reference` names — a name (normalised first), a `name@sha256:` digest reference,
    /// or an image ID (`sha256:<hex>` of the config) — or nil when it is not in the store.
    public func image(_ reference: String) throws -> Image? {
        let refs = try readRefs()
        if let id = Self.imageID(reference) {
            for name in refs.keys.sorted() {
                if let img = try image(named: name, refs: refs), img.id == id { return img }
            }
            return nil
        }
        return try image(named: ImageReference(parsing: reference).description, refs: refs)
    }

    /// Every named image, sorted by name (one entry per name; `repoTags` groups names of one image).
    public func list() throws -> [Image] {
        let refs = try readRefs()
        return try refs.keys.sorted().compactMap { try image(named: $0, refs: refs) }
    }

    /// Removes the name `reference`; when no other name points at its manifest, removes the
    /// manifest, config and the layers no other image uses. Returns whether the name existed.
    ///
    /// The caller makes sure no container still uses the image's layers, or names the layer
    /// directories containers use in `keepingLayers` (those are never deleted).
    @discardableResult
    public func remove(_ reference: String, keepingLayers: Set<String> = []) throws -> Bool {
        let name: String
        if Self.imageID(reference) != nil {
            guard let img = try image(reference) else { return false }
            for tag in img.repoTags { try remove(tag, keepingLayers: keepingLayers) }
            return true
        } else {
            name = try ImageReference(parsing: reference).description
        }
        var removed: String?
        var remaining: [String: String] = [:]
        try updateRefs { refs in
            removed = refs.removeValue(forKey: name)
            remaining = refs
        }
        guard let removed else { return false }
        if !remaining.values.contains(removed), let digest = try? ContentDigest(removed) {
            try collectGarbage(removed: digest, keeping: remaining, keepingLayers: keepingLayers)
        }
        return true
    }

    // MARK: - Internals

    static func imageID(_ reference: String) -> ContentDigest? {
        if let d = try? ContentDigest(reference) { return d }
        if ContentDigest.isHex64(Substring(reference)) { return ContentDigest(hex: reference) }
        return nil
    }

    private func image(named name: String, refs: [String: String]) throws -> Image? {
        let ref = try ImageReference(parsing: name)
        // A digest name recorded by a pull points at the platform manifest (the digest it pins
        // may be an index's); an unrecorded digest name is looked up as a manifest digest.
        let manifestDigest: ContentDigest
        if let stored = refs[name] {
            manifestDigest = try ContentDigest(stored)
        } else if let pinned = ref.digest {
            manifestDigest = try refs["\(ref.repository)@\(pinned)"].map(ContentDigest.init) ?? pinned
        } else {
            return nil
        }
        guard hasBlob(manifestDigest), let manifest = try? decodeManifest(readBlob(manifestDigest)) else { return nil }
        guard hasBlob(manifest.config.digest) else { return nil }
        let configuration = try decodeConfiguration(readBlob(manifest.config.digest))
        let layers = configuration.rootfs.diffIDs.map(snapshotPath)
        guard layers.allSatisfy(Syscall.exists) else { return nil }
        let tags = refs.filter { $0.value == manifestDigest.description }.keys.sorted()
        return Image(
            name: name, repoTags: tags, manifestDigest: manifestDigest, id: manifest.config.digest,
            config: configuration.config ?? ImageConfig(), architecture: configuration.architecture,
            os: configuration.os, layers: layers,
            size: ([manifest.config.size] + manifest.layers.map(\.size)).map { max($0, 0) }.saturatingSum())
    }

    func decodeManifest(_ data: Data) throws -> OCIImage.Manifest {
        do { return try JSONDecoder().decode(OCIImage.Manifest.self, from: data) } catch {
            throw OrcaError(.invalid, "not an image manifest", cause: error)
        }
    }

    func decodeConfiguration(_ data: Data) throws -> OCIImage.Configuration {
        do { return try JSONDecoder().decode(OCIImage.Configuration.self, from: data) } catch {
            throw OrcaError(.invalid, "not an image configuration", cause: error)
        }
    }

    private var refsPath: String { "\(root)/refs.json" }

    /// The refs index: normalised name → manifest digest.
    func readRefs() throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: refsPath), !data.isEmpty else { return [:] }
        return try JSONDecoder().decode([String: String].self, from: data)
    }

    /// Read-modify-write of the refs index under an exclusive lock on `<root>/refs.lock`.
    private func updateRefs(_ change: (inout [String: String]) throws -> Void) throws {
        let lockPath = "\(root)/refs.lock"
        let fd = try Syscall.call("open", lockPath) { open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        defer { close(fd) }
        try Syscall.call("flock", lockPath) { flock(fd, LOCK_EX) }
        var refs = try readRefs()
        try change(&refs)
        try PrivateFiles.write(OCIImage.encode(refs), to: refsPath)
    }

    /// Deletes the manifest `removed`, its config, and those of its layer blobs and snapshots that
    /// no image named in `refs` uses (snapshots in `keepingLayers` stay). Blobs of other manifests
    /// (e.g. a pull in progress) are untouched.
    private func collectGarbage(removed: ContentDigest, keeping refs: [String: String], keepingLayers: Set<String>) throws {
        guard let data = try? readBlob(removed), let gone = try? decodeManifest(data) else { return }
        let goneDiffIDs = (try? decodeConfiguration(readBlob(gone.config.digest)))?.rootfs.diffIDs ?? []
        var liveBlobs = Set<ContentDigest>()
        var liveSnapshots = Set<ContentDigest>()
        for value in Set(refs.values) {
            guard let digest = try? ContentDigest(value), let data = try? readBlob(digest),
                  let m = try? decodeManifest(data) else { continue }
            liveBlobs.insert(digest)
            liveBlobs.insert(m.config.digest)
            m.layers.forEach { liveBlobs.insert($0.digest) }
            if let c = try? decodeConfiguration(readBlob(m.config.digest)) { liveSnapshots.formUnion(c.rootfs.diffIDs) }
        }
        let fm = FileManager.default
        for blob in [removed, gone.config.digest] + gone.layers.map(\.digest) where !liveBlobs.contains(blob) {
            try? fm.removeItem(atPath: blobPath(blob))
        }
        for diffID in goneDiffIDs where !liveSnapshots.contains(diffID) && !keepingLayers.contains(snapshotPath(diffID)) {
            try? fm.removeItem(atPath: verifiedMarkerPath(diffID))
            try? fm.removeItem(atPath: snapshotPath(diffID))
        }
    }
}
