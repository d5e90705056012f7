/// The outcome of a query (`RCODE`): 4 bits in the header, extended to 12 by EDNS0 (RFC 6891).
public struct DNSResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    /// Keeps the low 12 bits of `rawValue`.
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }

    /// No error.
    public static let noError = DNSResponseCode(rawValue: 0)
    /// The query could not be interpreted.
    public static let formatError = DNSResponseCode(rawValue: 1)
    /// The server could not answer (for example no upstream answered).
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    /// The name does not exist (NXDOMAIN).
    public static let nameError = DNSResponseCode(rawValue: 3)
    /// The kind of query is not supported.
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    /// The server refuses to answer.
    public static let refused = DNSResponseCode(rawValue: 5)
    /// The query's EDNS version is not supported (needs an OPT record to carry).
    public static let badVersion = DNSResponseCode(rawValue: 16)

    public var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formatError: "FORMERR"
        case .serverFailure: "SERVFAIL"
        case .nameError: "NXDOMAIN"
        case .notImplemented: "NOTIMP"
        case .refused: "REFUSED"
        case .badVersion: "BADVERS"
        default: "RCODE\(rawValue)"
        }
    }
}
