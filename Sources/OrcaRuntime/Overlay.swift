import Foundation
import Glibc
import OrcaCore

/// A container's root file system as an overlay mount: the image layers read-only below, a
/// per-container upper and work directory above.
public struct Overlay: Hashable, Sendable {
    /// The image layer directories, bottom first (as in `Image.layers`).
    public var layers: [String]
    /// Where the container's changes go.
    public var upperDir: String
    /// overlayfs's scratch directory (same file system as `upperDir`).
    public var workDir: String

    public init(layers: [String], upperDir: String, workDir: String) {
        self.layers = layers
        self.upperDir = upperDir
        self.workDir = workDir
    }

    /// The mount data: `lowerdir=<top>:…:<bottom>,upperdir=…,workdir=…`.
    public var mountOptions: String {
        "lowerdir=\(layers.reversed().joined(separator: ":")),upperdir=\(upperDir),workdir=\(workDir)"
    }

    /// Creates the upper and work directories and mounts the overlay on `target` (which must exist).
    /// A target already holding an overlay is left as it is.
    public func mount(on target: String) throws {
        guard !layers.isEmpty else { throw OrcaError(.invalid, "an overlay needs at least one layer") }
        for dir in layers + [upperDir, workDir, target] where dir.contains(":") || dir.contains(",") {
            throw OrcaError(.invalid, "overlay path \"\(dir)\" contains ':' or ','")
        }
        let options = mountOptions
        // The kernel takes at most one page of mount data.
        guard options.utf8.count < 4096 else {
            throw OrcaError(.invalid, "overlay options for \(layers.count) layers exceed one page")
        }
        if MountTable.isMountPoint(target) { return }
        let fm = FileManager.default
        try fm.createDirectory(atPath: upperDir, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        try Syscall.call("mount overlay on", target) { Glibc.mount("overlay", target, "overlay", 0, options) }
    }

    /// Lazily unmounts whatever is mounted on `target` (`MNT_DETACH`); not mounted or missing is fine.
    public static func unmount(_ target: String) throws {
        for _ in 0..<16 {
            let (r, e) = Syscall.attempt { umount2(target, Int32(MNT_DETACH)) }
            if r != 0 {
                if e == EINVAL || e == ENOENT { return }
                throw Syscall.error("umount2", target, errno: e)
            }
        }
    }
}
