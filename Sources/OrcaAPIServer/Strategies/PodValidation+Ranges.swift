import Foundation
import OrcaAPI

/// The range checks of Kubernetes' pod validation: user and group IDs, ports, probe and
/// grace-period numbers, resource quantities, downward API divisors and volume file modes and
/// paths. Every number a component later computes with is bounded here, so no stored pod can
/// make the scheduler or the node agent overflow.
extension PodValidation {
    static let idRange: ClosedRange<Int64> = 0...2_147_483_647

    /// The checks of one pod spec at `path` (also run for templates).
    static func validateRanges(_ spec: JSONValue, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        causes += securityContext(spec["securityContext"], "\(path).securityContext", pod: true)
        causes += sysctls(spec, path)
        if let g = spec["terminationGracePeriodSeconds"], let n = g.intValue, n < 0 {
            causes.append(.invalid("\(path).terminationGracePeriodSeconds", number: n, "must be greater than or equal to 0"))
        }
        if let a = spec["activeDeadlineSeconds"]?.intValue, !(1...2_147_483_647).contains(a) {
            causes.append(.invalid("\(path).activeDeadlineSeconds", number: a, "must be between 1 and 2147483647, inclusive"))
        }
        let lists = [("initContainers", spec["initContainers"]?.arrayValue ?? []), ("containers", spec["containers"]?.arrayValue ?? []),
                     ("ephemeralContainers", spec["ephemeralContainers"]?.arrayValue ?? [])]
        for (list, items) in lists {
            for (i, c) in items.enumerated() {
                causes += container(c, "\(path).\(list)[\(i)]")
            }
        }
        for (i, v) in (spec["volumes"]?.arrayValue ?? []).enumerated() {
            causes += volumeFiles(v, "\(path).volumes[\(i)]")
        }
        return causes
    }

    static func securityContext(_ sc: JSONValue?, _ p: String, pod: Bool) -> [StatusCause] {
        guard let sc else { return [] }
        var causes: [StatusCause] = []
        var keys = ["runAsUser", "runAsGroup"]
        if pod { keys.append("fsGroup") }
        for key in keys {
            if let n = sc[key]?.intValue, !idRange.contains(n) {
                causes.append(.invalid("\(p).\(key)", number: n, "must be between 0 and 2147483647, inclusive"))
            }
        }
        if pod {
            for (j, g) in (sc["supplementalGroups"]?.arrayValue ?? []).enumerated() {
                if let n = g.intValue, !idRange.contains(n) {
                    causes.append(.invalid("\(p).supplementalGroups[\(j)]", number: n, "must be between 0 and 2147483647, inclusive"))
                }
            }
        }
        return causes
    }

