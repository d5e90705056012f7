import Foundation
import OrcaCore

extension Runc {
    /// Options of `runc exec`: the process runs with the container's `config.json` process
    /// (environment, working directory, user, capabilities) with these overrides.
    public struct ExecOptions: Hashable, Sendable {
        /// `--tty`: give the process a terminal (runc needs a terminal on its own stdio then).
        public var tty: Bool
        /// `--cwd`: the working directory, if not the container's.
        public var workingDirectory: String?
        /// `--env`: extra `KEY=value` entries.
        public var environment: [String]
        /// `--user uid[:gid]`, if not the container's.
        public var user: String?
        /// `--pid-file`: where runc writes the process's host PID.
        public var pidFile: String?
        /// runc's own log (`--log`), so its errors do not mix with the process's stderr.
        public var logPath: String?
        /// `--process`: an OCI process JSON file replacing the container's process (and the command).
        public var processPath: String?

        public init(tty: Bool = false, workingDirectory: String? = nil, environment: [String] = [],
                    user: String? = nil, pidFile: String? = nil, logPath: String? = nil, processPath: String? = nil) {
            self.tty = tty
            self.workingDirectory = workingDirectory
            self.environment = environment
            self.user = user
            self.pidFile = pidFile
            self.logPath = logPath
            self.processPath = processPath
        }
    }

    /// The full command line (binary first) of `runc exec` for `command` in container `id`.
    public func execArguments(_ id: String, _ command: [String], _ options: ExecOptions = .init()) -> [String] {
        var args = [binary, "--root", root]
        if let log = options.logPath { args += ["--log", log] }
        args += ["--log-format", "json", "exec"]
        if options.tty { args.append("--tty") }
        if let cwd = options.workingDirectory { args += ["--cwd", cwd] }
        for e in options.environment { args += ["--env", e] }
        if let user = options.user { args += ["--user", user] }
        if let pidFile = options.pidFile { args += ["--pid-file", pidFile] }
        if let process = options.processPath { return args + ["--process", process, id] }
        return args + [id] + command
    }

    /// `runc exec <id> <command…>` to completion, collecting its output (probes, hooks). The
    /// process's exit code is the result's; runc's own failures (no such container, no such
    /// executable) exit 255 with runc's message on stderr.
    public func exec(_ id: String, _ command: [String], _ options: ExecOptions = .init()) async throws -> CommandResult {
        precondition(!options.tty, "a terminal needs the streaming exec")
        let argv = execArguments(id, command, options)
        return try await runner.run(argv[0], Array(argv.dropFirst()), environment: nil)
    }
}
