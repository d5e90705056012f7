/// SPDY/3.1 frames, as much as port-forwarding needs (the framing of moby/spdystream, which
/// kubectl speaks): SYN_STREAM, SYN_REPLY, RST_STREAM, PING, GOAWAY and DATA; the others are
/// read and ignored. There is no flow control (spdystream has none either).
enum SPDYFrame: Equatable {
    case synStream(streamID: UInt32, flags: UInt8, headerBlock: [UInt8])
    case synReply(streamID: UInt32, flags: UInt8, headerBlock: [UInt8])
    case rstStream(streamID: UInt32, status: UInt32)
    case ping(id: UInt32)
    case goAway(lastStreamID: UInt32, status: UInt32)
    case data(streamID: UInt32, flags: UInt8, payload: [UInt8])
    /// SETTINGS, WINDOW_UPDATE, HEADERS and anything newer.
    case other(type: UInt16)

    static let flagFin: UInt8 = 0x01
    static let version: UInt16 = 3

    /// The wire form.
    var bytes: [UInt8] {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        func control(_ type: UInt16, _ flags: UInt8, _ body: [UInt8]) -> [UInt8] {
            let length = UInt32(body.count)
            return [0x80 | UInt8(Self.version >> 8), UInt8(Self.version & 0xff), UInt8(type >> 8), UInt8(type & 0xff),
                    flags, UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + body
        }
        switch self {
        case .synStream(let id, let flags, let block): return control(1, flags, be32(id) + be32(0) + [0, 0] + block)
        case .synReply(let id, let flags, let block): return control(2, flags, be32(id) + block)
        case .rstStream(let id, let status): return control(3, 0, be32(id) + be32(status))
        case .ping(let id): return control(6, 0, be32(id))
        case .goAway(let last, let status): return control(7, 0, be32(last) + be32(status))
        case .other(let type): return control(type, 0, [])
        case .data(let id, let flags, let payload):
            let length = UInt32(payload.count)
            return be32(id & 0x7fff_ffff) + [flags, UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + payload
        }
    }

    /// Cuts complete frames off the front of a byte stream.
    struct Parser {
        enum Failure: Error { case unsupportedVersion(UInt16), malformed }

        private var buffer: [UInt8] = []

        mutating func append(_ bytes: [UInt8]) { buffer += bytes }

        /// The next complete frame, or nil until more bytes arrive.
        mutating func next() throws -> SPDYFrame? {
            guard buffer.count >= 8 else { return nil }
            let length = Int(buffer[5]) << 16 | Int(buffer[6]) << 8 | Int(buffer[7])
            guard buffer.count >= 8 + length else { return nil }
            let head = Array(buffer[0..<8])
            let body = Array(buffer[8..<(8 + length)])
            buffer.removeFirst(8 + length)
            func be32(_ at: Int) throws -> UInt32 {
                guard body.count >= at + 4 else { throw Failure.malformed }
                return UInt32(body[at]) << 24 | UInt32(body[at + 1]) << 16 | UInt32(body[at + 2]) << 8 | UInt32(body[at + 3])
            }
            let flags = head[4]
            guard head[0] & 0x80 != 0 else {
                let id = (UInt32(head[0]) << 24 | UInt32(head[1]) << 16 | UInt32(head[2]) << 8 | UInt32(head[3])) & 0x7fff_ffff
                return .data(streamID: id, flags: flags, payload: body)
            }
            let version = UInt16(head[0] & 0x7f) << 8 | UInt16(head[1])
            guard version == SPDYFrame.version else { throw Failure.unsupportedVersion(version) }
            let type = UInt16(head[2]) << 8 | UInt16(head[3])
            switch type {
            case 1:
                guard body.count >= 10 else { throw Failure.malformed }
                return .synStream(streamID: try be32(0) & 0x7fff_ffff, flags: flags, headerBlock: Array(body[10...]))
            case 2: return .synReply(streamID: try be32(0) & 0x7fff_ffff, flags: flags, headerBlock: Array(body.dropFirst(4)))
            case 3: return .rstStream(streamID: try be32(0) & 0x7fff_ffff, status: try be32(4))
            case 6: return .ping(id: try be32(0))
            case 7: return .goAway(lastStreamID: try be32(0) & 0x7fff_ffff, status: try be32(4))
            default: return .other(type: type)
            }
        }
    }
}

/// SPDY/3 header blocks: `count, (name length, name, value length, value)*` with 32-bit
/// big-endian lengths, compressed as one zlib stream per direction with SPDY's dictionary.
/// Incoming blocks are inflated; outgoing ones are written as stored (uncompressed) deflate
/// blocks ending in a sync flush, which every inflater reads and which need no dictionary.
struct SPDYHeaderCodec {
    private var inflater = Inflater(dictionary: SPDYHeaderCodec.dictionary)
    private var wroteHeader = false

    /// The names (lowercase) and values of a received header block.
    mutating func decode(_ block: [UInt8]) throws -> [String: String] {
        let raw = try inflater.inflate(block)
        var at = 0
        func u32() throws -> Int {
            guard at + 4 <= raw.count else { throw SPDYFrame.Parser.Failure.malformed }
            defer { at += 4 }
            return Int(raw[at]) << 24 | Int(raw[at + 1]) << 16 | Int(raw[at + 2]) << 8 | Int(raw[at + 3])
        }
        func string() throws -> String {
            let n = try u32()
            guard at + n <= raw.count else { throw SPDYFrame.Parser.Failure.malformed }
            defer { at += n }
            return String(decoding: raw[at..<(at + n)], as: UTF8.self)
        }
        var headers: [String: String] = [:]
        for _ in 0..<(try u32()) {
            let name = try string().lowercased()
            headers[name] = try string()
        }
        return headers
    }

    /// A header block for `headers`.
    mutating func encode(_ headers: [(String, String)]) -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        var raw = be32(headers.count)
        for (name, value) in headers {
            let lower = Array(name.lowercased().utf8)
            raw += be32(lower.count) + lower + be32(value.utf8.count) + Array(value.utf8)
        }
        var out: [UInt8] = []
        if !wroteHeader {
            out += [0x78, 0x01]   // deflate, 32 KiB window, no preset dictionary
            wroteHeader = true
        }
        var rest = raw[...]
        repeat {
            let chunk = rest.prefix(65535)
            rest = rest.dropFirst(chunk.count)
            let n = chunk.count
            out += [0x00, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8(~n >> 8 & 0xff)] + chunk
        } while !rest.isEmpty
        // A sync flush (an empty stored block): inflaters hand out what they have at this point.
        return out + [0x00, 0x00, 0x00, 0xff, 0xff]
    }

    /// SPDY/3's header compression dictionary (draft-mbelshe-httpbis-spdy-00 §2.6.10.1): the
    /// length-prefixed common header names and values, then a run of common text.
    static let dictionary: [UInt8] = {
        let words = [
            "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
            "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
            "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
            "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
            "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
            "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
            "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
            "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public",
            "set-cookie", "keep-alive", "origin",
        ]
        var d: [UInt8] = []
        for w in words {
            let n = w.utf8.count
            d += [UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + Array(w.utf8)
        }
        let text = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
            + "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
            + "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
            + "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
            + "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
            + "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
        return d + Array(text.utf8)
    }()
}
