import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One endpoint address, parsed: its family (the EndpointSlice address type) and canonical
/// text, and whether the API server takes it in an Endpoints or EndpointSlice. Addresses the
/// API server would refuse (`ValidateNonSpecialIP`: unspecified, loopback, link-local,
/// link-local multicast) are left out by the controllers, so one bad pod IP never blocks the
/// write of a whole Service's endpoints.
struct EndpointIP: Hashable, Sendable {
    /// The address bytes: 4 for IPv4, 16 for IPv6 (an IPv4-mapped IPv6 address stays IPv6).
    let bytes: [UInt8]

    /// Parses dotted IPv4 or IPv6 text; nil for anything else.
    init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    /// True for IPv6.
    var isIPv6: Bool { bytes.count == 16 }

    /// The EndpointSlice `addressType` of this address: `IPv4` or `IPv6`.
    var addressType: String { isIPv6 ? EndpointIP.ipv6 : EndpointIP.ipv4 }

    /// The canonical text (`inet_ntop`): `10.0.0.1`, `fd00::1`.
    var canonical: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var raw = bytes
        let family = isIPv6 ? AF_INET6 : AF_INET
        let ok = raw.withUnsafeMutableBytes { source in
            buffer.withUnsafeMutableBufferPointer { inet_ntop(family, source.baseAddress, $0.baseAddress, socklen_t($0.count)) }
        } != nil
        guard ok else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// False for the addresses the API server refuses in endpoints: unspecified, loopback,
    /// link-local and link-local multicast.
    var isPublishable: Bool {
        let b = bytes
        if b.allSatisfy({ $0 == 0 }) { return false }
        if isIPv6 {
            if b.dropLast().allSatisfy({ $0 == 0 }) && b[15] == 1 { return false }
            if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return false }
            if b[0] == 0xff && b[1] & 0x0f == 0x02 { return false }
        } else {
            if b[0] == 127 { return false }
            if b[0] == 169 && b[1] == 254 { return false }
            if b[0] == 224 && b[1] == 0 && b[2] == 0 { return false }
        }
        return true
    }

    /// The `IPv4` address type (also the core/v1 IP family name).
    static let ipv4 = "IPv4"
    /// The `IPv6` address type (also the core/v1 IP family name).
    static let ipv6 = "IPv6"

    /// The publishable addresses among `texts` of one address type, canonical and in order;
    /// each unparsable or refused one is reported to `skipped`.
    static func publishable(_ texts: [String], addressType: String, skipped: (String) -> Void = { _ in }) -> [String] {
        var result: [String] = []
        for text in texts {
            guard let ip = EndpointIP(text), ip.isPublishable else { skipped(text); continue }
            if ip.addressType == addressType, !result.contains(ip.canonical) { result.append(ip.canonical) }
        }
        return result
    }
}
