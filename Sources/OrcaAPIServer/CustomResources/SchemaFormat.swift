import Foundation
import OrcaCore

/// The `format`s a CRD schema may name, checked as go-openapi's `strfmt` registry does for strings, plus
/// `int32`/`int64` ranges for numbers. Unknown formats (and `password`, `isbn`, `creditcard`, …) are not checked.
enum SchemaFormat {
    /// Whether `value` has `format`; nil when the format is not checked for this kind of value.
    static func check(_ format: String, _ value: JSONValue) -> Bool? {
        switch value {
        case .string(let s): return check(format, string: s)
        case .int(let i):
            switch format {
            case "int32": return Int32(exactly: i) != nil
            case "int64": return true
            default: return nil
            }
        case .double(let d):
            guard d == d.rounded() else { return nil }
            switch format {
            case "int32": return Int32(exactly: d) != nil
            case "int64": return Int64(exactly: d) != nil
            default: return nil
            }
        default:
            return nil
        }
    }

    /// Whether the string `s` has `format` (names compared without case, `-` or `_`, as strfmt does); nil when unchecked.
    static func check(_ format: String, string s: String) -> Bool? {
        switch format.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "") {
        case "datetime": return isDateTime(s)
        case "date": return isDate(s)
        case "byte": return Data(base64Encoded: s) != nil
        case "uuid": return uuid.matches(s)
        case "uuid3": return uuid3.matches(s)
        case "uuid4": return uuid4.matches(s)
        case "uuid5": return uuid5.matches(s)
        case "hostname": return isHostname(s)
        case "ipv4": return isIPv4(s)
        case "ipv6": return s.contains(":") && isIPv6(s)
        case "cidr": return isCIDR(s)
        case "mac": return isMAC(s)
        case "email": return email.matches(s)
        case "uri": return isURI(s)
        case "duration": return duration.matches(s)
        case "bsonobjectid": return objectID.matches(s)
        case "hexcolor": return hexColor.matches(s)
        case "rgbcolor": return rgbColor.matches(s)
        case "ssn": return ssn.matches(s)
        default: return nil
        }
    }

    private static func re(_ pattern: String) -> CompiledRegex { CompiledRegex(pattern, options: .caseInsensitive) }
    private static let uuid = re(#"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"#)
    private static let uuid3 = re(#"^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$"#)
    private static let uuid4 = re(#"^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"#)
    private static let uuid5 = re(#"^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"#)
    private static let email = re(#"^[^\s@<>()\[\],;:"]+@[^\s@<>()\[\],;:"]+$"#)
    private static let duration = re(#"^[-+]?\s*(\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)\s*)+$|^[-+]?0$"#)
    private static let objectID = re("^[0-9a-f]{24}$")
    private static let hexColor = re("^#([0-9a-f]{3}|[0-9a-f]{6})$")
    private static let rgbColor = re(#"^rgb\((\s*(0|[1-9]\d?|1\d\d|2[0-4]\d|25[0-5])\s*,){2}\s*(0|[1-9]\d?|1\d\d|2[0-4]\d|25[0-5])\s*\)$"#)
    private static let ssn = re(#"^\d{3}[- ]?\d{2}[- ]?\d{4}$"#)
    private static let time = re(#"^([01]\d|2[0-3]):[0-5]\d(:([0-5]\d|60)(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?$"#)
    private static let macColons = re(#"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}((\1[0-9a-f]{2}){2}|(\1[0-9a-f]{2}){14})?$"#)
    private static let macDots = re(#"^[0-9a-f]{4}(\.[0-9a-f]{4}){2}((\.[0-9a-f]{4})|(\.[0-9a-f]{4}){7})?$"#)

    /// RFC 3339 as strfmt parses it: `2006-01-02T15:04:05(.frac)(Z|±07:00)`, also without offset or seconds.
    static func isDateTime(_ s: String) -> Bool {
        let parts = s.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, isDate(String(parts[0])) else { return false }
        return time.matches(String(parts[1]))
    }

    /// `2006-01-02` with a day that exists.
    static func isDate(_ s: String) -> Bool {
        let f = s.split(separator: "-", omittingEmptySubsequences: false)
        guard f.count == 3, f[0].count == 4, f[1].count == 2, f[2].count == 2,
              f.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let y = Int(f[0]), let m = Int(f[1]), let d = Int(f[2]), (1...12).contains(m) else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return (1...days).contains(d)
    }

    /// RFC 1123 host names (letters of any script allowed, as strfmt does), at most 255 bytes.
    static func isHostname(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 255 else { return false }
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard let first = label.first, let last = label.last, label.utf8.count <= 63 else { return false }
            return first != "-" && last != "-" && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }

    /// Dotted-quad IPv4 without leading zeros (Go's `net.ParseIP`).
    static func isIPv4(_ s: String) -> Bool {
        let octets = s.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { o in
            guard !o.isEmpty, o.count <= 3, o.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(o), v <= 255 else { return false }
            return o.count == 1 || o.first != "0"
        }
    }

    /// An IPv6 address as `inet_pton` reads it.
    static func isIPv6(_ s: String) -> Bool {
        var addr = in6_addr()
        return s.withCString { inet_pton(AF_INET6, $0, &addr) } == 1
    }

    /// `address/prefix` with a prefix that fits the address family.
    static func isCIDR(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]), parts[1].allSatisfy(\.isNumber) else { return false }
        let ip = String(parts[0])
        if isIPv4(ip) { return (0...32).contains(bits) }
        return isIPv6(ip) && (0...128).contains(bits)
    }

    /// Go's `net.ParseMAC`: 6, 8 or 20 octets joined by `:` or `-`, or groups of four hex digits joined by `.`.
    static func isMAC(_ s: String) -> Bool {
        macColons.matches(s) || macDots.matches(s)
    }

    /// An absolute URI or an absolute path (Go's `url.ParseRequestURI`).
    static func isURI(_ s: String) -> Bool {
        guard !s.isEmpty, !s.contains(" "), let url = URL(string: s) else { return false }
        return url.scheme != nil || s.hasPrefix("/")
    }
}
