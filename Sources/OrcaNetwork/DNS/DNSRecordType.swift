/// A resource record type (RFC 1035 `TYPE`/`QTYPE`); any 16-bit value passes through.
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// An IPv4 address.
    public static let a = DNSRecordType(rawValue: 1)
    /// An authoritative name server.
    public static let ns = DNSRecordType(rawValue: 2)
    /// The canonical name of an alias.
    public static let cname = DNSRecordType(rawValue: 5)
    /// The start of a zone of authority.
    public static let soa = DNSRecordType(rawValue: 6)
    /// A mailbox domain name (RFC 1035, experimental).
    public static let mb = DNSRecordType(rawValue: 7)
    /// A mail group member (RFC 1035, experimental).
    public static let mg = DNSRecordType(rawValue: 8)
    /// A mail rename domain name (RFC 1035, experimental).
    public static let mr = DNSRecordType(rawValue: 9)
    /// A domain name pointer (reverse lookups).
    public static let ptr = DNSRecordType(rawValue: 12)
    /// Mailbox or mail list information (RFC 1035, experimental).
    public static let minfo = DNSRecordType(rawValue: 14)
    /// Mail exchange.
    public static let mx = DNSRecordType(rawValue: 15)
    /// Text strings.
    public static let txt = DNSRecordType(rawValue: 16)
    /// An IPv6 address (RFC 3596).
    public static let aaaa = DNSRecordType(rawValue: 28)
    /// A service location (RFC 2782).
    public static let srv = DNSRecordType(rawValue: 33)
    /// The EDNS0 pseudo-record (RFC 6891).
    public static let opt = DNSRecordType(rawValue: 41)
    /// A zone transfer request (query type only).
    public static let axfr = DNSRecordType(rawValue: 252)
    /// Every type (query type only).
    public static let any = DNSRecordType(rawValue: 255)

    public var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .mb: "MB"
        case .mg: "MG"
        case .mr: "MR"
        case .ptr: "PTR"
        case .minfo: "MINFO"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        case .opt: "OPT"
        case .axfr: "AXFR"
        case .any: "ANY"
        default: "TYPE\(rawValue)"
        }
    }
}
