import Foundation
import OrcaClient

/// Which `securityContext.sysctls` this node lets a pod set (the kubelet's sysctl allowlist):
/// the safe set — namespaced and isolated, so one pod's value cannot touch another pod or the
/// host — plus the unsafe ones the node's `--allowed-unsafe-sysctls` names (`net.core.somaxconn`,
/// or a prefix pattern `kernel.msg*`). A pod asking for any other is rejected by the node with
/// reason `SysctlForbidden`.
public struct SysctlAllowlist: Sendable {
    /// The kernel namespace a sysctl belongs to; only namespaced sysctls can be allowed.
    /// The raw values are the kubelet's words in its messages.
    enum Namespace: String, Sendable { case ipc = "IPC", net = "Net" }

    /// The kubelet's reason for a pod it rejects over a sysctl.
    static let forbiddenReason = "SysctlForbidden"

    private(set) var sysctls: [String: Namespace] = [:]
    private(set) var prefixes: [String: Namespace] = [:]

    /// The safe sysctls (the kubelet's `SafeSysctlAllowlist` of Kubernetes 1.32), each with the
    /// kernel version that namespaced it (nil: every supported kernel).
    static let safe: [(name: String, kernel: (Int, Int)?)] = [
        ("kernel.shm_rmid_forced", nil),
        ("net.ipv4.ip_local_port_range", nil),
        ("net.ipv4.tcp_syncookies", nil),
        ("net.ipv4.ping_group_range", nil),
        ("net.ipv4.ip_unprivileged_port_start", nil),
        ("net.ipv4.ip_local_reserved_ports", (3, 16)),
        ("net.ipv4.tcp_keepalive_time", (4, 5)),
        ("net.ipv4.tcp_fin_timeout", (4, 6)),
        ("net.ipv4.tcp_keepalive_intvl", (4, 5)),
        ("net.ipv4.tcp_keepalive_probes", (4, 5)),
        ("net.ipv4.tcp_rmem", (4, 15)),
        ("net.ipv4.tcp_wmem", (4, 15)),
    ]

    /// The safe set for a kernel of `kernelVersion` (major, minor; nil: this machine's) plus
    /// `unsafe` patterns; throws, naming the pattern, when one is malformed or not namespaced.
    public init(allowingUnsafe unsafe: [String] = [], kernelVersion: (Int, Int)? = nil) throws {
        let running = HostInfo.kernelVersion()
        let kernel = kernelVersion ?? (running.major, running.minor)
        for s in Self.safe where s.kernel.map({ kernel.0 > $0.0 || (kernel.0 == $0.0 && kernel.1 >= $0.1) }) ?? true {
            try add(s.name)
        }
        for pattern in unsafe { try add(pattern) }
    }

    private mutating func add(_ pattern: String) throws {
        guard Self.isValidPattern(pattern) else {
            throw AllowlistError(description: "sysctl \"\(pattern)\" must have at most 253 characters and be a sysctl name "
                + "(elements of [a-z0-9_-] separated by . or /), optionally ending in *")
        }
        let name = Self.normalize(pattern)
        let prefixed = name.hasSuffix("*")
        let key = prefixed ? String(name.dropLast()) : name
        guard let namespace = Self.namespace(of: key) else {
            throw AllowlistError(description: "the sysctls \"\(key)\" are not known to be namespaced")
        }
        if prefixed { prefixes[key] = namespace } else { sysctls[key] = namespace }
    }

    /// Why the node refuses `pod` (the kubelet's message, `forbidden sysctl: …`), or nil when
    /// every sysctl it asks for is allowed.
    func rejection(of pod: JSONValue) -> String? {
        let hostNetwork = pod[path: ["spec", "hostNetwork"]]?.boolValue ?? false
        let hostIPC = pod[path: ["spec", "hostIPC"]]?.boolValue ?? false
        for entry in pod[path: ["spec", "securityContext", "sysctls"]]?.arrayValue ?? [] {
            let name = Self.normalize(entry["name"]?.stringValue ?? "")
            let namespace = sysctls[name] ?? prefixes.first { name.hasPrefix($0.key) }?.value
            guard let namespace else { return "forbidden sysctl: \"\(name)\" not allowlisted" }
            if (namespace == .net && hostNetwork) || (namespace == .ipc && hostIPC) {
                return "forbidden sysctl: \"\(name)\" not allowed with host \(namespace.rawValue) enabled"
            }
        }
        return nil
    }

    /// The pod's sysctls as the runtime sets them (dot-separated names), nil when it has none.
    static func values(of pod: JSONValue) -> [String: String]? {
        let entries = pod[path: ["spec", "securityContext", "sysctls"]]?.arrayValue ?? []
        guard !entries.isEmpty else { return nil }
        var values: [String: String] = [:]
        for e in entries {
            values[normalize(e["name"]?.stringValue ?? "")] = e["value"]?.stringValue ?? ""
        }
        return values
    }

    /// The kernel namespace of a sysctl (or prefix), nil when it is not namespaced.
    static func namespace(of name: String) -> Namespace? {
        if name == "kernel.sem" { return .ipc }
        for prefix in ["kernel.shm", "kernel.msg", "fs.mqueue."] where name.hasPrefix(prefix) { return .ipc }
        if name.hasPrefix("net.") { return .net }
        return nil
    }

    /// A name with `/` separators (`net/ipv4/ip_forward`, where dots may appear inside an
    /// element such as an interface name) in the dotted form, as the kubelet normalizes it.
    static func normalize(_ name: String) -> String {
        guard let separator = name.first(where: { $0 == "." || $0 == "/" }), separator == "/" else { return name }
        return String(name.map { $0 == "/" ? "." : $0 == "." ? "/" : $0 })
    }

    /// `IsValidSysctlPattern`: a sysctl name, optionally ending in `*`.
    static func isValidPattern(_ pattern: String) -> Bool {
        guard pattern.utf8.count <= 253 else { return false }
        let name = pattern.hasSuffix("*") ? String(pattern.dropLast()) : pattern
        if pattern.hasSuffix("*"), name.isEmpty || name.hasSuffix(".") || name.hasSuffix("/") {
            // `kernel.msg*` and `net.*` are both patterns; a bare `*` is not.
            return !name.isEmpty && elementsValid(String(name.dropLast()))
        }
        return elementsValid(name)
    }

    private static func elementsValid(_ name: String) -> Bool {
        let elements = name.split(separator: ".", omittingEmptySubsequences: false).flatMap { $0.split(separator: "/", omittingEmptySubsequences: false) }
        return !elements.isEmpty && elements.allSatisfy { e in
            guard let first = e.first, let last = e.last else { return false }
            let alnum = { (c: Character) in c.isASCII && (c.isLowercase || c.isNumber) }
            return alnum(first) && alnum(last) && e.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" }
        }
    }

    /// A malformed or non-namespaced `--allowed-unsafe-sysctls` entry.
    public struct AllowlistError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }
}
