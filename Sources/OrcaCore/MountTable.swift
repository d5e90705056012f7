import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// This process's mount table (`/proc/self/mountinfo`): the one place that reads it.
///
/// It is read with `FileHandle.readDataToEndOfFile()`: `String(contentsOfFile:)` and
/// `Data(contentsOf:)` stop after the first 4 KiB of a procfs file, which hides later mounts.
public enum MountTable {
    /// Every mount point, in table order, with mountinfo's octal escapes decoded.
    public static func mountPoints() -> [String] {
        guard let data = FileHandle(forReadingAtPath: "/proc/self/mountinfo")?.readDataToEndOfFile() else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 5)
            return fields.count > 4 ? unescape(fields[4]) : nil
        }
    }

    /// Mount points at or below `directory`, deepest first (the order to unmount them in).
    public static func mountPoints(under directory: String) -> [String] {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return mountPoints().filter { $0.hasPrefix(prefix) || $0 == directory }.sorted { $0.count > $1.count }
    }

    /// Whether `path` is a mount point: a device different from its parent's (overlay,
    /// tmpfs), or an entry of the mount table (bind mounts of the same file system).
    public static func isMountPoint(_ path: String) -> Bool {
        var st = stat()
        var parent = stat()
        if stat(path, &st) == 0, stat(path + "/..", &parent) == 0, st.st_dev != parent.st_dev { return true }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return mountPoints().contains(resolved)
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
