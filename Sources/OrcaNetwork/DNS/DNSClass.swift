/// A resource record class (RFC 1035 `CLASS`/`QCLASS`); any 16-bit value passes through.
public struct DNSClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The Internet.
    public static let internet = DNSClass(rawValue: 1)
    /// Chaos (`version.bind` and friends).
    public static let chaos = DNSClass(rawValue: 3)
    /// Any class (query class only).
    public static let any = DNSClass(rawValue: 255)

    public var description: String {
        switch self {
        case .internet: "IN"
        case .chaos: "CH"
        case .any: "ANY"
        default: "CLASS\(rawValue)"
        }
    }
}
