import Foundation
import OrcaCore

/// This host's routes to the other nodes' pod CIDRs, as flannel's host-gw backend keeps them:
/// `ip route replace <podCIDR> via <InternalIP> proto 79` for every other node.
///
/// Every route Orca makes carries the route protocol number **79** (`RTPROT` values are one byte;
/// 79 is neither in `linux/rtnetlink.h` nor in iproute2's `rt_protos`), so a resync lists only
/// Orca's routes (`ip -4 -j route show proto 79`, main table), replaces the changed ones, deletes
/// the stale ones, and `removeAll()` removes exactly the routes Orca made — never a route of
/// someone else, since a delete names the protocol (and the gateway).
///
/// A route the kernel refuses (say, a gateway that is not on a directly connected subnet) is
/// reported as a `Failure` and the others are applied anyway: one bad node never stops the rest.
///
/// Pod traffic between nodes is routed, not tunnelled and not masqueraded (the CNI bridge
/// config keeps `ipMasq` off), so the receiving node sees the real pod source address.
/// The host must forward IPv4 (`enableForwarding()`); and if its iptables `FORWARD` policy is
/// `DROP` (as Docker sets it), forwarded pod traffic is dropped — `forwardPolicyDrops()` reports
/// that so the agent can warn. Orca adds no accept rule of its own: in nftables an `accept` in
/// one table does not override a `drop` in another table's chain on the same hook, so an
/// Orca-owned table could not help, and Orca does not edit other programs' tables.
///
/// `namespace` points every command at a named network namespace (`ip -n <ns>`,
/// `ip netns exec <ns>`), for tests; nil is the agent's own namespace.
public struct NodeRoutes: Sendable {
    /// The route protocol number that marks Orca's routes (`proto 79`).
    public static let routeProtocol = 79
    /// The IPv4 forwarding switch of the current network namespace.
    public static let forwardingSysctl = "/proc/sys/net/ipv4/ip_forward"

    /// One step of a resync.
    public enum Change: Hashable, Sendable, CustomStringConvertible {
        /// `ip route replace <dst> via <gw> proto 79`: adds the route or changes its gateway.
        case replace(NodeRoute)
        /// `ip route del <dst> [via <gw>] proto 79`: removes a route Orca made that is not wanted.
        case delete(NodeRoute)

        public var description: String {
            switch self {
            case .replace(let r): "replace \(r)"
            case .delete(let r): "delete \(r)"
            }
        }
    }

    /// A change the kernel refused, with `ip`'s message.
    public struct Failure: Hashable, Sendable, CustomStringConvertible {
        public var change: Change
        public var message: String

        public init(change: Change, message: String) {
            self.change = change
            self.message = message
        }

        public var description: String { "\(change): \(message)" }
    }

    /// What one `sync` did.
    public struct SyncResult: Hashable, Sendable {
        /// The changes the kernel took (in order).
        public var applied: [Change] = []
        /// The changes it refused.
        public var failures: [Failure] = []

        public init(applied: [Change] = [], failures: [Failure] = []) {
            self.applied = applied
            self.failures = failures
        }
    }

    /// The network namespace (as named by `ip netns`) to work in; nil: our own.
    public var namespace: String?
    /// iproute2's `ip`.
    public var ipPath: String
    /// `iptables`, only read (`-S FORWARD`) to see the forwarding policy.
    public var iptablesPath: String
    /// `tee`, which writes the forwarding switch inside `namespace`.
    public var teePath: String

    /// Creates a route keeper for this host (or for the named network namespace); binaries
    /// default to the first found in the usual places (Debian: `/usr/sbin/ip`, `/usr/sbin/iptables`).
    public init(namespace: String? = nil, ipPath: String? = nil, iptablesPath: String? = nil, teePath: String? = nil) {
        self.namespace = namespace
        self.ipPath = ipPath ?? Self.firstExecutable(["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"])
        self.iptablesPath = iptablesPath ?? Self.firstExecutable(["/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"])
        self.teePath = teePath ?? Self.firstExecutable(["/usr/bin/tee", "/bin/tee"])
    }