    static func container(_ c: JSONValue, _ p: String) -> [StatusCause] {
        var causes = securityContext(c["securityContext"], "\(p).securityContext", pod: false)
        for (j, port) in (c["ports"]?.arrayValue ?? []).enumerated() {
            if let n = port["hostPort"]?.intValue, n != 0, !(1...65535).contains(n) {
                causes.append(.invalid("\(p).ports[\(j)].hostPort", number: n, "must be between 1 and 65535, inclusive"))
            }
        }
        for kind in ["livenessProbe", "readinessProbe", "startupProbe"] {
            guard let probe = c[kind], probe.objectValue != nil else { continue }
            let pp = "\(p).\(kind)"
            for key in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] {
                if let n = probe[key]?.intValue, n < 0 {
                    causes.append(.invalid("\(pp).\(key)", number: n, "must be greater than or equal to 0"))
                }
            }
            if let n = probe["terminationGracePeriodSeconds"]?.intValue, n <= 0 {
                causes.append(.invalid("\(pp).terminationGracePeriodSeconds", number: n, "must be greater than 0"))
            }
            causes += handlerPorts(probe, pp)
        }
        for hook in ["postStart", "preStop"] {
            guard let h = c[path: ["lifecycle", hook]] else { continue }
            let hp = "\(p).lifecycle.\(hook)"
            causes += handlerPorts(h, hp)
            if let n = h[path: ["sleep", "seconds"]]?.intValue, n < 0 {
                causes.append(.invalid("\(hp).sleep.seconds", number: n, "must be greater than or equal to 0"))
            }
        }
        causes += resources(c["resources"], "\(p).resources")
        for (j, e) in (c["env"]?.arrayValue ?? []).enumerated() {
            if let ref = e[path: ["valueFrom", "resourceFieldRef"]] {
                causes += divisor(ref, "\(p).env[\(j)].valueFrom.resourceFieldRef")
            }
        }
        return causes
    }

    /// Ports of httpGet, tcpSocket and grpc handlers: a number in 1…65535 or an IANA name.
    static func handlerPorts(_ handler: JSONValue, _ p: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        for kind in ["httpGet", "tcpSocket", "grpc"] {
            guard let port = handler[path: [kind, "port"]] else { continue }
            if let n = port.intValue {
                if !(1...65535).contains(n) {
                    causes.append(.invalid("\(p).\(kind).port", number: n, "must be between 1 and 65535, inclusive"))
                }
            } else if let name = port.stringValue, kind != "grpc" {
                if !isPortName(name) {
                    causes.append(.invalid("\(p).\(kind).port", name, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"))
                }
            }
        }
        return causes
    }

    static func isPortName(_ name: String) -> Bool {
        if let n = Int(name) { return (1...65535).contains(n) }
        return (1...15).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
            && name.contains(where: \.isLetter) && !name.hasPrefix("-") && !name.hasSuffix("-") && !name.contains("--")
    }

    /// Quantities parse, are not negative, and requests do not exceed limits.
    static func resources(_ r: JSONValue?, _ p: String) -> [StatusCause] {
        guard let r else { return [] }
        var causes: [StatusCause] = []
        var parsed: [String: [String: Quantity]] = [:]
        for kind in ["limits", "requests"] {
            for (name, value) in r[kind]?.objectValue ?? [:] {
                let field = "\(p).\(kind)[\(name)]"
                let text = value.stringValue ?? GoFormat.describe(value)
                guard let q = try? Quantity(parsing: text) else {
                    causes.append(.invalid(field, text, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
                    continue
                }
                if q.doubleValue < 0 {
                    causes.append(.invalidValue(field, rendered: GoFormat.quote(q.string), "must be greater than or equal to 0"))
                    continue
                }
                parsed[kind, default: [:]][name] = q
            }
        }
        for (name, request) in parsed["requests"] ?? [:] {
            guard let limit = parsed["limits"]?[name], request.compare(to: limit) > 0 else { continue }
            causes.append(.invalidValue("\(p).requests", rendered: GoFormat.quote(request.string),
                                        "must be less than or equal to \(name) limit of \(limit.string)"))
        }
        return causes
    }

    /// Kubernetes' allowed `resourceFieldRef` divisors.
    static func divisor(_ ref: JSONValue, _ p: String) -> [StatusCause] {
        guard let value = ref["divisor"] else { return [] }
        let text = value.stringValue ?? GoFormat.describe(value)
        let resource = ref["resource"]?.stringValue ?? ""
        let allowed: Set<String>
        if resource.hasSuffix("cpu") {
            allowed = ["1m", "1"]
        } else if resource.hasSuffix("memory") || resource.hasSuffix("ephemeral-storage") || resource.hasPrefix("limits.hugepages-") || resource.hasPrefix("requests.hugepages-") {
            allowed = ["1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"]
        } else {
            return []
        }
        guard let q = try? Quantity(parsing: text), allowed.contains(q.string) || (q.string == "1k" && allowed.contains("1k")) else {
            let list = resource.hasSuffix("cpu") ? "1m and 1" : "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei"
            return [.invalid("\(p).divisor", text, "only divisor's values \(list) are supported with the \(resource.hasSuffix("cpu") ? "cpu" : "memory") resource")]
        }
        return []
    }

    /// Modes of configMap, secret, downwardAPI and projected volumes in 0…0777; item paths
    /// relative, without `..`; divisors of downward API items.
    static func volumeFiles(_ v: JSONValue, _ p: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        func mode(_ value: JSONValue?, _ field: String) {
            guard let n = value?.intValue else { return }
            if !(0...0o777).contains(n) {
                causes.append(.invalid(field, number: n, "must be a number between 0 and 0777 (octal), both inclusive"))
            }
        }
        func items(_ list: [JSONValue], _ ip: String) {
            for (j, item) in list.enumerated() {
                let path = item["path"]?.stringValue ?? ""
                let field = "\(ip)[\(j)].path"
                if path.isEmpty {
                    causes.append(.required(field))
                } else if path.hasPrefix("/") {
                    causes.append(.invalid(field, path, "must be a relative path"))
                } else if path.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
                    causes.append(.invalid(field, path, "must not contain '..'"))
                } else if path.hasPrefix("..") {
                    causes.append(.invalid(field, path, "must not start with '..'"))
                }
                mode(item["mode"], "\(ip)[\(j)].mode")
                if let ref = item["resourceFieldRef"] { causes += divisor(ref, "\(ip)[\(j)].resourceFieldRef") }
            }
        }
        for kind in ["configMap", "secret", "downwardAPI", "projected"] {
            guard let source = v[kind], source.objectValue != nil else { continue }
            mode(source["defaultMode"], "\(p).\(kind).defaultMode")
            items(source["items"]?.arrayValue ?? [], "\(p).\(kind).items")
            for (k, s) in (source["sources"]?.arrayValue ?? []).enumerated() {
                for inner in ["configMap", "secret", "downwardAPI"] {
                    guard let src = s[inner] else { continue }
                    items(src["items"]?.arrayValue ?? [], "\(p).projected.sources[\(k)].\(inner).items")
                }
            }
        }
        return causes
    }
}
