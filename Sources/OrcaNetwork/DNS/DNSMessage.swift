import OrcaCore

/// A DNS message (RFC 1035 §4): header, question, answer, authority and additional sections,
/// with the EDNS0 OPT record (RFC 6891) kept apart as `edns`.
///
/// `init(bytes:)` parses wire format (compression pointers followed, loops and every
/// out-of-bounds read rejected with `OrcaError(.dnsMalformed)`); `serialized()` writes it with
/// name compression, and `serialized(maxSize:)` cuts it to fit a UDP client, setting TC (for a
/// message that is not `isFullyDecoded`, `truncatedToQuestion(maxSize:)` instead).
public struct DNSMessage: Hashable, Sendable {
    /// The id and flags; the rcode holds all 12 bits (the OPT record carries the high 8).
    public var header: DNSHeader
    /// The question section (one entry in practice).
    public var questions: [DNSQuestion]
    /// The answer section.
    public var answers: [DNSResourceRecord]
    /// The authority section (the SOA of negative answers).
    public var authorities: [DNSResourceRecord]
    /// The additional section, without the OPT record.
    public var additionals: [DNSResourceRecord]
    /// The OPT record, when the message has one.
    public var edns: EDNS?

    /// The largest UDP response to a client without EDNS0 (RFC 1035).
    public static let classicUDPSize = 512

    /// Creates a message.
    public init(header: DNSHeader = DNSHeader(), questions: [DNSQuestion] = [], answers: [DNSResourceRecord] = [],
                authorities: [DNSResourceRecord] = [], additionals: [DNSResourceRecord] = [], edns: EDNS? = nil) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    /// A query for `name` and `type` with recursion desired, as a stub resolver sends it.
    public static func query(id: UInt16, name: DNSName, type: DNSRecordType, edns: EDNS? = nil) -> DNSMessage {
        DNSMessage(header: DNSHeader(id: id, recursionDesired: true), questions: [DNSQuestion(name: name, type: type)], edns: edns)
    }

    /// Parses a message. Bytes after the last section are ignored. Throws
    /// `OrcaError(.dnsMalformed)` for anything that is not a well-formed message, including an
    /// OPT record outside the additional section or more than one.
    public init(bytes: [UInt8]) throws {
        var reader = DNSWireReader(bytes)
        let id = try reader.readUInt16()
        let flags = try reader.readUInt16()
        let counts = [try reader.readUInt16(), try reader.readUInt16(), try reader.readUInt16(), try reader.readUInt16()].map(Int.init)
        self.init(header: DNSHeader(id: id, flags: flags))
        for _ in 0..<counts[0] {
            questions.append(try reader.readQuestion())
        }
        for section in 1...3 {
            for _ in 0..<counts[section] {
                switch try reader.readRecord() {
                case .record(let record):
                    switch section {
                    case 1: answers.append(record)
                    case 2: authorities.append(record)
                    default: additionals.append(record)
                    }
                case .opt(let opt, let extendedRcode):
                    guard section == 3 else { throw OrcaError(.dnsMalformed, "DNS OPT record outside the additional section") }
                    guard edns == nil else { throw OrcaError(.dnsMalformed, "DNS message with more than one OPT record") }
                    edns = opt
                    header.rcode = DNSResponseCode(rawValue: UInt16(extendedRcode) << 4 | header.rcode.rawValue & 0x0F)
                }
            }
        }
    }

    /// Parses a message from any bytes (a `ByteBuffer`'s readable view, a slice).
    public init(bytes: some Collection<UInt8>) throws {
        try self.init(bytes: Array(bytes))
    }

    /// The wire form, names compressed.
    public func serialized() -> [UInt8] {
        encode(answerCount: answers.count, authorities: authorities, additionals: additionals, truncated: header.isTruncated)
    }

