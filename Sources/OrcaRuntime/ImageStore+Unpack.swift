import Foundation
import Glibc
import OrcaCore

extension ImageStore {
    /// The directory a layer with `diffID` is (or would be) unpacked into.
    public func snapshotPath(_ diffID: ContentDigest) -> String { "\(root)/layers/sha256/\(diffID.hex)" }

    /// Unpacks the layer blob into its snapshot directory unless a verified snapshot is there.
    ///
    /// The blob is decompressed and its uncompressed stream hashed while GNU tar extracts it into
    /// a staging directory next to the snapshots (`TarExtraction`). A stream whose digest is not
    /// `diffID` is refused ("wrong diff id calculated on extraction", as containerd says) and
    /// nothing of it is kept, so no image can plant content under another layer's diff ID. OCI
    /// whiteouts are then turned into their overlayfs form (refusing names that escape) and the
    /// directory is renamed into place, so a snapshot is either complete and verified or absent.
    /// A snapshot made before diff IDs were verified (it has no `.verified` marker) is unpacked anew.
    /// Extraction stops, and what it wrote is removed, when the disk would fill past `diskGuard`'s
    /// threshold.
    func unpackLayer(blob: ContentDigest, mediaType: String, diffID: ContentDigest) async throws {
        let target = snapshotPath(diffID)
        if isVerifiedSnapshot(diffID) { return }
        if mediaType == OCIImage.MediaType.layer, blob != diffID {
            throw OrcaError(.invalid, "wrong diff id: the uncompressed layer \(blob) is not the diff ID \(diffID) the image configuration names")
        }
        let staging = "\(root)/layers/sha256/.tmp-\(diffID.hex.prefix(12))-\(UUID().uuidString.lowercased())"
        try Syscall.call("mkdir", staging) { mkdir(staging, 0o700) }
        do {
            let extracted = try await TarExtraction(tarPath: tarPath).extract(
                file: blobPath(blob), into: staging,
                options: ["--same-permissions", "--numeric-owner", "--no-overwrite-dir",
                          "--xattrs", "--xattrs-include=security.capability"],
                diskGuard: diskGuard)
            guard extracted.digest == diffID else {
                throw OrcaError(.invalid, "wrong diff id calculated on extraction of layer \(blob): "
                    + "\(extracted.digest), the image configuration says \(diffID)")
            }
            try Self.convertWhiteouts(in: staging)
            // The directory a container's overlay uses is traversable; its parents are not.
            _ = chmod(staging, 0o755)
            if Syscall.exists(target) && !isVerifiedSnapshot(diffID) {
                // Unpacked by an earlier version that did not verify diff IDs: replaced. It is
                // moved aside, not deleted, since running containers may still use it as a
                // lower layer (a rename keeps their mounts intact); `layers/unverified` is left
                // for the administrator to remove.
                let aside = "\(root)/layers/unverified"
                try FileManager.default.createDirectory(atPath: aside, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try Syscall.call("rename", target) { rename(target, "\(aside)/\(diffID.hex).\(UUID().uuidString.lowercased())") }
            }
            let (r, e) = Syscall.attempt { rename(staging, target) }
            if r != 0 {
                // Someone else finished the same layer first: theirs is as good as ours.
                guard e == ENOTEMPTY || e == EEXIST, Syscall.exists(target) else {
                    throw Syscall.error("rename", staging, errno: e)
                }
                try? FileManager.default.removeItem(atPath: staging)
            }
            try markVerified(diffID)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    /// The marker saying the snapshot of `diffID` was unpacked from a stream with that digest.
    func verifiedMarkerPath(_ diffID: ContentDigest) -> String { "\(root)/layers/verified/\(diffID.hex)" }

    /// Whether the snapshot of `diffID` exists and its diff ID was verified when it was unpacked.
    func isVerifiedSnapshot(_ diffID: ContentDigest) -> Bool {
        Syscall.exists(snapshotPath(diffID)) && Syscall.exists(verifiedMarkerPath(diffID))
    }

    private func markVerified(_ diffID: ContentDigest) throws {
        let path = verifiedMarkerPath(diffID)
        let fd = try Syscall.call("open", path) { open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600) }
        close(fd)
    }

    /// Throws when disk use of the store's file system is at or above `diskHighThresholdPercent`:
    /// unpacking and importing stop there rather than fill the disk.
    @Sendable func diskGuard() throws {
        let threshold = diskHighThresholdPercent
        guard threshold < 100 else { return }
        let usage = try ImageGarbageCollector.fileSystemUsage(of: root)
        guard usage.capacity > 0, usage.used * 100 >= usage.capacity * Int64(threshold) else { return }
        throw OrcaError(.insufficientStorage,
                        "disk use of \(root) reached \(usage.used * 100 / usage.capacity)%, at or above the image GC high threshold of \(threshold)%: stopped unpacking")
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
                let hiddenName = String(name.dropFirst(whiteoutPrefix.count))
                guard isSafeWhiteoutTarget(hiddenName) else {
                    throw OrcaError(.invalid, "layer has a whiteout \"\(name)\" that names no entry of its directory")
                }
                let hidden = "\(dir)/\(hiddenName)"
                try Syscall.call("unlink", path) { unlink(path) }
                if Syscall.exists(hidden) { try FileManager.default.removeItem(atPath: hidden) }
                try Syscall.call("mknod", hidden) { mknod(hidden, S_IFCHR | 0o000, 0) }
            } else if let st = Syscall.lstat(path), (st.st_mode & S_IFMT) == S_IFDIR {
                try convertWhiteouts(in: path)
            }
        }
    }

    /// Whether the name a whiteout hides is an entry of the whiteout's own directory: not empty,
    /// `.` or `..`, and with no `/` or `..` in it (`.wh..`, `.wh...` and the like are refused).
    public static func isSafeWhiteoutTarget(_ name: String) -> Bool {
        !name.isEmpty && name != "." && !name.contains("/") && !name.contains("..") && !name.contains("\0")
    }
}
