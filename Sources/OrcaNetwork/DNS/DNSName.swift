import OrcaCore

/// A domain name as DNS carries it: a list of labels of raw bytes (at most 63 each, at most
/// 255 bytes in wire form), always absolute.
///
/// Equality is exact (the case a client sent is kept, so answers echo it); DNS comparisons are
/// case-insensitive and go through `lowercased()` or `isSubdomain(of:)`.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The labels from the leftmost (most specific) to the last before the root.
    public private(set) var labels: [[UInt8]]

    /// The longest label.
    public static let maxLabelLength = 63
    /// The longest name in wire form, length bytes and the root included.
    public static let maxWireLength = 255

    /// The root name `.`.
    public static let root = DNSName(validated: [])

    /// A name from labels already known to be valid.
    init(validated labels: [[UInt8]]) {
        self.labels = labels
    }

    /// A name from text labels (`["web", "default", "svc"]`); throws when a label is empty or
    /// longer than 63 bytes or the name longer than 255.
    public init(labels: [String]) throws {
        try self.init(byteLabels: labels.map { Array($0.utf8) })
    }

    /// A name from byte labels, validated as `init(labels:)`.
    public init(byteLabels: [[UInt8]]) throws {
        var wire = 1
        for label in byteLabels {
            guard !label.isEmpty else { throw OrcaError(.dnsMalformed, "DNS name has an empty label") }
            guard label.count <= Self.maxLabelLength else {
                throw OrcaError(.dnsMalformed, "DNS label longer than \(Self.maxLabelLength) bytes")
            }
            wire += label.count + 1
        }
        guard wire <= Self.maxWireLength else { throw OrcaError(.dnsMalformed, "DNS name longer than \(Self.maxWireLength) bytes") }
        self.labels = byteLabels
    }

    /// Parses dotted text: `web.default.svc.cluster.local` or with a trailing dot; `""` and `"."`
    /// are the root. `\.` escapes a dot inside a label, `\\` a backslash and `\DDD` any byte.
    public init(_ text: String) throws {
        if text.isEmpty || text == "." {
            self.init(validated: [])
            return
        }
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "."):
                guard !current.isEmpty else { throw OrcaError(.dnsMalformed, "DNS name \(text) has an empty label") }
                labels.append(current)
                current = []
            case UInt8(ascii: "\\"):
                guard let next = bytes.popFirst() else { throw OrcaError(.dnsMalformed, "DNS name \(text) ends in a backslash") }
                if let d1 = Self.digit(next), let d2 = bytes.first.flatMap(Self.digit), let d3 = bytes.dropFirst().first.flatMap(Self.digit) {
                    let value = d1 * 100 + d2 * 10 + d3
                    guard value <= 255 else { throw OrcaError(.dnsMalformed, "DNS name \(text) has an escape above 255") }
                    bytes = bytes.dropFirst(2)
                    current.append(UInt8(value))
                } else {
                    current.append(next)
                }
            default:
                current.append(byte)
            }
        }
        if !current.isEmpty { labels.append(current) }
        try self.init(byteLabels: labels)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// Whether this is the root name.
    public var isRoot: Bool { labels.isEmpty }

    /// The length in uncompressed wire form (length bytes and the root byte included).
    public var wireLength: Int { labels.reduce(1) { $0 + $1.count + 1 } }

    /// The labels as text, lowercased (ASCII only, as DNS compares), for lookups.
    public var lowercasedLabels: [String] {
        labels.map { String(decoding: $0.map(Self.lowercase), as: UTF8.self) }
    }

    /// The same name with ASCII letters lowercased.
    public func lowercased() -> DNSName {
        DNSName(validated: labels.map { $0.map(Self.lowercase) })
    }

    /// Whether this name equals `other` ignoring ASCII case.
    public func equalsIgnoringCase(_ other: DNSName) -> Bool {
        labels.count == other.labels.count && zip(labels, other.labels).allSatisfy { Self.labelsEqualIgnoringCase($0, $1) }
    }

    /// Whether this name is `other` or lies below it, ignoring ASCII case.
    public func isSubdomain(of other: DNSName) -> Bool {
        guard labels.count >= other.labels.count else { return false }
        return zip(labels.suffix(other.labels.count), other.labels).allSatisfy { Self.labelsEqualIgnoringCase($0, $1) }
    }

    /// The name with `label` put in front; throws when it would be too long.
    public func prepending(_ label: String) throws -> DNSName {
        try DNSName(byteLabels: [Array(label.utf8)] + labels)
    }

    /// The name without its first label (the root stays the root).
    public var parent: DNSName { DNSName(validated: Array(labels.dropFirst())) }

    /// The absolute dotted form with a trailing dot (`web.default.svc.cluster.local.`); dots and
    /// backslashes inside labels and bytes outside printable ASCII are escaped as `dig` does.
    public var description: String {
        guard !labels.isEmpty else { return "." }
        var out = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"):
                    out.append("\\")
                    out.append(Character(Unicode.Scalar(byte)))
                case 0x21...0x7E:
                    out.append(Character(Unicode.Scalar(byte)))
                default:
                    let digits = String(byte)
                    out.append("\\" + String(repeating: "0", count: 3 - digits.count) + digits)
                }
            }
            out.append(".")
        }
        return out
    }

    static func lowercase(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    static func labelsEqualIgnoringCase(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { lowercase($0) == lowercase($1) }
    }
}
