/// One route to another node's pods, as flannel's host-gw backend (and kind) makes it:
/// `<podCIDR> via <InternalIP>`.
///
/// Only IPv4: Orca's pod network (10.42.0.0/16, a /24 per node) is IPv4. The destination is kept
/// canonical (host bits cleared, always with a prefix length), so it compares equal to what
/// `ip -j route show` prints.
public struct NodeRoute: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The other node's pod CIDR, e.g. `10.42.1.0/24`.
    public var destination: String
    /// The other node's InternalIP, e.g. `192.168.1.12`; empty for a route with no gateway
    /// (one Orca never makes, but may find under its protocol number and then removes).
    public var gateway: String

    /// Creates a route as given (no canonicalization).
    public init(destination: String, gateway: String) {
        self.destination = destination
        self.gateway = gateway
    }

    /// The route to `podCIDR` via `nodeIP`, or nil when either is not IPv4. Host bits of the
    /// CIDR are cleared (`10.42.1.7/24` becomes `10.42.1.0/24`).
    public init?(podCIDR: String, nodeIP: String) {
        guard let destination = Self.canonicalIPv4CIDR(podCIDR), Self.parseIPv4(nodeIP) != nil else { return nil }
        self.init(destination: destination, gateway: nodeIP)
    }

    public var description: String {
        gateway.isEmpty ? destination : "\(destination) via \(gateway)"
    }

    public static func < (a: NodeRoute, b: NodeRoute) -> Bool {
        (a.destination, a.gateway) < (b.destination, b.gateway)
    }

    // MARK: IPv4 helpers

    /// `a.b.c.d/len` with the host bits cleared; a bare address gets `/32`. Nil when not IPv4.
    public static func canonicalIPv4CIDR(_ cidr: String) -> String? {
        guard let (address, length) = parseIPv4CIDR(cidr) else { return nil }
        return "\(format(address & mask(length)))/\(length)"
    }

    /// Whether two IPv4 CIDRs share any address (one contains the other). False if either is not IPv4.
    public static func ipv4CIDRsOverlap(_ a: String, _ b: String) -> Bool {
        guard let (x, xl) = parseIPv4CIDR(a), let (y, yl) = parseIPv4CIDR(b) else { return false }
        let m = mask(min(xl, yl))
        return x & m == y & m
    }

    /// Whether `address` is a dotted-quad IPv4 address.
    public static func isIPv4Address(_ address: String) -> Bool {
        parseIPv4(address) != nil
    }

    /// Whether `address` is an IPv4 address in 127.0.0.0/8 (the node runs on this very host).
    public static func isIPv4Loopback(_ address: String) -> Bool {
        guard let a = parseIPv4(address) else { return false }
        return a >> 24 == 127
    }

    /// A dotted-quad IPv4 address as a number; nil for anything else (IPv6, names, `01.2.3.4`).
    static func parseIPv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  part.count == 1 || part.first != "0", let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    /// An IPv4 CIDR (or bare address, as /32) as address and prefix length.
    static func parseIPv4CIDR(_ text: String) -> (UInt32, Int)? {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 1 || pieces.count == 2, let address = parseIPv4(String(pieces[0])) else { return nil }
        guard pieces.count == 2 else { return (address, 32) }
        let lengthText = pieces[1]
        guard !lengthText.isEmpty, lengthText.count <= 2, lengthText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let length = Int(lengthText), length <= 32
        else { return nil }
        return (address, length)
    }

    static func mask(_ length: Int) -> UInt32 {
        length == 0 ? 0 : UInt32.max << UInt32(32 - length)
    }

    static func format(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }
}
