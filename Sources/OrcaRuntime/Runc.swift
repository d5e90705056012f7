import Foundation
import OrcaCore

/// A client for the runc binary: one method and one options struct per subcommand, JSON output
/// decoded into types, errors (runc's JSON log lines on stderr) turned into `OrcaError`.
///
/// Every call passes `--root` (runc's state directory) and `--log-format json`.
public struct Runc: Sendable {
    /// The runc executable.
    public var binary: String
    /// runc's state directory (`--root`), e.g. `<data-dir>/runc`.
    public var root: String
    /// Runs the binary.
    public var runner: any CommandRunner

    public init(binary: String = Runc.findBinary(), root: String, runner: any CommandRunner = SubprocessCommandRunner()) {
        self.binary = binary
        self.root = root
        self.runner = runner
    }

    /// The first runc found in the usual places (Debian installs it in `/usr/sbin`).
    public static func findBinary() -> String {
        let candidates = ["/usr/bin/runc", "/usr/sbin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/runc"
    }

    /// What `runc state` and `runc list` report about a container.
    public struct State: Codable, Hashable, Sendable {
        public var ociVersion: String?
        public var id: String
        /// The container's init process, 0 once stopped.
        public var pid: Int32
        /// `creating`, `created`, `running`, `paused` or `stopped`.
        public var status: String
        public var bundle: String
        public var rootfs: String?
        /// RFC 3339 creation time.
        public var created: String?
        public var annotations: [String: String]?
    }

    /// Options of `runc state` (none yet).
    public struct StateOptions: Sendable { public init() {} }

    /// `runc state <id>`; throws `notFound` for an unknown container.
    public func state(_ id: String, _ options: StateOptions = .init()) async throws -> State {
        let out = try await invoke(["state", id])
        return try decode(State.self, out.standardOutput, "runc state \(id)")
    }

    /// Options of `runc start` (none yet).
    public struct StartOptions: Sendable { public init() {} }

    /// `runc start <id>`: runs the user process of a created container.
    public func start(_ id: String, _ options: StartOptions = .init()) async throws {
        try await invoke(["start", id])
    }

    /// Options of `runc kill`.
    public struct KillOptions: Sendable {
        /// `--all`: signal every process of the container, not only its init.
        public var all: Bool
        public init(all: Bool = false) { self.all = all }
    }

    /// `runc kill [--all] <id> <signal>`.
    public func kill(_ id: String, signal: Int32, _ options: KillOptions = .init()) async throws {
        try await invoke(["kill"] + (options.all ? ["--all"] : []) + [id, String(signal)])
    }

    /// Options of `runc delete`.
    public struct DeleteOptions: Sendable {
        /// `--force`: kill a running container first.
        public var force: Bool
        public init(force: Bool = false) { self.force = force }
    }

    /// `runc delete [--force] <id>`: removes runc's state and the container's cgroup.
    public func delete(_ id: String, _ options: DeleteOptions = .init()) async throws {
        try await invoke(["delete"] + (options.force ? ["--force"] : []) + [id])
    }

    /// Options of `runc list` (none yet; the format is always JSON).
    public struct ListOptions: Sendable { public init() {} }

    /// `runc list --format json`: every container under `root`.
    public func list(_ options: ListOptions = .init()) async throws -> [State] {
        let out = try await invoke(["list", "--format", "json"])
        let text = String(decoding: out.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty || text == "null" { return [] }
        return try decode([State].self, out.standardOutput, "runc list")
    }

    /// Runs `runc --root <root> --log-format json <args>`; a nonzero exit becomes an `OrcaError`
    /// (`notFound` when runc says the container does not exist).
    @discardableResult
    func invoke(_ arguments: [String]) async throws -> CommandResult {
        let result = try await runner.run(binary, ["--root", root, "--log-format", "json"] + arguments, environment: nil)
        guard result.exitCode == 0 else {
            let message = Self.errorMessage(result.standardError)
            let code: OrcaError.Code = message.contains("does not exist") || message.contains("not exist") ? .notFound : .runtimeError
            throw OrcaError(code, "runc \(arguments.joined(separator: " ")): \(message)")
        }
        return result
    }

    /// The `msg` of runc's JSON log lines on stderr (the last error line), or the raw text.
    static func errorMessage(_ stderr: [UInt8]) -> String {
        struct Line: Decodable { var level: String?; var msg: String? }
        let lines = String(decoding: stderr, as: UTF8.self).split(whereSeparator: \.isNewline)
        let messages = lines.compactMap { line -> (String?, String)? in
            guard let l = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)), let msg = l.msg else { return nil }
            return (l.level, msg)
        }
        if let err = messages.last(where: { $0.0 == "error" || $0.0 == "fatal" }) ?? messages.last { return err.1 }
        return lines.joined(separator: "; ")
    }

    private func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ what: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw OrcaError(.runtimeError, "\(what): unexpected output", cause: error)
        }
    }
}