    /// The wire form cut to at most `maxSize` bytes for a UDP client (RFC 2181 §9): first the
    /// additional records go (TC stays clear), then the authority section and trailing answers
    /// (TC set). The question and the OPT record always stay. Only for messages that are
    /// `isFullyDecoded`: raw records are written as they are, pointers and all.
    public func serialized(maxSize: Int) -> [UInt8] {
        let full = serialized()
        guard full.count > maxSize else { return full }
        let withoutAdditional = encode(answerCount: answers.count, authorities: authorities, additionals: [], truncated: header.isTruncated)
        guard withoutAdditional.count > maxSize else { return withoutAdditional }
        // The largest answer prefix that fits: `fits` holds a count that fits, `tooMany` one that does not.
        var fits = 0
        var tooMany = answers.count
        var best = encode(answerCount: 0, authorities: [], additionals: [], truncated: true)
        while tooMany - fits > 1 {
            let middle = (fits + tooMany) / 2
            let candidate = encode(answerCount: middle, authorities: [], additionals: [], truncated: true)
            if candidate.count <= maxSize {
                fits = middle
                best = candidate
            } else {
                tooMany = middle
            }
        }
        return best
    }

    /// Whether no record's data is kept `.raw`. Raw data may hold compression pointers into the
    /// message it was read from, so only a fully decoded message may be cut
    /// (`serialized(maxSize:)`) or have its records copied into another message.
    public var isFullyDecoded: Bool {
        !(answers.contains { $0.data.isRaw } || authorities.contains { $0.data.isRaw } || additionals.contains { $0.data.isRaw })
    }

    /// The header with TC set, the question and the OPT record, no records: what a UDP client
    /// gets for an answer that does not fit and cannot be cut (it asks again over TCP). The OPT
    /// record's options are dropped when they would not fit `maxSize` either.
    public func truncatedToQuestion(maxSize: Int) -> [UInt8] {
        var header = header
        header.isTruncated = true
        var message = DNSMessage(header: header, questions: questions, edns: edns)
        let bytes = message.serialized()
        guard bytes.count > maxSize, message.edns?.options.isEmpty == false else { return bytes }
        message.edns?.options = []
        return message.serialized()
    }

    /// The largest UDP response the sender of this query accepts: its EDNS0 payload size (at
    /// least 512, at most our own 1232), else 512.
    public var maxUDPResponseSize: Int {
        guard let edns else { return Self.classicUDPSize }
        return max(Self.classicUDPSize, min(Int(edns.udpPayloadSize), Int(EDNS.defaultUDPPayloadSize)))
    }

    /// A response skeleton for `query`: its id, opcode, RD and CD and question, QR and RA set,
    /// and an OPT record with our payload size (and the query's DO bit) when the query had one.
    public static func response(to query: DNSMessage, rcode: DNSResponseCode = .noError, authoritative: Bool = false) -> DNSMessage {
        let header = DNSHeader(id: query.header.id, isResponse: true, opcode: query.header.opcode, isAuthoritative: authoritative,
                               recursionDesired: query.header.recursionDesired, recursionAvailable: true,
                               checkingDisabled: query.header.checkingDisabled, rcode: rcode)
        let edns = query.edns.map { EDNS(dnssecOK: $0.dnssecOK) }
        return DNSMessage(header: header, questions: query.questions, edns: edns)
    }

    private func encode(answerCount: Int, authorities: [DNSResourceRecord], additionals: [DNSResourceRecord], truncated: Bool) -> [UInt8] {
        let questions = questions.prefix(Int(UInt16.max))
        let answers = answers.prefix(min(answerCount, Int(UInt16.max)))
        let authorities = authorities.prefix(Int(UInt16.max))
        let additionals = additionals.prefix(Int(UInt16.max) - (edns == nil ? 0 : 1))
        var header = header
        header.isTruncated = truncated
        var writer = DNSWireWriter()
        writer.write(header.id)
        writer.write(header.flags)
        writer.write(UInt16(questions.count))
        writer.write(UInt16(answers.count))
        writer.write(UInt16(authorities.count))
        writer.write(UInt16(additionals.count + (edns == nil ? 0 : 1)))
        for question in questions { writer.write(question) }
        for record in answers { writer.write(record) }
        for record in authorities { writer.write(record) }
        for record in additionals { writer.write(record) }
        if let edns {
            writer.write(edns, extendedRcode: UInt8(truncatingIfNeeded: header.rcode.rawValue >> 4))
        }
        return writer.bytes
    }
}
