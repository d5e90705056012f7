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
        if Self.isMountPoint(target) { return }
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

    /// Whether `path` is a mount point, from `/proc/self/mountinfo`.
    public static func isMountPoint(_ path: String) -> Bool {
        // A different device than the parent's is a mount point (overlay, tmpfs); bind mounts
        // of the same file system need the mount table.
        var st = stat()
        var parent = stat()
        if stat(path, &st) == 0, stat(path + "/..", &parent) == 0, st.st_dev != parent.st_dev { return true }
        // FileHandle reads to the end: String(contentsOfFile:) stops after the first 4 KiB of a procfs file.
        guard let data = FileHandle(forReadingAtPath: "/proc/self/mountinfo")?.readDataToEndOfFile() else { return false }
        let info = String(decoding: data, as: UTF8.self)
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return info.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ", maxSplits: 5)
            return fields.count > 4 && unescape(fields[4]) == resolved
        }
    }

    /// Decodes mountinfo's octal escapes (`\040` for a space, …).
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var out = [UInt8]()
        var bytes = Array(field.utf8)[...]
        while let c = bytes.popFirst() {
            if c == UInt8(ascii: "\\"), bytes.count >= 3, let v = UInt8(String(decoding: bytes.prefix(3), as: UTF8.self), radix: 8) {
                out.append(v)
                bytes = bytes.dropFirst(3)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
