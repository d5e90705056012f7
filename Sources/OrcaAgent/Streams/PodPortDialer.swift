import Foundation
import Glibc
import OrcaClient
import OrcaCore
import OrcaRuntime

/// Opens TCP connections to pod addresses for port-forwarding, as byte streams.
struct PodPortDialer: Sendable {
    /// How long a connection attempt may take.
    var timeout: Duration = .seconds(10)

    /// A connection to `host:port` (IPv4).
    func connect(host: String, port: Int) async throws -> PodPortConnection {
        let millis = Int32(timeout.components.seconds * 1000)
        let fd: Int32 = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.connectBlocking(host: host, port: port, timeoutMillis: millis) })
            }
        }
        let readFD = dup(fd)
        let reader: FileDescriptorReader
        do { reader = try FileDescriptorReader(fd: readFD) } catch {
            close(readFD)
            close(fd)
            throw error
        }
        let writer = FileDescriptorWriter(fd: fd)
        return PodPortConnection(
            inbound: reader.unfolded(),
            write: { try await writer.write($0) },
            closeWrite: { await writer.closeWrite() },
            close: {
                reader.stop()
                await writer.close()
            })
    }

    /// socket, non-blocking connect with a deadline, then back to blocking.
    static func connectBlocking(host: String, port: Int, timeoutMillis: Int32) throws -> Int32 {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw OrcaError(.badRequest, "\(host) is not an IPv4 address") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw OrcaError(.system, "socket: \(String(cString: strerror(errno)))") }
        func fail(_ what: String, _ e: Int32) -> OrcaError {
            close(fd)
            return OrcaError(.system, "\(what): \(String(cString: strerror(e)))", cause: SystemCallError(call: what, errno: e))
        }
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if r != 0 {
            let e = errno
            guard e == EINPROGRESS || e == EINTR else { throw fail("connect", e) }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var ready: Int32
            repeat { ready = poll(&pfd, 1, timeoutMillis) } while ready < 0 && errno == EINTR
            if ready == 0 { throw fail("connect", ETIMEDOUT) }
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
            if soError != 0 { throw fail("connect", soError) }
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        return fd
    }
}
