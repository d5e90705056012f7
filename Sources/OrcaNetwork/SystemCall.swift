#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import OrcaCore

/// The few syscalls the network sandbox needs, retried on `EINTR`, with errno turned into `OrcaError`.
enum SystemCall {
    /// Runs `body` until it stops failing with `EINTR`; returns its result and the errno of a failure.
    @discardableResult
    static func retryingEINTR(_ body: () -> Int32) -> (result: Int32, errno: Int32) {
        while true {
            let r = body()
            if r == -1 {
                let e = errno
                if e == EINTR { continue }
                return (r, e)
            }
            return (r, 0)
        }
    }

    /// An `OrcaError` for a failed syscall.
    static func error(_ call: String, _ path: String, errno e: Int32) -> OrcaError {
        OrcaError(.system, "\(call) \(path): \(String(cString: strerror(e))) (errno \(e))")
    }

    /// Whether `path` is a mounted namespace file: it lives on nsfs, the device of `/proc/self/ns/net`.
    /// (Glibc's module map has no `statfs`, so the device stands in for `NSFS_MAGIC`.)
    static func isNamespaceMount(_ path: String) -> Bool {
        var file = stat()
        var ns = stat()
        guard retryingEINTR({ stat(path, &file) }).result == 0,
              retryingEINTR({ stat("/proc/self/ns/net", &ns) }).result == 0
        else { return false }
        return file.st_dev == ns.st_dev
    }

    /// Whether something (a file or directory) exists at `path`, without following a final symlink.
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return retryingEINTR { lstat(path, &st) }.result == 0
    }

    /// Detaches every mount stacked on `path` (`umount2(MNT_DETACH)` until it is no mount point).
    /// A missing path or a path that is not mounted is fine.
    static func unmountAll(_ path: String) throws {
        // A bound namespace file may be mounted more than once; bounded so a bug cannot spin.
        for _ in 0..<64 {
            let (r, e) = retryingEINTR { umount2(path, Int32(MNT_DETACH)) }
            if r == 0 { continue }
            if e == EINVAL || e == ENOENT { return }
            throw error("umount2", path, errno: e)
        }
        throw OrcaError(.system, "umount2 \(path): still mounted after 64 unmounts")
    }

    /// Removes the file at `path`; a missing file is fine.
    static func removeFile(_ path: String) throws {
        let (r, e) = retryingEINTR { unlink(path) }
        if r == 0 || e == ENOENT { return }
        throw error("unlink", path, errno: e)
    }

    /// Creates an empty file at `path` if none exists (mode 0444, as `ip netns` does).
    static func createEmptyFile(_ path: String) throws {
        let (fd, e) = retryingEINTR { open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o444) }
        guard fd >= 0 else { throw error("open", path, errno: e) }
        _ = close(fd)
    }

    /// Creates `path` and its missing parents (mode 0755).
    static func createDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            let (r, e) = retryingEINTR { mkdir(prefix, 0o755) }
            if r != 0 && e != EEXIST { throw error("mkdir", prefix, errno: e) }
        }
    }

    /// Writes `bytes` to `path` in place (truncating, keeping the inode so bind mounts of it see the
    /// new content); creates it with `mode` if missing.
    static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let (fd, e) = retryingEINTR { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw error("open", path, errno: e) }
        defer { _ = close(fd) }
        try writeAll(fd, bytes, path: path)
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and `EINTR`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var written = 0
        while written < bytes.count {
            var failure: Int32 = 0
            let n: Int = bytes.withUnsafeBytes { buf in
                while true {
                    let r = write(fd, buf.baseAddress! + written, buf.count - written)
                    if r < 0 && errno == EINTR { continue }
                    if r < 0 { failure = errno }
                    return r
                }
            }
            guard n >= 0 else { throw error("write", path, errno: failure) }
            written += n
        }
    }

    /// A read-only descriptor positioned at the start of a file holding `bytes` (`/dev/null` when
    /// empty). The file is unlinked at once, so it vanishes with the descriptor. The caller closes it.
    static func readableTemporaryFile(_ bytes: [UInt8]) throws -> Int32 {
        if bytes.isEmpty {
            let (fd, e) = retryingEINTR { open("/dev/null", O_RDONLY | O_CLOEXEC) }
            guard fd >= 0 else { throw error("open", "/dev/null", errno: e) }
            return fd
        }
        let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(dir)/orca-stdin-XXXXXX".utf8CString)
        let (fd, e) = template.withUnsafeMutableBufferPointer { buf in
            retryingEINTR { mkstemp(buf.baseAddress!) }
        }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard fd >= 0 else { throw error("mkostemp", path, errno: e) }
        _ = unlink(path)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        do {
            try writeAll(fd, bytes, path: path)
        } catch {
            _ = close(fd)
            throw error
        }
        guard lseek(fd, 0, SEEK_SET) == 0 else {
            let e = errno
            _ = close(fd)
            throw error("lseek", path, errno: e)
        }
        return fd
    }
}