    /// The first of `candidates` that is an executable file, else the first.
    static func firstExecutable(_ candidates: [String]) -> String {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    // MARK: planning (no I/O)

    /// What turns `current` (Orca's routes in the kernel) into `desired`: deletes of Orca routes
    /// to destinations no longer wanted (or extra routes to a wanted one), then replaces of routes
    /// missing or with another gateway. When `desired` names one destination twice, the first wins.
    public static func changes(desired: [NodeRoute], current: [NodeRoute]) -> [Change] {
        var wanted: [String: NodeRoute] = [:]
        for route in desired where wanted[route.destination] == nil { wanted[route.destination] = route }
        let present = Set(current)
        // A wanted destination whose route has another gateway: its first route is changed in
        // place by the replace; any further ones (other metrics) are deleted by gateway.
        var replacedInPlace = Set<String>()
        var deletes: [Change] = []
        for route in present.sorted() {
            if let want = wanted[route.destination] {
                if want == route { continue }
                if !present.contains(want), replacedInPlace.insert(route.destination).inserted { continue }
            }
            deletes.append(.delete(route))
        }
        let replaces = wanted.values.filter { !present.contains($0) }.sorted().map(Change.replace)
        return deletes + replaces
    }

    /// Whether `iptables -S FORWARD` output says the chain's policy is `DROP`.
    public static func forwardPolicyDrops(rules: String) -> Bool {
        rules.split(whereSeparator: \.isNewline).contains { line in
            line.split(separator: " ") == ["-P", "FORWARD", "DROP"]
        }
    }

    /// Orca's routes in `ip -4 -j route show proto 79` output.
    static func parseRoutes(json: [UInt8]) throws -> [NodeRoute] {
        struct Entry: Decodable {
            var dst: String?
            var gateway: String?
        }
        let text = String(decoding: json, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return [] }
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode([Entry].self, from: Data(text.utf8))
        } catch {
            throw OrcaError(.system, "cannot decode ip route output \(text.prefix(200))", cause: error)
        }
        return entries.compactMap { entry in
            guard let dst = entry.dst else { return nil }
            let destination = dst == "default" ? "0.0.0.0/0" : NodeRoute.canonicalIPv4CIDR(dst) ?? dst
            return NodeRoute(destination: destination, gateway: entry.gateway ?? "")
        }
    }

    /// `ip` arguments that list Orca's routes.
    var listArguments: [String] {
        namespaceArguments + ["-4", "-j", "route", "show", "proto", "\(Self.routeProtocol)"]
    }

    /// `ip` arguments that apply one change.
    func arguments(for change: Change) -> [String] {
        let proto = ["proto", "\(Self.routeProtocol)"]
        switch change {
        case .replace(let r):
            return namespaceArguments + ["-4", "route", "replace", r.destination, "via", r.gateway] + proto
        case .delete(let r):
            let via = r.gateway.isEmpty ? [] : ["via", r.gateway]
            return namespaceArguments + ["-4", "route", "del", r.destination] + via + proto
        }
    }

    var namespaceArguments: [String] { namespace.map { ["-n", $0] } ?? [] }

    // MARK: applying

    /// Orca's routes (protocol 79, main table) as the kernel has them now.
    public func current() async throws -> [NodeRoute] {
        let out = try await HostCommand(executable: ipPath, arguments: listArguments).checked()
        return try Self.parseRoutes(json: out.standardOutput)
    }

    /// Makes Orca's routes exactly `desired`: lists them, then applies `changes(desired:current:)`
    /// one by one. Throws only when the routes cannot be listed; a change the kernel refuses is
    /// returned as a failure and the others still run.
    @discardableResult
    public func sync(_ desired: [NodeRoute]) async throws -> SyncResult {
        var result = SyncResult()
        for change in Self.changes(desired: desired, current: try await current()) {
            if let failure = await apply(change) { result.failures.append(failure) } else { result.applied.append(change) }
        }
        return result
    }

    /// Deletes every route Orca made (protocol 79), e.g. when the agent stops.
    @discardableResult
    public func removeAll() async throws -> SyncResult {
        try await sync([])
    }

    /// Runs one change; a delete of a route already gone counts as done.
    func apply(_ change: Change) async -> Failure? {
        do {
            let out = try await HostCommand(executable: ipPath, arguments: arguments(for: change)).run()
            if out.succeeded { return nil }
            let message = out.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            if case .delete = change, message.contains("No such process") { return nil }
            return Failure(change: change, message: message.isEmpty ? "ip exited \(out.exitCode)" : message)
        } catch {
            return Failure(change: change, message: "\(error)")
        }
    }

    /// Turns IPv4 forwarding on (`net.ipv4.ip_forward = 1`) in the namespace; a no-op when it is on.
    public func enableForwarding() async throws {
        guard let namespace else {
            let now = (try? String(contentsOfFile: Self.forwardingSysctl, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if now != "1" { try SystemCall.writeFile(Self.forwardingSysctl, Array("1\n".utf8)) }
            return
        }
        // /proc/sys/net shows the network namespace of whoever opens it, so the write runs inside.
        try await HostCommand(executable: ipPath, arguments: ["netns", "exec", namespace, teePath, Self.forwardingSysctl],
                              standardInput: Array("1\n".utf8)).checked()
    }

    /// Whether the namespace's iptables `FORWARD` policy is `DROP` (so routed pod traffic would be
    /// dropped). False when iptables is missing or cannot be read: this only feeds a warning.
    public func forwardPolicyDrops() async -> Bool {
        guard FileManager.default.isExecutableFile(atPath: iptablesPath) else { return false }
        let list = [iptablesPath, "-w", "5", "-S", "FORWARD"]
        let command = namespace.map { HostCommand(executable: ipPath, arguments: ["netns", "exec", $0] + list) }
            ?? HostCommand(executable: iptablesPath, arguments: Array(list.dropFirst()))
        guard let out = try? await command.run(), out.succeeded else { return false }
        return Self.forwardPolicyDrops(rules: out.stdoutText)
    }
}
