import OrcaCore

/// Reads RFC 1035 wire format from a whole message, bounds-checking every byte: malformed input
/// throws `OrcaError(.dnsMalformed)`, never traps.
struct DNSWireReader {
    /// The whole message (compression pointers may point anywhere before the current name).
    let bytes: [UInt8]
    /// The next byte to read.
    private(set) var offset = 0
    /// Sequential reads stop here (the end of the current RDATA, else the message's end).
    var limit: Int

    /// Compression pointers a single name may follow; the backwards-only rule already prevents
    /// loops, this bounds the work.
    static let maxPointers = 64

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.limit = bytes.count
    }

    /// Bytes left before `limit`.
    var remaining: Int { limit - offset }

    mutating func readUInt8() throws -> UInt8 {
        guard offset < limit else { throw Self.truncated() }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws -> UInt16 {
        guard limit - offset >= 2 else { throw Self.truncated() }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32() throws -> UInt32 {
        guard limit - offset >= 4 else { throw Self.truncated() }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func readBytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, limit - offset >= count else { throw Self.truncated() }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A possibly compressed name. A pointer must point before the start of the labels that
    /// led to it, so pointers only ever go backwards and cannot loop.
    mutating func readName() throws -> DNSName {
        var labels: [[UInt8]] = []
        var position = offset
        var segmentStart = offset
        var end = limit
        var jumped = false
        var pointers = 0
        var wireLength = 1
        while true {
            guard position < end else { throw Self.truncated() }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    if !jumped { offset = position + 1 }
                    return DNSName(validated: labels)
                }
                let count = Int(length)
                guard end - position - 1 >= count else { throw Self.truncated() }
                wireLength += count + 1
                guard wireLength <= DNSName.maxWireLength else {
                    throw OrcaError(.dnsMalformed, "DNS name longer than \(DNSName.maxWireLength) bytes")
                }
                labels.append(Array(bytes[position + 1...position + count]))
                position += count + 1
            case 0xC0:
                guard end - position >= 2 else { throw Self.truncated() }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < segmentStart else { throw OrcaError(.dnsMalformed, "DNS compression pointer does not point backwards") }
                pointers += 1
                guard pointers <= Self.maxPointers else { throw OrcaError(.dnsMalformed, "DNS name has too many compression pointers") }
                if !jumped {
                    offset = position + 2
                    jumped = true
                    end = bytes.count
                }
                position = target
                segmentStart = target
            default:
                throw OrcaError(.dnsMalformed, "DNS label type \(length >> 6) is not supported")
            }
        }
    }

    mutating func readQuestion() throws -> DNSQuestion {
        let name = try readName()
        let type = DNSRecordType(rawValue: try readUInt16())
        let `class` = DNSClass(rawValue: try readUInt16())
        return DNSQuestion(name: name, type: type, class: `class`)
    }

    /// A record of any section, or the OPT pseudo-record.
    enum Record {
        case record(DNSResourceRecord)
        case opt(EDNS, extendedRcode: UInt8)
    }

    mutating func readRecord() throws -> Record {
        let name = try readName()
        let type = DNSRecordType(rawValue: try readUInt16())
        let classValue = try readUInt16()
        let ttl = try readUInt32()
        let length = Int(try readUInt16())
        guard remaining >= length else { throw Self.truncated() }
        let outerLimit = limit
        let dataEnd = offset + length
        limit = dataEnd
        defer { limit = outerLimit }

        if type == .opt {
            guard name.isRoot else { throw OrcaError(.dnsMalformed, "DNS OPT record not owned by the root") }
            let options = try readBytes(length)
            let edns = EDNS(udpPayloadSize: classValue, version: UInt8(truncatingIfNeeded: ttl >> 16),
                            dnssecOK: ttl & 0x8000 != 0, otherFlags: UInt16(truncatingIfNeeded: ttl) & 0x7FFF, options: options)
            return .opt(edns, extendedRcode: UInt8(truncatingIfNeeded: ttl >> 24))
        }

        let data: DNSRecordData
        switch type {
        case .a, .aaaa:
            guard length == (type == .a ? 4 : 16), let ip = IPAddress(bytes: try readBytes(length)) else {
                throw OrcaError(.dnsMalformed, "DNS \(type) record with \(length) bytes of data")
            }
            data = .address(ip)
        case .cname:
            data = .cname(try readName())
        case .ns:
            data = .ns(try readName())
        case .ptr:
            data = .ptr(try readName())
        case .mx:
            data = .mx(.init(preference: try readUInt16(), exchange: try readName()))
        case .mb:
            data = .mb(try readName())
        case .mg:
            data = .mg(try readName())
        case .mr:
            data = .mr(try readName())
        case .minfo:
            data = .minfo(.init(responsibleMailbox: try readName(), errorMailbox: try readName()))
        case .srv:
            data = .srv(.init(priority: try readUInt16(), weight: try readUInt16(), port: try readUInt16(), target: try readName()))
        case .soa:
            data = .soa(.init(primary: try readName(), mailbox: try readName(), serial: try readUInt32(),
                              refresh: try readUInt32(), retry: try readUInt32(), expire: try readUInt32(), minimum: try readUInt32()))
        case .txt:
            var strings: [[UInt8]] = []
            while remaining > 0 {
                strings.append(try readBytes(Int(try readUInt8())))
            }
            data = .txt(strings)
        default:
            data = .raw(type: type, data: try readBytes(length))
        }
        guard offset == dataEnd else { throw OrcaError(.dnsMalformed, "DNS \(type) record data is \(length) bytes, its fields \(offset - dataEnd + length)") }
        return .record(DNSResourceRecord(name: name, class: DNSClass(rawValue: classValue), ttl: ttl, data: data))
    }

    static func truncated() -> OrcaError {
        OrcaError(.dnsMalformed, "DNS message ends early")
    }
}
