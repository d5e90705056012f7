/// The EDNS0 OPT pseudo-record of a message (RFC 6891), kept apart from the additional section.
///
/// Its options (cookies, client subnet …) pass through as raw bytes.
public struct EDNS: Hashable, Sendable {
    /// The largest UDP payload the sender can receive (the OPT record's class field).
    public var udpPayloadSize: UInt16
    /// The EDNS version; only 0 exists.
    public var version: UInt8
    /// DO: the sender wants DNSSEC records.
    public var dnssecOK: Bool
    /// The remaining 15 flag bits, kept as received.
    public var otherFlags: UInt16
    /// The option TLVs (code, length, data) as raw wire bytes.
    public var options: [UInt8]

    /// The UDP payload size the cluster DNS advertises and allows itself: 1232 bytes, the DNS
    /// Flag Day 2020 value that avoids IP fragmentation.
    public static let defaultUDPPayloadSize: UInt16 = 1232

    /// Creates an OPT record.
    public init(udpPayloadSize: UInt16 = EDNS.defaultUDPPayloadSize, version: UInt8 = 0, dnssecOK: Bool = false,
                otherFlags: UInt16 = 0, options: [UInt8] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.version = version
        self.dnssecOK = dnssecOK
        self.otherFlags = otherFlags & 0x7FFF
        self.options = options
    }
}
