import Foundation
import Glibc

/// Free TCP ports on 127.0.0.1, for processes a test or benchmark starts (registries, TLS servers).
public enum LoopbackPort {
    /// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
    public static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw OrcaError(.system, "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Int32 in
                guard bind(fd, sa, len) == 0 else { return -1 }
                return getsockname(fd, sa, &len)
            }
        }
        guard bound == 0 else { throw OrcaError(.system, "bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
