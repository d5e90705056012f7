import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files and directories that hold state other local users must not read (keys, tokens,
/// kubeconfigs, the store, pod data), written so that they are never readable by others, not
/// even for a moment, and never half-written after a crash.
public enum PrivateFiles {
    /// Writes `data` to `path` atomically with `mode`: a fresh temporary file in the same
    /// directory (`O_EXCL`, created with `mode`, so no other user can open it in between), its
    /// content fsynced, renamed into place, and the directory fsynced.
    public static func write(_ data: some DataProtocol, to path: String, mode: mode_t = 0o600) throws {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let name = path.split(separator: "/").last.map(String.init) ?? path
        var random = SystemRandomNumberGenerator()
        let tmp = "\(directory.isEmpty ? "." : directory)/.\(name).\(String(random.next() as UInt64, radix: 36)).tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw failure("open", tmp) }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { close(fd) }
            _ = fchmod(fd, mode)  // the umask may have taken bits away; never adds any to others
            let bytes = Array(data)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure("write", tmp)
                }
                offset += n
            }
            guard fsync(fd) == 0 else { throw failure("fsync", tmp) }
        }
        guard rename(tmp, path) == 0 else { throw failure("rename", path) }
        ok = true
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Creates `path` (and missing parents) if needed and sets its mode to `mode`, also when it
    /// existed with a looser one (e.g. made by an earlier version).
    public static func directory(_ path: String, mode: mode_t = 0o700) throws {
        if mkdir(path, mode) != 0 {
            if errno == ENOENT {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } else if errno != EEXIST {
                throw failure("mkdir", path)
            }
        }
        guard chmod(path, mode) == 0 else { throw failure("chmod", path) }
    }

    /// fsyncs a directory, so a rename in it survives a crash.
    public static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func failure(_ call: String, _ path: String) -> OrcaError {
        OrcaError(.system, "\(call) \(path): \(String(cString: strerror(errno)))")
    }
}
