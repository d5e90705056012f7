import Foundation
import OrcaCore

/// The `conntrack` binary (Debian `conntrack`), as the service proxy uses it: delete the
/// connection-tracking entries a filter matches, list them (for tests).
///
/// `namespace` points every command at a named network namespace (`ip netns exec <ns> conntrack …`),
/// for tests; nil is the agent's own namespace.
public struct Conntrack: Sendable {
    /// Which entries a command touches: IPv4 entries of one transport protocol, narrowed by the
    /// original destination and the reply source (the endpoint a DNAT chose).
    public struct Filter: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// `udp` or `sctp` (or `tcp`).
        public var transport: String
        /// `--orig-dst`: where the client sent (a service address).
        public var originalDestination: String?
        /// `--orig-port-dst`: the port it sent to (service port or node port).
        public var originalDestinationPort: Int?
        /// `--reply-src`: who answers (the endpoint's address after DNAT).
        public var replySource: String?
        /// `--reply-port-src`: the endpoint's port.
        public var replySourcePort: Int?
        /// `--dst-nat`: only entries whose destination was NATed.
        public var destinationNATed = false

        public init(transport: String, originalDestination: String? = nil, originalDestinationPort: Int? = nil,
                    replySource: String? = nil, replySourcePort: Int? = nil, destinationNATed: Bool = false) {
            self.transport = transport
            self.originalDestination = originalDestination
            self.originalDestinationPort = originalDestinationPort
            self.replySource = replySource
            self.replySourcePort = replySourcePort
            self.destinationNATed = destinationNATed
        }

        /// The command-line options, in a fixed order.
        public var arguments: [String] {
            var out = ["-f", "ipv4", "-p", transport]
            if let originalDestination { out += ["--orig-dst", originalDestination] }
            if let originalDestinationPort { out += ["--orig-port-dst", String(originalDestinationPort)] }
            if let replySource { out += ["--reply-src", replySource] }
            if let replySourcePort { out += ["--reply-port-src", String(replySourcePort)] }
            if destinationNATed { out.append("--dst-nat") }
            return out
        }

        public var description: String { arguments.joined(separator: " ") }

        public static func < (a: Filter, b: Filter) -> Bool { a.arguments.lexicographicallyPrecedes(b.arguments) }
    }

    /// The network namespace (as named by `ip netns`) to work in; nil: our own.
    public var namespace: String?
    /// The `conntrack` binary; nil when none is installed.
    public var conntrackPath: String?
    /// iproute2's `ip`, to enter `namespace`.
    public var ipPath: String

    /// The usual places of the binary.
    public static let searchPaths = ["/usr/sbin/conntrack", "/sbin/conntrack", "/usr/bin/conntrack"]

    /// Creates a client; `conntrackPath` defaults to the first binary found in the usual places
    /// (none: `isAvailable` is false).
    public init(namespace: String? = nil, conntrackPath: String? = nil, ipPath: String? = nil) {
        self.namespace = namespace
        self.conntrackPath = conntrackPath ?? Self.searchPaths.first { FileManager.default.isExecutableFile(atPath: $0) }
        self.ipPath = ipPath ?? NodeRoutes.firstExecutable(["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"])
    }

    /// Whether there is a binary to run.
    public var isAvailable: Bool { conntrackPath != nil }

    /// Deletes the entries `filter` matches (`conntrack -D`); returns how many there were.
    @discardableResult
    public func delete(_ filter: Filter) async throws -> Int {
        let out = try await command(["-D"] + filter.arguments).run()
        let message = out.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        // conntrack exits 1 when nothing matched; that is not a failure.
        guard let count = Self.count(in: message, verb: "deleted"), out.succeeded || count == 0 else {
            throw OrcaError(.system, "conntrack -D \(filter): \(message.isEmpty ? "exited \(out.exitCode)" : message)")
        }
        return count
    }

    /// The entries `filter` matches, one `conntrack -L` line each.
    public func list(_ filter: Filter) async throws -> [String] {
        let out = try await command(["-L"] + filter.arguments).run()
        guard out.succeeded else {
            let message = out.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw OrcaError(.system, "conntrack -L \(filter): \(message.isEmpty ? "exited \(out.exitCode)" : message)")
        }
        return out.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
    }

    // MARK: helpers

    /// N from conntrack's summary line `… N flow entries have been <verb>.`
    static func count(in message: String, verb: String) -> Int? {
        let marker = " flow entries have been \(verb)"
        for line in message.split(whereSeparator: \.isNewline) {
            guard let range = line.range(of: marker) else { continue }
            let digits = line[..<range.lowerBound].reversed().prefix { $0.isNumber }
            if let n = Int(String(digits.reversed())) { return n }
        }
        return nil
    }

    /// The `conntrack` command with `arguments`, inside `namespace` when set.
    func command(_ arguments: [String]) throws -> HostCommand {
        guard let conntrackPath else { throw OrcaError(.system, "no conntrack binary (Debian package conntrack)") }
        guard let namespace else { return HostCommand(executable: conntrackPath, arguments: arguments) }
        return HostCommand(executable: ipPath, arguments: ["netns", "exec", namespace, conntrackPath] + arguments)
    }
}
