import OrcaCore

/// The fixed part of a DNS message (RFC 1035 §4.1.1) without the section counts, which
/// `DNSMessage` derives from its sections.
public struct DNSHeader: Hashable, Sendable {
    /// Copied from query to response so the client can match them.
    public var id: UInt16
    /// QR: this is a response.
    public var isResponse: Bool
    /// The kind of message.
    public var opcode: DNSOpcode
    /// AA: the answer comes from a server authoritative for the name.
    public var isAuthoritative: Bool
    /// TC: the message was cut to fit the transport; ask again over TCP.
    public var isTruncated: Bool
    /// RD: the client wants recursion.
    public var recursionDesired: Bool
    /// RA: the server offers recursion.
    public var recursionAvailable: Bool
    /// AD: the data was authenticated (DNSSEC, RFC 4035).
    public var authenticData: Bool
    /// CD: the client disabled checking (DNSSEC, RFC 4035).
    public var checkingDisabled: Bool
    /// The response code: the header's 4 bits, extended by the OPT record when there is one.
    public var rcode: DNSResponseCode

    /// The size of the header on the wire.
    public static let byteCount = 12

    /// Creates a header; every flag off by default.
    public init(id: UInt16 = 0, isResponse: Bool = false, opcode: DNSOpcode = .query, isAuthoritative: Bool = false,
                isTruncated: Bool = false, recursionDesired: Bool = false, recursionAvailable: Bool = false,
                authenticData: Bool = false, checkingDisabled: Bool = false, rcode: DNSResponseCode = .noError) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.isAuthoritative = isAuthoritative
        self.isTruncated = isTruncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
        self.rcode = rcode
    }

    /// Reads only the first 12 bytes of a message (the rcode gets its 4 header bits), so a
    /// server can answer FORMERR to a query whose body does not parse; throws when shorter.
    public init(bytes: some Collection<UInt8>) throws {
        guard bytes.count >= Self.byteCount else { throw OrcaError(.dnsMalformed, "DNS message shorter than its header") }
        let b = Array(bytes.prefix(4))
        self.init(id: UInt16(b[0]) << 8 | UInt16(b[1]), flags: UInt16(b[2]) << 8 | UInt16(b[3]))
    }

    /// A header from its id and 16-bit flags word.
    init(id: UInt16, flags: UInt16) {
        self.init(id: id,
                  isResponse: flags & 0x8000 != 0,
                  opcode: DNSOpcode(rawValue: UInt8(truncatingIfNeeded: flags >> 11)),
                  isAuthoritative: flags & 0x0400 != 0,
                  isTruncated: flags & 0x0200 != 0,
                  recursionDesired: flags & 0x0100 != 0,
                  recursionAvailable: flags & 0x0080 != 0,
                  authenticData: flags & 0x0020 != 0,
                  checkingDisabled: flags & 0x0010 != 0,
                  rcode: DNSResponseCode(rawValue: flags & 0x000F))
    }

    /// The 16-bit flags word, with the low 4 bits of the rcode.
    var flags: UInt16 {
        var flags = UInt16(opcode.rawValue & 0x0F) << 11 | (rcode.rawValue & 0x000F)
        if isResponse { flags |= 0x8000 }
        if isAuthoritative { flags |= 0x0400 }
        if isTruncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        return flags
    }
}
