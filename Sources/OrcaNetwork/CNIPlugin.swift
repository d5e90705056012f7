#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import OrcaCore

/// A client for one CNI plugin binary (`bridge`, `loopback`, `host-local`, `portmap` …).
///
/// Each call sets the CNI environment (`CNI_COMMAND`, `CNI_CONTAINERID`, `CNI_NETNS`, `CNI_IFNAME`,
/// `CNI_PATH`), writes the network configuration JSON on stdin and decodes the plugin's JSON answer.
/// A plugin error (`{code, msg, details}` with a nonzero exit) becomes an `OrcaError`
/// with code `.networkPlugin` carrying the plugin's message.
public struct CNIPlugin: Sendable {
    /// Where a plugin attaches: the runtime arguments of `ADD`, `DEL` and `CHECK`.
    public struct Attachment: Sendable, Hashable {
        /// `CNI_CONTAINERID`: the pod sandbox ID (letters, digits, `-`, `_`, `.`).
        public var containerID: String
        /// `CNI_NETNS`: the network namespace path; empty on a `DEL` whose namespace is gone.
        public var networkNamespace: String
        /// `CNI_IFNAME`: the interface name inside the namespace (`eth0`, `lo`).
        public var interfaceName: String
        /// `CNI_ARGS`: extra `KEY=VALUE` pairs, joined with `;`.
        public var args: [(String, String)]

        /// Creates an attachment.
        public init(containerID: String, networkNamespace: String, interfaceName: String, args: [(String, String)] = []) {
            self.containerID = containerID
            self.networkNamespace = networkNamespace
            self.interfaceName = interfaceName
            self.args = args
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.containerID == b.containerID && a.networkNamespace == b.networkNamespace
                && a.interfaceName == b.interfaceName && a.args.map { [$0.0, $0.1] } == b.args.map { [$0.0, $0.1] }
        }

        public func hash(into h: inout Hasher) {
            h.combine(containerID)
            h.combine(networkNamespace)
            h.combine(interfaceName)
            for (k, v) in args { h.combine(k); h.combine(v) }
        }
    }

    /// The plugin's binary name (the config's `type`).
    public var type: String
    /// Directories searched for plugins, in order; also passed as `CNI_PATH` for delegated plugins (IPAM).
    public var pluginDirectories: [String]
    /// Runs the binary.
    public var executor: any CNIPluginExecutor

    /// Creates a client for the plugin `type` found in `pluginDirectories`.
    public init(type: String, pluginDirectories: [String] = ["/usr/lib/cni"], executor: any CNIPluginExecutor = SubprocessCNIExecutor()) {
        self.type = type
        self.pluginDirectories = pluginDirectories
        self.executor = executor
    }

    /// `ADD`: attaches the namespace to the network and returns the plugin's result.
    public func add(config: JSONValue, attachment: Attachment) async throws -> CNIResult {
        let out = try await invoke(command: "ADD", config: config, attachment: attachment)
        do {
            return try JSONDecoder().decode(CNIResult.self, from: Data(out.standardOutput))
        } catch {
            throw OrcaError(.networkPlugin, "CNI plugin \(type) ADD: cannot decode result \(Self.excerpt(out.standardOutput))", cause: error)
        }
    }

    /// `DEL`: detaches the namespace and releases what `ADD` allocated. Deleting something already gone succeeds.
    public func delete(config: JSONValue, attachment: Attachment) async throws {
        _ = try await invoke(command: "DEL", config: config, attachment: attachment)
    }

    /// `CHECK`: verifies the attachment still matches the config; `config` must carry `prevResult`.
    public func check(config: JSONValue, attachment: Attachment) async throws {
        _ = try await invoke(command: "CHECK", config: config, attachment: attachment)
    }

    /// `VERSION`: the spec versions the plugin supports.
    public func version(cniVersion: String = "1.0.0") async throws -> CNIVersionInfo {
        let config: JSONValue = ["cniVersion": .string(cniVersion)]
        let out = try await invoke(command: "VERSION", config: config, attachment: nil)
        do {
            return try JSONDecoder().decode(CNIVersionInfo.self, from: Data(out.standardOutput))
        } catch {
            throw OrcaError(.networkPlugin, "CNI plugin \(type) VERSION: cannot decode \(Self.excerpt(out.standardOutput))", cause: error)
        }
    }

    /// The plugin's absolute path: the first directory holding an executable named `type`.
    public func pluginPath() throws -> String {
        guard !type.isEmpty, !type.contains("/") else {
            throw OrcaError(.invalid, "invalid CNI plugin type \"\(type)\"")
        }
        for dir in pluginDirectories {
            let path = dir.hasSuffix("/") ? dir + type : dir + "/" + type
            if access(path, X_OK) == 0 { return path }
        }
        throw OrcaError(.notFound, "CNI plugin \(type) not found in \(pluginDirectories.joined(separator: ":"))")
    }

    /// Runs one command; throws the plugin's error when it exits nonzero.
    func invoke(command: String, config: JSONValue, attachment: Attachment?) async throws -> CNIPluginOutput {
        let path = try pluginPath()
        var env: [String: String] = [
            "CNI_COMMAND": command,
            "CNI_PATH": pluginDirectories.joined(separator: ":"),
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        if let attachment {
            env["CNI_CONTAINERID"] = attachment.containerID
            env["CNI_NETNS"] = attachment.networkNamespace
            env["CNI_IFNAME"] = attachment.interfaceName
            if !attachment.args.isEmpty {
                env["CNI_ARGS"] = attachment.args.map { "\($0.0)=\($0.1)" }.joined(separator: ";")
            }
        }
        let out = try await executor.execute(pluginPath: path, environment: env, standardInput: config.encoded())
        guard out.exitCode == 0 else { throw pluginError(command: command, output: out) }
        return out
    }

    /// The `OrcaError` for a failed run: the JSON error's message when there is one, else stderr.
    func pluginError(command: String, output out: CNIPluginOutput) -> OrcaError {
        if let e = try? JSONDecoder().decode(CNIErrorResult.self, from: Data(out.standardOutput)) {
            var message = "CNI plugin \(type) \(command) failed: \(e.msg)"
            if let details = e.details, !details.isEmpty { message += ": \(details)" }
            message += " (code \(e.code))"
            return OrcaError(.networkPlugin, message, cause: PluginFailure(error: e, exitCode: out.exitCode))
        }
        let stderr = String(decoding: out.standardError, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let text = stderr.isEmpty ? Self.excerpt(out.standardOutput) : stderr
        return OrcaError(.networkPlugin, "CNI plugin \(type) \(command) exited \(out.exitCode): \(text)")
    }

    /// The decoded plugin error carried as an `OrcaError`'s cause.
    public struct PluginFailure: Error, Sendable, Hashable {
        /// The plugin's JSON error.
        public var error: CNIErrorResult
        /// The plugin's exit code.
        public var exitCode: Int32
    }

    static func excerpt(_ bytes: [UInt8]) -> String {
        let s = String(decoding: bytes.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? "(no output)" : s
    }
}
