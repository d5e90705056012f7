import Foundation
import Glibc
import OrcaCore

/// Imports image archives into an `ImageStore`: `docker save` tarballs and OCI image layout
/// tarballs (e.g. `skopeo copy … oci-archive:`, `docker save` of Docker 25+, `ctr export`).
///
/// The archive (plain, gzip or zstd) is extracted into a staging directory
/// under the store's `stagingDirectory`; each blob is then moved into the store, its digest
/// verified, and each image registered under its names. The staging directory is always removed.
public enum ImageArchive {
    /// Imports every image in the archive at `path`; returns them in archive order.
    ///
    /// A `docker save` archive is read by its `manifest.json` and named by `RepoTags`; an OCI layout
    /// by `index.json`, named by each entry's `io.containerd.image.name` or
    /// `org.opencontainers.image.ref.name` annotation. A ref name that is only a tag (`v1`) is
    /// joined to `repository` when given (`repository:v1`). Indexes are resolved to `platform`.
    public static func `import`(fileAt path: String, into store: ImageStore, repository: String? = nil,
                                platform: OCIImage.Platform = OCIImage.Platform(architecture: OCIImage.hostArchitecture, os: "linux"))
        async throws -> [Image] {
        guard Syscall.exists(path) else { throw OrcaError(.notFound, "image archive \(path) does not exist") }
        let staging = store.stagingPath("import")
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        // Extraction stops (and the staging directory goes) when the disk would fill past the
        // image GC high threshold.
        _ = try await TarExtraction(tarPath: store.tarPath).extract(
            file: path, into: staging, options: ["--no-same-owner", "--no-same-permissions"],
            diskGuard: store.diskGuard)
        var reader = Reader(store: store, root: staging)
        if Syscall.exists("\(staging)/manifest.json") {
            return try await reader.importDockerSave()
        }
        if Syscall.exists("\(staging)/index.json") {
            return try await reader.importOCILayout(repository: repository, platform: platform)
        }
        throw OrcaError(.invalid, "\(path) is neither a docker save archive (manifest.json) nor an OCI image layout (index.json)")
    }

    /// Reads one extracted archive: moves its blobs into the store, remembering what it moved.
    struct Reader {
        let store: ImageStore
        /// The real path of the staging directory the archive was extracted into.
        let root: String
        /// Digest and size of each file already moved into the store, by archive path and real path.
        var moved: [String: (digest: ContentDigest, size: Int64)] = [:]

        init(store: ImageStore, root: String) {
            self.store = store
            self.root = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        }

        /// The real path of the regular file `relative` names inside the archive; throws when it
        /// escapes the archive (via `..` or a symlink) or is not a regular file.
        func file(_ relative: String) throws -> String {
            let real = URL(fileURLWithPath: "\(root)/\(relative)").resolvingSymlinksInPath().path
            guard real.hasPrefix(root + "/"), let st = Syscall.lstat(real), (st.st_mode & S_IFMT) == S_IFREG else {
                throw OrcaError(.invalid, "image archive entry \"\(relative)\" is missing or not a regular file inside the archive")
            }
            return real
        }

        /// The bytes of `relative`, at most 16 MiB (manifests, configs, indexes).
        func read(_ relative: String) throws -> Data {
            let path = try file(relative)
            guard let size = Syscall.lstat(path)?.st_size, size <= 16 << 20, let data = FileManager.default.contents(atPath: path) else {
                throw OrcaError(.invalid, "image archive entry \"\(relative)\" is unreadable or too large")
            }
            return data
        }

        /// Moves `relative` into the store (checked against `expected` when given); returns its
        /// digest and size. A blob the store already has is left alone.
        mutating func storeBlob(_ relative: String, expected: ContentDigest? = nil) throws -> (digest: ContentDigest, size: Int64) {
            // By archive path first: a moved file is gone from the archive; by real path for symlinks.
            if let done = moved[relative] {
                if let expected, done.digest != expected { throw Self.mismatch(relative, done.digest, expected) }
                return done
            }
            let path = try file(relative)
            if let done = moved[path] {
                if let expected, done.digest != expected { throw Self.mismatch(relative, done.digest, expected) }
                moved[relative] = done
                return done
            }
            let result: (digest: ContentDigest, size: Int64)
            if let expected, store.hasBlob(expected) {
                let actual = try ContentDigest.sha256(ofFileAt: path)
                guard actual.digest == expected else { throw Self.mismatch(relative, actual.digest, expected) }
                result = actual
            } else {
                do { result = try store.putBlob(movingFileAt: path, expected: expected) } catch let error as OrcaError where error.code == .invalid {
                    throw OrcaError(.digestMismatch, "image archive entry \"\(relative)\": \(error.message); it was not stored")
                }
            }
            moved[path] = result
            moved[relative] = result
            return result
        }

        static func mismatch(_ relative: String, _ actual: ContentDigest, _ expected: ContentDigest) -> OrcaError {
            OrcaError(.digestMismatch, "image archive entry \"\(relative)\" has digest \(actual), expected \(expected); it was not stored")
        }

        /// The media type of a layer file by its first bytes: gzip, zstd or plain tar.
        func layerMediaType(_ relative: String) throws -> String {
            let path = try file(relative)
            guard let handle = FileHandle(forReadingAtPath: path) else { throw OrcaError(.invalid, "cannot read \(relative)") }
            defer { try? handle.close() }
            let magic = [UInt8](try handle.read(upToCount: 4) ?? Data())
            if magic.starts(with: [0x1F, 0x8B]) { return OCIImage.MediaType.layerGzip }
            if magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return OCIImage.MediaType.layerZstd }
            return OCIImage.MediaType.layer
        }
    }
}
