/// The kind of a DNS message (header `OPCODE`, 4 bits).
public struct DNSOpcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    /// Keeps the low 4 bits of `rawValue`.
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    /// A standard query, the only kind the cluster DNS answers.
    public static let query = DNSOpcode(rawValue: 0)
    /// An inverse query (obsolete).
    public static let inverseQuery = DNSOpcode(rawValue: 1)
    /// A server status request.
    public static let status = DNSOpcode(rawValue: 2)
    /// A zone change notification (RFC 1996).
    public static let notify = DNSOpcode(rawValue: 4)
    /// A dynamic update (RFC 2136).
    public static let update = DNSOpcode(rawValue: 5)

    public var description: String {
        switch self {
        case .query: "QUERY"
        case .inverseQuery: "IQUERY"
        case .status: "STATUS"
        case .notify: "NOTIFY"
        case .update: "UPDATE"
        default: "OPCODE\(rawValue)"
        }
    }
}
