import Foundation
import OrcaAPI

/// Endpoints: ports default to TCP; addresses must be real, non-special IPs (`ValidateEndpoints`).
struct EndpointsStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    static func defaults(_ o: inout JSONValue) {
        guard var subsets = o["subsets"]?.arrayValue else { return }
        for i in subsets.indices {
            guard let ports = subsets[i]["ports"]?.arrayValue else { continue }
            subsets[i]["ports"] = .array(ports.map { p in
                var p = p
                if (p["protocol"]?.stringValue ?? "").isEmpty { p["protocol"] = "TCP" }
                return p
            })
        }
        o["subsets"] = .array(subsets)
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        for (i, subset) in (object["subsets"]?.arrayValue ?? []).enumerated() {
            let path = "subsets[\(i)]"
            let addresses = subset["addresses"]?.arrayValue ?? []
            let notReady = subset["notReadyAddresses"]?.arrayValue ?? []
            if addresses.isEmpty, notReady.isEmpty {
                causes.append(.required(path, "Required value: must specify `addresses` or `notReadyAddresses`"))
            }
            for (list, items) in [("addresses", addresses), ("notReadyAddresses", notReady)] {
                for (j, a) in items.enumerated() {
                    let p = "\(path).\(list)[\(j)]"
                    causes += IPAddress.validateEndpointIP(a["ip"]?.stringValue ?? "", field: "\(p).ip")
                    if let host = a["hostname"]?.stringValue, !host.isEmpty, !ObjectMetaRules.isDNS1123Label(host) {
                        causes.append(.invalid("\(p).hostname", host, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"))
                    }
                }
            }
            let ports = subset["ports"]?.arrayValue ?? []
            for (j, port) in ports.enumerated() {
                let p = "\(path).ports[\(j)]"
                let name = port["name"]?.stringValue ?? ""
                if ports.count > 1, name.isEmpty { causes.append(.required("\(p).name")) }
                causes += IPAddress.validatePort(port["port"], field: "\(p).port")
                causes += WorkloadValidation.oneOf(port["protocol"], "\(p).protocol", ["SCTP", "TCP", "UDP"], required: true)
            }
        }
        return causes
    }
}

/// EndpointSlices: `SetDefaults_EndpointPort`, `ValidateEndpointSlice`; the address type is
/// immutable.
struct EndpointSliceStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    static func defaults(_ o: inout JSONValue) {
        guard let ports = o["ports"]?.arrayValue else { return }
        o["ports"] = .array(ports.map { p in
            var p = p
            if p["name"] == nil || p["name"]?.isNull == true { p["name"] = "" }
            if p["protocol"] == nil || p["protocol"]?.isNull == true { p["protocol"] = "TCP" }
            return p
        })
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        let addressType = object["addressType"]?.stringValue ?? ""
        causes += WorkloadValidation.oneOf(object["addressType"], "addressType", ["FQDN", "IPv4", "IPv6"], required: true)
        for (i, endpoint) in (object["endpoints"]?.arrayValue ?? []).enumerated() {
            let path = "endpoints[\(i)].addresses"
            let addresses = endpoint["addresses"]?.arrayValue ?? []
            if addresses.isEmpty {
                causes.append(.required(path, "Required value: must contain at least 1 address"))
            } else if addresses.count > 100 {
                causes.append(StatusCause("FieldValueTooMany", field: path, "\(path): Too many: \(addresses.count): must have at most 100 items"))
            }
            for (j, a) in addresses.enumerated() {
                let s = a.stringValue ?? ""
                let field = "\(path)[\(j)]"
                switch addressType {
                case "IPv4":
                    if IPAddress.parse(s).map(IPAddress.unmapped)?.count != 4 { causes.append(.invalid(field, s, "must be a valid IPv4 address")) } else { causes += IPAddress.nonSpecial(s, field: field) }
                case "IPv6":
                    if IPAddress.parse(s).map(IPAddress.unmapped)?.count != 16 { causes.append(.invalid(field, s, "must be a valid IPv6 address")) } else { causes += IPAddress.nonSpecial(s, field: field) }
                default: break
                }
            }
        }
        for (i, port) in (object["ports"]?.arrayValue ?? []).enumerated() {
            let path = "ports[\(i)]"
            if let p = port["port"], !p.isNull { causes += IPAddress.validatePort(p, field: "\(path).port") }
            causes += WorkloadValidation.oneOf(port["protocol"], "\(path).protocol", ["SCTP", "TCP", "UDP"])
        }
        if let old, let was = old["addressType"]?.stringValue, was != addressType {
            causes.append(.invalid("addressType", addressType, "field is immutable"))
        }
        return causes
    }
}

/// IP and port checks shared by Endpoints and EndpointSlices.
enum IPAddress {
    /// The address bytes (4 or 16), or nil if `s` is not an IP address.
    static func parse(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// The address as Go's `To4` sees it: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is
    /// its four IPv4 bytes, so `::ffff:127.0.0.1` counts as loopback.
    static func unmapped(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count == 16, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return bytes }
        return Array(bytes.suffix(4))
    }

    /// The address classes of unmapped bytes (4 or 16) that a Service endpoint or a proxy
    /// never names, as Go's `net.IP` methods judge them.
    static func isUnspecified(_ b: [UInt8]) -> Bool { b.allSatisfy { $0 == 0 } }
    static func isLoopback(_ b: [UInt8]) -> Bool { b.count == 4 ? b[0] == 127 : (b.dropLast().allSatisfy { $0 == 0 } && b[15] == 1) }
    static func isLinkLocalUnicast(_ b: [UInt8]) -> Bool { b.count == 4 ? (b[0] == 169 && b[1] == 254) : (b[0] == 0xfe && b[1] & 0xc0 == 0x80) }

    static func validateEndpointIP(_ s: String, field: String) -> [StatusCause] {
        guard parse(s) != nil else { return [.invalid(field, s, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")] }
        return nonSpecial(s, field: field)
    }

    /// `ValidateNonSpecialIP`: not unspecified, loopback or link-local.
    static func nonSpecial(_ s: String, field: String) -> [StatusCause] {
        guard let b = parse(s).map(unmapped) else { return [] }
        var causes: [StatusCause] = []
        let v4 = b.count == 4
        if isUnspecified(b) { causes.append(.invalid(field, s, "may not be unspecified (\(s))")) }
        if isLoopback(b) {
            causes.append(.invalid(field, s, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
        }
        if isLinkLocalUnicast(b) {
            causes.append(.invalid(field, s, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
        }
        if v4 ? (b[0] == 224 && b[1] == 0 && b[2] == 0) : (b[0] == 0xff && b[1] & 0x0f == 0x02) {
            causes.append(.invalid(field, s, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
        }
        return causes
    }

    static func validatePort(_ value: JSONValue?, field: String) -> [StatusCause] {
        let n = value?.intValue ?? 0
        return n < 1 || n > 65535 ? [.invalid(field, number: n, "must be between 1 and 65535, inclusive")] : []
    }
}
