import Foundation
import OrcaCore

/// The `nft` binary (nftables), as the service proxy uses it: apply a script as one
/// transaction, check one, list and delete a table.
///
/// `namespace` points every command at a named network namespace (`ip netns exec <ns> nft …`),
/// for tests; nil is the agent's own namespace.
public struct NFTables: Sendable {
    /// An nftables address family.
    public enum Family: String, Sendable, Hashable, CaseIterable {
        case ip, ip6, inet, arp, bridge, netdev
    }

    /// The network namespace (as named by `ip netns`) to work in; nil: our own.
    public var namespace: String?
    /// The `nft` binary.
    public var nftPath: String
    /// iproute2's `ip`, to enter `namespace`.
    public var ipPath: String

    /// Creates a client; binaries default to the first found in the usual places.
    public init(namespace: String? = nil, nftPath: String? = nil, ipPath: String? = nil) {
        self.namespace = namespace
        self.nftPath = nftPath ?? NodeRoutes.firstExecutable(["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"])
        self.ipPath = ipPath ?? NodeRoutes.firstExecutable(["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"])
    }

    /// The most of nft's error output kept in a thrown error.
    static let messageLimit = 4000

    /// Applies `script` with `nft -f -`: one transaction, all of it or (on any error) none of it.
    /// Throws with nft's message when it is refused.
    public func apply(_ script: String) async throws {
        try await checked(["-f", "-"], input: script, what: "apply the nftables script")
    }

    /// Checks `script` with `nft -c -f -` (parsed and validated by the kernel, not committed).
    public func check(_ script: String) async throws {
        try await checked(["-c", "-f", "-"], input: script, what: "check the nftables script")
    }

    /// Deletes a table; returns false when there was none.
    @discardableResult
    public func deleteTable(family: Family = .ip, name: String) async throws -> Bool {
        let out = try await command(["delete", "table", family.rawValue, name]).run()
        if out.succeeded { return true }
        let message = out.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        if Self.isNoSuchObject(message) { return false }
        throw OrcaError(.system, "cannot delete nftables table \(family.rawValue) \(name): \(Self.trimmed(message, code: out.exitCode))")
    }

    /// The table as `nft list table` prints it; nil when there is no such table.
    public func listTable(family: Family = .ip, name: String) async throws -> String? {
        let out = try await command(["list", "table", family.rawValue, name]).run()
        if out.succeeded { return out.stdoutText }
        let message = out.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        if Self.isNoSuchObject(message) { return nil }
        throw OrcaError(.system, "cannot list nftables table \(family.rawValue) \(name): \(Self.trimmed(message, code: out.exitCode))")
    }

    /// Whether the table exists (`nft list tables <family>`, which prints names only).
    public func hasTable(family: Family = .ip, name: String) async throws -> Bool {
        let out = try await command(["list", "tables", family.rawValue]).checked()
        return Self.tableNames(in: out.stdoutText, family: family).contains(name)
    }

    // MARK: helpers

    /// The names in `nft list tables` output (`table ip NAME` lines).
    static func tableNames(in listing: String, family: Family) -> [String] {
        listing.split(whereSeparator: \.isNewline).compactMap { line in
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "table", words[1] == family.rawValue else { return nil }
            return String(words[2])
        }
    }

    /// Whether nft's error says the object is not there (`No such file or directory`, ENOENT).
    static func isNoSuchObject(_ message: String) -> Bool {
        message.contains("No such file or directory")
    }

    static func trimmed(_ message: String, code: Int32) -> String {
        if message.isEmpty { return "nft exited \(code)" }
        return message.count > messageLimit ? String(message.prefix(messageLimit)) + "…" : message
    }

    /// The `nft` command with `arguments`, inside `namespace` when set.
    func command(_ arguments: [String], input: String = "") -> HostCommand {
        let stdin = Array(input.utf8)
        guard let namespace else { return HostCommand(executable: nftPath, arguments: arguments, standardInput: stdin) }
        return HostCommand(executable: ipPath, arguments: ["netns", "exec", namespace, nftPath] + arguments, standardInput: stdin)
    }

    func checked(_ arguments: [String], input: String, what: String) async throws {
        let out = try await command(arguments, input: input).run()
        guard out.succeeded else {
            let message = out.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw OrcaError(.system, "cannot \(what): \(Self.trimmed(message, code: out.exitCode))")
        }
    }
}
