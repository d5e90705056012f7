#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import NIOCore

/// Notices when the host's resolver file changes and reads its name servers again, for
/// `ClusterDNSServer.update(upstreams:)`: the host's resolvers may change while the cluster DNS
/// runs (DHCP, a VPN, systemd-resolved rewriting its stub file).
///
/// Cheap enough to call every few seconds: one `stat(2)` per call (following a symlink, as
/// `/etc/resolv.conf` often is one); the file is read only when its inode, size or times changed.
public struct ResolvConfWatcher: Sendable {
    /// The file watched.
    public let path: String
    /// Addresses never returned as upstreams (the cluster DNS's own).
    public let excluding: [String]
    /// The file as last read; nil before the first read and after a failed one.
    private var lastRead: FileState?

    /// Watches `path`; the first `changedUpstreams()` reads it.
    public init(path: String = "/etc/resolv.conf", excluding: [String] = []) {
        self.path = path
        self.excluding = excluding
    }

    /// `ClusterDNSServer.upstreams(from:excluding:)` of the file when it changed since the last
    /// call that read it (the first call reads it); nil when it did not change, or when it cannot
    /// be read now (then the caller keeps its upstreams, and the next call tries again).
    public mutating func changedUpstreams() -> [SocketAddress]? {
        // Taken before reading: a change while reading shows as another change next time.
        guard let state = Self.fileState(path) else {
            lastRead = nil
            return nil
        }
        guard state != lastRead else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            lastRead = nil
            return nil
        }
        lastRead = state
        return ClusterDNSServer.upstreams(from: ResolvConf(parsing: text), excluding: excluding)
    }

    /// What `stat(2)` says about a file that changes when it is replaced or written.
    struct FileState: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: [Int64]
        var changed: [Int64]
    }

    /// The state of the file at `path` (a symlink followed); nil when there is none.
    static func fileState(_ path: String) -> FileState? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileState(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                         modified: [Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)],
                         changed: [Int64(info.st_ctim.tv_sec), Int64(info.st_ctim.tv_nsec)])
    }
}
