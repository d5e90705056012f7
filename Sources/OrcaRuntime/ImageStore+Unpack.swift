import Foundation
import Glibc
import OrcaCore

extension ImageStore {
    /// The directory a layer with `diffID` is (or would be) unpacked into.
    public func snapshotPath(_ diffID: ContentDigest) -> String { "\(root)/layers/sha256/\(diffID.hex)" }

    /// Unpacks the layer blob into its snapshot directory unless that is already done.
    ///
    /// GNU tar extracts into a staging directory next to the snapshots (it detects gzip/zstd by
    /// itself); OCI whiteouts are then turned into their overlayfs form and the directory is renamed
    /// into place, so a snapshot is either complete or absent. An uncompressed layer's digest must
    /// be its diff ID.
    func unpackLayer(blob: ContentDigest, mediaType: String, diffID: ContentDigest) async throws {
        let target = snapshotPath(diffID)
        if Syscall.exists(target) { return }
        if mediaType == OCIImage.MediaType.layer, blob != diffID {
            throw OrcaError(.invalid, "uncompressed layer \(blob) does not match its diff ID \(diffID)")
        }
        let staging = "\(root)/layers/sha256/.tmp-\(diffID.hex.prefix(12))-\(UUID().uuidString.lowercased())"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        do {
            try await runner.checked(tarPath, [
                "--extract", "--file", blobPath(blob), "--directory", staging,
                "--same-permissions", "--numeric-owner", "--no-overwrite-dir",
                "--xattrs", "--xattrs-include=security.capability",
            ])
            try Self.convertWhiteouts(in: staging)
            let (r, e) = Syscall.attempt { rename(staging, target) }
            if r != 0 {
                // Someone else finished the same layer first: theirs is as good as ours.
                guard e == ENOTEMPTY || e == EEXIST, Syscall.exists(target) else {
                    throw Syscall.error("rename", staging, errno: e)
                }
                try? FileManager.default.removeItem(atPath: staging)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    /// The whiteout prefix of the OCI layer format.
    static let whiteoutPrefix = ".wh."
    /// The opaque-directory marker of the OCI layer format.
    static let opaqueWhiteout = ".wh..wh..opq"

    /// Rewrites OCI whiteouts under `dir` as overlayfs expects them in a lower directory:
    /// `.wh.<name>` becomes a 0/0 character device `<name>`, and a directory holding
    /// `.wh..wh..opq` gets the `trusted.overlay.opaque=y` attribute. Other `.wh..wh.` metadata
    /// (AUFS hard-link dirs) is dropped.
    static func convertWhiteouts(in dir: String) throws {
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir)
        for name in entries {
            let path = "\(dir)/\(name)"
            if name == opaqueWhiteout {
                try Syscall.call("unlink", path) { unlink(path) }
                try Syscall.setxattr(dir, name: "trusted.overlay.opaque", value: "y")
            } else if name.hasPrefix(whiteoutPrefix + whiteoutPrefix) {
                try FileManager.default.removeItem(atPath: path)
            } else if name.hasPrefix(whiteoutPrefix) {
                let hidden = "\(dir)/\(name.dropFirst(whiteoutPrefix.count))"
                try Syscall.call("unlink", path) { unlink(path) }
                if Syscall.exists(hidden) { try FileManager.default.removeItem(atPath: hidden) }
                try Syscall.call("mknod", hidden) { mknod(hidden, S_IFCHR | 0o000, 0) }
            } else if let st = Syscall.lstat(path), (st.st_mode & S_IFMT) == S_IFDIR {
                try convertWhiteouts(in: path)
            }
        }
    }
}
