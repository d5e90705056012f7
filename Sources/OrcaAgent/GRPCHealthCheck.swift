import Foundation

/// A `grpc` probe: one `grpc.health.v1.Health/Check` call over cleartext HTTP/2 (prior
/// knowledge), written directly as frames on a socket: the connection preface and SETTINGS,
/// a HEADERS frame (HPACK literals, no Huffman coding), a DATA frame with the request, then
/// frames are read until the stream ends. Only the response message is decoded — its
/// `status` must be `SERVING` (1).
struct GRPCHealthCheck: Sendable {
    var host: String
    var port: Int
    /// `HealthCheckRequest.service` (empty: the server as a whole).
    var service: String

    func run(deadline: Date) async -> (success: Bool, message: String) {
        let check = self
        return await ProbeSocket.offload { check.runBlocking(deadline: deadline) }
    }

    func runBlocking(deadline: Date) -> (success: Bool, message: String) {
        let socket: ProbeSocket
        do { socket = try ProbeSocket(host: host, port: port, deadline: deadline) } catch {
            return (false, "timeout: failed to connect service \"\(host):\(port)\": \(error)")
        }
        do {
            var out = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
            out += Self.frame(type: 0x4, flags: 0, stream: 0, [])
            var block: [UInt8] = []
            for (name, value) in [(":method", "POST"), (":scheme", "http"), (":path", "/grpc.health.v1.Health/Check"),
                                  (":authority", "\(host):\(port)"), ("content-type", "application/grpc"), ("te", "trailers"),
                                  ("user-agent", "kube-probe/1.32")] {
                block.append(0x00)
                block += Self.string(name) + Self.string(value)
            }
            out += Self.frame(type: 0x1, flags: 0x4, stream: 1, block)
            var message: [UInt8] = []
            if !service.isEmpty { message = [0x0A] + Self.integer(service.utf8.count, prefixBits: 8) + Array(service.utf8) }
            let length = UInt32(message.count)
            let grpcMessage: [UInt8] = [0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + message
            out += Self.frame(type: 0x0, flags: 0x1, stream: 1, grpcMessage)
            try socket.write(out)

            var buffer: [UInt8] = []
            var data: [UInt8] = []
            var ended = false
            while !ended {
                guard let chunk = try socket.read() else { return (false, "timeout: health rpc did not complete within the probe's timeout") }
                if chunk.isEmpty { break }
                buffer += chunk
                while buffer.count >= 9 {
                    let len = Int(buffer[0]) << 16 | Int(buffer[1]) << 8 | Int(buffer[2])
                    guard buffer.count >= 9 + len else { break }
                    let type = buffer[3], flags = buffer[4]
                    let stream = (UInt32(buffer[5]) << 24 | UInt32(buffer[6]) << 16 | UInt32(buffer[7]) << 8 | UInt32(buffer[8])) & 0x7FFF_FFFF
                    var payload = Array(buffer[9..<(9 + len)])
                    buffer.removeFirst(9 + len)
                    switch type {
                    case 0x0 where stream == 1:
                        if flags & 0x8 != 0, let pad = payload.first { payload = Array(payload.dropFirst().dropLast(Int(pad))) }
                        data += payload
                        if flags & 0x1 != 0 { ended = true }
                    case 0x1 where stream == 1:
                        if flags & 0x1 != 0 { ended = true }
                    case 0x3 where stream == 1:
                        return (false, "rpc error: the server reset the health check stream")
                    case 0x4 where flags & 0x1 == 0:
                        try socket.write(Self.frame(type: 0x4, flags: 0x1, stream: 0, []))
                    case 0x6 where flags & 0x1 == 0:
                        try socket.write(Self.frame(type: 0x6, flags: 0x1, stream: 0, payload))
                    case 0x7:
                        return (false, "rpc error: the server closed the connection (GOAWAY)")
                    default:
                        break
                    }
                }
            }
            guard data.count >= 5 else {
                return (false, "rpc error: the health service answered without a response (unknown service \"\(service)\"?)")
            }
            let status = Self.statusField(Array(data.dropFirst(5)))
            if status == 1 { return (true, "") }
            let names = [0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"]
            return (false, "service unhealthy (responded with \"\(names[status] ?? String(status))\")")
        } catch {
            return (false, "rpc error: \(error)")
        }
    }

    static func frame(type: UInt8, flags: UInt8, stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags,
                UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    /// An HPACK string literal without Huffman coding.
    static func string(_ s: String) -> [UInt8] { integer(s.utf8.count, prefixBits: 7) + Array(s.utf8) }

    /// An HPACK integer (RFC 7541 5.1) with an `prefixBits`-bit prefix; with 8 bits, a protobuf-style
    /// single byte suffices for the short lengths used here.
    static func integer(_ value: Int, prefixBits: Int) -> [UInt8] {
        if prefixBits == 8 {
            var v = value, out: [UInt8] = []
            repeat { out.append(UInt8(v & 0x7F) | (v >= 0x80 ? 0x80 : 0)); v >>= 7 } while v > 0
            return out
        }
        let max = (1 << prefixBits) - 1
        if value < max { return [UInt8(value)] }
        var out = [UInt8(max)], v = value - max
        while v >= 128 { out.append(UInt8(v % 128 + 128)); v /= 128 }
        out.append(UInt8(v))
        return out
    }

    /// Field 1 (`status`, a varint) of a `HealthCheckResponse`; 0 when absent.
    static func statusField(_ bytes: [UInt8]) -> Int {
        var i = 0
        func varint() -> Int? {
            var result = 0, shift = 0
            while i < bytes.count {
                let b = bytes[i]; i += 1
                result |= Int(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
            return nil
        }
        while i < bytes.count, let key = varint() {
            let field = key >> 3, wire = key & 7
            switch wire {
            case 0:
                guard let v = varint() else { return 0 }
                if field == 1 { return v }
            case 2:
                guard let n = varint(), n >= 0, n <= bytes.count - i else { return 0 }
                i += n
            case 1: i = min(i + 8, bytes.count)
            case 5: i = min(i + 4, bytes.count)
            default: return 0
            }
        }
        return 0
    }
}
