import Foundation
import OrcaCore
import OrcaNetwork
#if canImport(Glibc)
import Glibc
#endif

/// A closed-loop UDP DNS load for `orca bench services`: `clients` connected sockets, each with
/// one `A` query outstanding at a time, all driven by one thread with poll(2) as dnsperf does —
/// so the client costs little CPU, and the same for every server it is pointed at.
///
/// Queries cycle through `names` (client `c` starts at the `c`-th part of the list) and are
/// encoded once with OrcaNetwork's `DNSMessage`; only the id is patched per send. An answer
/// counts when its id is the one outstanding on its socket, its rcode NOERROR and its answer
/// section holds the expected address; NOERROR with another address is `wrong`, any other
/// rcode or a socket error is an `error`, no answer within `timeout` a `timeout` (the client
/// then asks its next name). Answers arriving during `warmup` are not counted; after
/// `warmup + duration` the load stops by itself without waiting for queries in flight.
struct ServicesBenchmarkDNSLoad: Sendable {
    /// A name to ask for, and the address the answer must hold.
    struct Name: Sendable, Hashable {
        var name: String
        var address: String
    }

    /// What one run measured; printed as JSON by the `dns-load` child and read by the benchmark.
    struct Result: Codable, Sendable {
        var server: String
        var port: Int
        var clients: Int
        /// The measured window, seconds.
        var seconds: Double
        /// Correct answers received in the window.
        var answers: Int
        var queriesPerSecond: Double
        /// Latency of the correct answers, milliseconds (nearest rank).
        var p50: Double
        var p90: Double
        var p99: Double
        var p999: Double
        var max: Double
        var mean: Double
        var timeouts: Int
        var errors: Int
        var wrong: Int
        /// Names checked one by one before the load.
        var verified: Int
    }

    let server: String
    let port: UInt16
    let names: [Name]
    let clients: Int
    let duration: Duration
    let warmup: Duration
    let timeout: Duration

    /// One socket's query in flight.
    private struct Slot {
        var fd: Int32 = -1
        var id: UInt16 = 0
        var name = 0
        var sentAt: UInt64 = 0
        /// The next query still has to be sent (the last send failed, or none was sent yet).
        var mustSend = true
        /// Where this client is in the name list.
        var cursor = 0
    }

