import Foundation
import Glibc

/// A blocking TCP connection with one overall deadline, for probes and hooks (TCP connects,
/// HTTP/1.1 GETs, gRPC health checks) to a pod's address. Errors read like the kubelet's
/// (Go's): `dial tcp 10.42.0.5:80: connect: connection refused`.
final class ProbeSocket {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let fd: Int32
    let deadline: Date
    let address: String

    /// Connects to `host:port` before `deadline`.
    init(host: String, port: Int, deadline: Date) throws {
        self.deadline = deadline
        self.address = "\(host):\(port)"
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        if inet_pton(AF_INET, host, &addr.sin_addr) != 1 {
            var hints = addrinfo()
            hints.ai_family = AF_INET
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var res: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res else {
                throw Failure(description: "dial tcp: lookup \(host): no such host")
            }
            defer { freeaddrinfo(first) }
            guard let sa = first.pointee.ai_addr else { throw Failure(description: "dial tcp: lookup \(host): no such host") }
            addr.sin_addr = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "dial tcp \(address): socket: \(String(cString: strerror(errno)))") }
        self.fd = fd
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            // Every property is set by now, so a throw deinitializes the socket: deinit closes
            // `fd` (closing it here too would close whatever descriptor reused the number).
            guard errno == EINPROGRESS else { throw Failure(description: "dial tcp \(address): connect: \(Self.errorText(errno))") }
            guard try wait(for: Int16(POLLOUT)) else { throw Failure(description: "dial tcp \(address): i/o timeout") }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 { throw Failure(description: "dial tcp \(address): connect: \(Self.errorText(err))") }
        }
    }

    deinit { close(fd) }

    /// Go's wording for the common errors.
    static func errorText(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case EHOSTUNREACH: return "no route to host"
        case ENETUNREACH: return "network is unreachable"
        default: return String(cString: strerror(code)).lowercased()
        }
    }

    /// Waits until the socket is ready for `events`; false when the deadline passes first.
    func wait(for events: Int16) throws -> Bool {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&pfd, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if n > 0 { return true }
            if n == 0 { return false }
            if errno != EINTR { throw Failure(description: "poll: \(String(cString: strerror(errno)))") }
        }
    }

    /// Writes all of `bytes` before the deadline.
    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0, errno == EAGAIN || errno == EINTR {
                guard try wait(for: Int16(POLLOUT)) else { throw Failure(description: "write tcp \(address): i/o timeout") }
                continue
            }
            throw Failure(description: "write tcp \(address): \(Self.errorText(errno))")
        }
    }

    /// Reads what is available (waiting up to the deadline); empty at end of stream, nil on timeout.
    func read(max: Int = 16384) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return Array(buffer[0..<n]) }
            if errno == EAGAIN || errno == EINTR {
                guard try wait(for: Int16(POLLIN)) else { return nil }
                continue
            }
            throw Failure(description: "read tcp \(address): \(Self.errorText(errno))")
        }
    }

    /// Runs blocking socket work off the cooperative pool.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }
}
