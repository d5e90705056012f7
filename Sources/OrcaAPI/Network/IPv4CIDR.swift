import Foundation

/// An IPv4 network in CIDR notation (`10.43.0.0/16`): parsing, membership and addresses by
/// offset. The one place IPv4 ranges are read for the service and cluster networks.
public struct IPv4CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address (host bits zero), as a big-endian number.
    public let network: UInt32
    /// The prefix length, 0…32.
    public let prefixLength: Int

    /// Parses `a.b.c.d/n`; host bits are cleared (`10.43.1.2/16` is `10.43.0.0/16`). Nil for
    /// anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = Self.parse(String(parts[0])),
              let length = Int(parts[1]), (0...32).contains(length), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        prefixLength = length
        network = address & Self.mask(length)
    }

    /// The mask of a prefix length.
    public static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length) }

    /// The number of a dotted-quad IPv4 address, or nil if `text` is not one (leading zeros
    /// are refused: resolvers read `010` as octal).
    public static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for o in octets {
            guard !o.isEmpty, o.count <= 3, o.allSatisfy({ $0.isASCII && $0.isNumber }), o.count == 1 || o.first != "0",
                  let n = UInt32(o), n <= 255 else { return nil }
            value = value << 8 | n
        }
        return value
    }

    /// The dotted quad of a number.
    public static func format(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    /// How many addresses the network has.
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    /// Whether `address` (dotted quad) lies in the network.
    public func contains(_ address: String) -> Bool {
        guard let value = Self.parse(address) else { return false }
        return value & Self.mask(prefixLength) == network
    }

    /// The address `offset` places after the network address (nil past the end).
    public func address(at offset: UInt64) -> String? {
        guard offset < size else { return nil }
        return Self.format(network + UInt32(offset))
    }

    /// `address`'s offset from the network address, or nil when it is outside.
    public func offset(of address: String) -> UInt64? {
        guard let value = Self.parse(address), value & Self.mask(prefixLength) == network else { return nil }
        return UInt64(value - network)
    }

    public var description: String { "\(Self.format(network))/\(prefixLength)" }
}