    /// Parses the `name address` lines of a names file (blank lines and `#` comments skipped).
    static func parseNames(_ text: String) throws -> [Name] {
        var out: [Name] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            guard fields.count == 2, IPAddress(String(fields[1])) != nil else {
                throw OrcaError(.invalid, "names file line is not `name address`: \(line)")
            }
            out.append(Name(name: String(fields[0]), address: String(fields[1])))
        }
        return out
    }

    /// Asks for the first `count` names one at a time and checks each answer; the first gets up to
    /// `patience` (the server may still be starting), the others 2 s. Returns how many were checked.
    func verify(count: Int, patience: Duration) throws -> Int {
        let fd = try Self.connectedSocket(server, port)
        defer { close(fd) }
        var checked = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        for (i, name) in names.prefix(count).enumerated() {
            let query = try DNSMessage.query(id: UInt16(truncatingIfNeeded: 0x5000 + i), name: DNSName(name.name), type: .a).serialized()
            let deadline = Self.now() + Self.nanoseconds(i == 0 ? patience : .seconds(2))
            var answer: DNSMessage?
            while answer == nil, Self.now() < deadline {
                _ = query.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, 200) > 0 {
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n >= DNSHeader.byteCount, let message = try? DNSMessage(bytes: buffer[0..<n]), message.header.id == UInt16(truncatingIfNeeded: 0x5000 + i) {
                        answer = message
                    } else if n < 0 {
                        usleep(200_000)  // ECONNREFUSED: nothing listens yet
                    }
                }
            }
            guard let answer else {
                throw OrcaError(.timeout, "no answer from \(server):\(port) for \(name.name)")
            }
            let addresses = answer.answers.compactMap { record -> String? in
                if case .address(let ip) = record.data { return ip.description }
                return nil
            }
            guard answer.header.rcode == .noError, addresses.contains(name.address) else {
                throw OrcaError(.internalError, "\(server):\(port) answered \(answer.header.rcode) \(addresses) for \(name.name), expected \(name.address)")
            }
            checked += 1
        }
        return checked
    }

    /// Runs the load; throws only when a socket cannot be made.
    func run() throws -> Result {
        precondition(!names.isEmpty && clients > 0)
        var queries: [[UInt8]] = []
        queries.reserveCapacity(names.count)
        for name in names { queries.append(try DNSMessage.query(id: 0, name: DNSName(name.name), type: .a).serialized()) }
        let expected = names.map { IPAddress($0.address) }

        var slots: [Slot] = []
        var fds: [pollfd] = []
        defer { for slot in slots { close(slot.fd) } }
        for c in 0..<clients {
            var slot = Slot()
            slot.fd = try Self.connectedSocket(server, port)
            slot.cursor = c * names.count / clients
            slot.id = UInt16.random(in: 0...UInt16.max)
            slots.append(slot)
            fds.append(pollfd(fd: slot.fd, events: Int16(POLLIN), revents: 0))
        }

        var latencies: [UInt64] = []
        latencies.reserveCapacity(1 << 20)
        var timeouts = 0, errors = 0, wrong = 0
        let timeoutNanos = Self.nanoseconds(timeout)
        let start = Self.now()
        let measureFrom = start + Self.nanoseconds(warmup)
        let end = measureFrom + Self.nanoseconds(duration)
        var buffer = [UInt8](repeating: 0, count: 4096)

        func send(_ c: Int, at now: UInt64) {
            slots[c].id &+= 1
            slots[c].name = slots[c].cursor
            slots[c].cursor = (slots[c].cursor + 1) % names.count
            let id = slots[c].id, fd = slots[c].fd
            queries[slots[c].name][0] = UInt8(id >> 8)
            queries[slots[c].name][1] = UInt8(id & 0xFF)
            let sent = queries[slots[c].name].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            slots[c].sentAt = now
            slots[c].mustSend = sent < 0
            if sent < 0, now >= measureFrom { errors += 1 }
        }

        while true {
            var now = Self.now()
            if now >= end { break }
            for c in slots.indices {
                if slots[c].mustSend {
                    send(c, at: now)
                } else if now - slots[c].sentAt > timeoutNanos {
                    if now >= measureFrom { timeouts += 1 }
                    send(c, at: now)
                }
            }
            let waiting = slots.contains(where: \.mustSend)
            guard poll(&fds, nfds_t(fds.count), waiting ? 1 : 10) > 0 else { continue }
            for c in fds.indices where fds[c].revents != 0 {
                fds[c].revents = 0
                while true {
                    let n = buffer.withUnsafeMutableBytes { recv(slots[c].fd, $0.baseAddress, $0.count, 0) }
                    now = Self.now()
                    if n < 0 {
                        if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                            // ICMP port unreachable and the like: the query is lost; ask again.
                            if now >= measureFrom { errors += 1 }
                            if now < end { send(c, at: now) }
                        }
                        break
                    }
                    guard n >= DNSHeader.byteCount, UInt16(buffer[0]) << 8 | UInt16(buffer[1]) == slots[c].id, !slots[c].mustSend else {
                        continue  // a late answer to a query that timed out
                    }
                    let counted = now >= measureFrom && now < end
                    if let message = try? DNSMessage(bytes: buffer[0..<n]), message.header.isResponse, message.header.rcode == .noError {
                        let want = expected[slots[c].name]
                        let matches = message.answers.contains { record in
                            if case .address(let ip) = record.data { return want == nil || ip == want }
                            return false
                        }
                        if matches {
                            if counted { latencies.append(now - slots[c].sentAt) }
                        } else if counted {
                            wrong += 1
                        }
                    } else if counted {
                        errors += 1
                    }
                    if now < end { send(c, at: now) } else { slots[c].mustSend = true }
                }
            }
        }

        latencies.sort()
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let rank = Int((p / 100 * Double(latencies.count)).rounded(.up))
            return Double(latencies[Swift.min(Swift.max(rank - 1, 0), latencies.count - 1)]) / 1e6
        }
        let window = Double(end - measureFrom) / 1e9
        let mean = latencies.isEmpty ? 0 : Double(latencies.reduce(0, +)) / Double(latencies.count) / 1e6
        return Result(server: server, port: Int(port), clients: clients, seconds: window, answers: latencies.count,
                      queriesPerSecond: Double(latencies.count) / window,
                      p50: percentile(50), p90: percentile(90), p99: percentile(99), p999: percentile(99.9),
                      max: Double(latencies.last ?? 0) / 1e6, mean: mean, timeouts: timeouts, errors: errors, wrong: wrong, verified: 0)
    }

    // MARK: sockets and time

    /// A non-blocking UDP socket connected to `host:port` (so only its answers arrive on it, and
    /// an ICMP port unreachable shows as an error).
    static func connectedSocket(_ host: String, _ port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OrcaError(.system, "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw OrcaError(.invalid, "\(host) is not an IPv4 address")
        }
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw OrcaError(.system, "connect to \(host):\(port): \(message)")
        }
        return fd
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func nanoseconds(_ d: Duration) -> UInt64 {
        let (seconds, attoseconds) = d.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
