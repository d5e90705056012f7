#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as a number, as DNS carries it in `A` and `AAAA` records.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 address, most significant byte first (`10.43.0.1` is `0x0A2B_0001`).
    case v4(UInt32)
    /// An IPv6 address, most significant byte first.
    case v6(UInt128)

    /// Parses a dotted-quad IPv4 address (no leading zeros) or an IPv6 address in any RFC 4291
    /// text form (`::`, embedded IPv4). A zone (`%eth0`) or a prefix (`/24`) is not an address.
    public init?(_ text: String) {
        if let v4 = Self.parseIPv4(text.utf8) {
            self = .v4(v4)
        } else if text.contains(":"), let v6 = Self.parseIPv6(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// The address from its 4 (IPv4) or 16 (IPv6) network-order bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16: self = .v6(bytes.reduce(0) { $0 << 8 | UInt128($1) })
        default: return nil
        }
    }

    /// Whether this is an IPv4 address.
    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    /// The network-order bytes: 4 for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value): return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let value): return (0..<16).map { UInt8(truncatingIfNeeded: value >> (120 - 8 * $0)) }
        }
    }

    /// The canonical text form: dotted quad, or RFC 5952 IPv6 (`fd00::1`).
    public var description: String {
        switch self {
        case .v4(let value):
            return Self.dottedQuad(value, separator: ".")
        case .v6:
            var raw = bytes
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count)) != nil else { return "::" }
            return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
    }

    /// The address with `:` or `.` replaced by `-`, as in pod and endpoint DNS names (`10-42-0-5`,
    /// `fd00--5`).
    public var dashed: String {
        switch self {
        case .v4(let value): return Self.dottedQuad(value, separator: "-")
        case .v6: return description.replacing(":", with: "-")
        }
    }

    /// `a.b.c.d` with `separator` between the octets.
    private static func dottedQuad(_ value: UInt32, separator: Character) -> String {
        var text = ""
        text.reserveCapacity(15)
        for shift in [24, 16, 8, 0] {
            if shift != 24 { text.append(separator) }
            text += String(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
        return text
    }

    /// Parses the dashed form of `dashed`: `10-42-0-5` as IPv4, else `fd00--5` as IPv6.
    public init?(dashed text: String) {
        if let v4 = Self.parseIPv4(text.replacing("-", with: ".").utf8) {
            self = .v4(v4)
        } else if let v6 = Self.parseIPv6(text.replacing("-", with: ":")) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// Whether this address lies in the network `network`/`prefixLength` of the same family.
    public func isIn(network: IPAddress, prefixLength: Int) -> Bool {
        switch (self, network) {
        case (.v4(let a), .v4(let n)):
            guard prefixLength > 0 else { return true }
            let shift = 32 - min(prefixLength, 32)
            return a >> shift == n >> shift
        case (.v6(let a), .v6(let n)):
            guard prefixLength > 0 else { return true }
            let shift = 128 - min(prefixLength, 128)
            return a >> shift == n >> shift
        default:
            return false
        }
    }

    // MARK: Parsing

    /// `a.b.c.d`, each 0–255 in decimal without leading zeros.
    static func parseIPv4(_ text: some Collection<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        var leadingZero = false
        for byte in text {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if leadingZero { return nil }
                if digits == 0 && byte == UInt8(ascii: "0") { leadingZero = true }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard octet <= 255, digits <= 3 else { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
                leadingZero = false
            default:
                return nil
            }
        }
        guard digits > 0, dots == 3 else { return nil }
        return value << 8 | octet
    }

    /// Any RFC 4291 text form, through `inet_pton`.
    static func parseIPv6(_ text: String) -> UInt128? {
        guard !text.isEmpty, text.utf8.count < Int(INET6_ADDRSTRLEN) else { return nil }
        var raw = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
        return raw.reduce(0) { $0 << 8 | UInt128($1) }
    }
}
