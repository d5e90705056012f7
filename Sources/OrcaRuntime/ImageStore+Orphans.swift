import Foundation
import Glibc
import OrcaCore

extension ImageStore {
    /// Deletes content no named image references — blobs, layer snapshots, unpack staging
    /// directories and `tmp/` entries, e.g. left by a failed or interrupted pull — whose inode
    /// changed before `cutoff`, so that the work of a pull still in flight (its downloads,
    /// staging and freshly stored blobs) is never touched. Snapshots in `keepingLayers` (those
    /// containers use, even if no named image does any more) stay. Returns the removed paths,
    /// relative to `root`.
    ///
    /// A pull that reuses an old orphan (a blob or snapshot it finds present) while it is removed
    /// fails at `register` and is retried, then fetching the content anew.
    @discardableResult
    func removeOrphans(changedBefore cutoff: Date, keepingLayers: Set<String>) throws -> [String] {
        var liveBlobs = Set<String>()
        var liveSnapshots = Set<String>()
        for value in Set(try readRefs().values) {
            guard let digest = try? ContentDigest(value) else { continue }
            liveBlobs.insert(digest.hex)
            guard let manifest = try? decodeManifest(readBlob(digest)) else { continue }
            liveBlobs.insert(manifest.config.digest.hex)
            manifest.layers.forEach { liveBlobs.insert($0.digest.hex) }
            if let configuration = try? decodeConfiguration(readBlob(manifest.config.digest)) {
                configuration.rootfs.diffIDs.forEach { liveSnapshots.insert($0.hex) }
            }
        }
        var removed: [String] = []
        func sweep(_ directory: String, isOrphan: (String) -> Bool) {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(directory)")) ?? []
            for name in entries.sorted() where isOrphan(name) {
                let path = "\(root)/\(directory)/\(name)"
                guard let changed = Self.changeTime(path), changed < cutoff else { continue }
                if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append("\(directory)/\(name)") }
            }
        }
        sweep("blobs/sha256") { ContentDigest.isHex64(Substring($0)) && !liveBlobs.contains($0) }
        sweep("layers/sha256") { name in
            if name.hasPrefix(".tmp-") { return true }
            return ContentDigest.isHex64(Substring(name)) && !liveSnapshots.contains(name)
                && !keepingLayers.contains(snapshotPath(ContentDigest(hex: name)))
        }
        sweep("layers/verified") { name in
            ContentDigest.isHex64(Substring(name)) && !Syscall.exists(snapshotPath(ContentDigest(hex: name)))
        }
        sweep("tmp") { _ in true }
        return removed
    }

    /// The inode change time of `path` (set by writes, renames and attribute changes, which an
    /// unpacking tar's restored modification times do not hide), or nil when it is gone.
    static func changeTime(_ path: String) -> Date? {
        guard let st = Syscall.lstat(path) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(st.st_ctim.tv_sec) + TimeInterval(st.st_ctim.tv_nsec) / 1e9)
    }
}
