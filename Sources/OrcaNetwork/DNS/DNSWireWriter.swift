/// Writes RFC 1035 wire format, compressing names against the names written before.
struct DNSWireWriter {
    private(set) var bytes: [UInt8] = []
    /// Offsets of name suffixes written so far, keyed by their lowercased wire form.
    private var suffixes: [[UInt8]: Int] = [:]

    init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: UInt8) { bytes.append(value) }

    mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func write(_ value: UInt32) {
        write(UInt16(truncatingIfNeeded: value >> 16))
        write(UInt16(truncatingIfNeeded: value))
    }

    mutating func write(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    /// Writes `name`; with `compress`, its longest suffix written before becomes a pointer (RFC
    /// 1035 §4.1.4) and its new suffixes are remembered. Without, it is written in full and not
    /// remembered (SRV targets, RFC 2782).
    mutating func write(_ name: DNSName, compress: Bool) {
        let labels = name.labels
        guard compress else {
            for label in labels {
                write(UInt8(label.count))
                write(label)
            }
            write(UInt8(0))
            return
        }
        let lowered = labels.map { $0.map(DNSName.lowercase) }
        for index in labels.indices {
            var key: [UInt8] = []
            for label in lowered[index...] {
                key.append(UInt8(label.count))
                key.append(contentsOf: label)
            }
            if let pointer = suffixes[key] {
                write(UInt16(0xC000) | UInt16(pointer))
                return
            }
            if bytes.count < 0x4000 { suffixes[key] = bytes.count }
            write(UInt8(labels[index].count))
            write(labels[index])
        }
        write(UInt8(0))
    }

    mutating func write(_ question: DNSQuestion) {
        write(question.name, compress: true)
        write(question.type.rawValue)
        write(question.class.rawValue)
    }

    mutating func write(_ record: DNSResourceRecord) {
        write(record.name, compress: true)
        write(record.type.rawValue)
        write(record.class.rawValue)
        write(record.ttl)
        let lengthAt = bytes.count
        write(UInt16(0))
        switch record.data {
        case .address(let ip): write(ip.bytes)
        // RFC 1035 types: their names may be compressed (RFC 3597 §4).
        case .cname(let name), .ns(let name), .ptr(let name), .mb(let name), .mg(let name), .mr(let name):
            write(name, compress: true)
        case .mx(let mx):
            write(mx.preference)
            write(mx.exchange, compress: true)
        case .minfo(let minfo):
            write(minfo.responsibleMailbox, compress: true)
            write(minfo.errorMailbox, compress: true)
        case .srv(let srv):
            write(srv.priority)
            write(srv.weight)
            write(srv.port)
            write(srv.target, compress: false)
        case .soa(let soa):
            write(soa.primary, compress: true)
            write(soa.mailbox, compress: true)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { write(value) }
        case .txt(let strings):
            for string in strings {
                let piece = string.prefix(255)
                write(UInt8(piece.count))
                write(Array(piece))
            }
        case .raw(_, let data): write(Array(data.prefix(Int(UInt16.max))))
        }
        patchLength(at: lengthAt)
    }

    /// The OPT pseudo-record carrying `edns` and the high 8 bits of the rcode.
    mutating func write(_ edns: EDNS, extendedRcode: UInt8) {
        write(UInt8(0))
        write(DNSRecordType.opt.rawValue)
        write(edns.udpPayloadSize)
        write(UInt32(extendedRcode) << 24 | UInt32(edns.version) << 16 | (edns.dnssecOK ? 0x8000 : 0) | UInt32(edns.otherFlags & 0x7FFF))
        let options = Array(edns.options.prefix(Int(UInt16.max)))
        write(UInt16(options.count))
        write(options)
    }

    /// Fills in the 2-byte RDLENGTH at `offset` with the bytes written after it.
    private mutating func patchLength(at offset: Int) {
        let length = UInt16(clamping: bytes.count - offset - 2)
        bytes[offset] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: length)
    }
}
