import Foundation
import Glibc
import OrcaCore

/// Starts containers under conmon the way CRI-O does.
///
/// `conmon` double-forks into a monitor that runs `runc create`, reports the container's PID on a
/// sync pipe (`_OCI_SYNCPIPE`, fd 3), copies the container's stdout/stderr into a CRI-format log
/// (`<RFC3339Nano> stdout F <line>`), and when the container exits writes its exit code (128+signal
/// for a signal) to `<exit-dir>/<id>` and `<persist-dir>/exit`, and an `oom` file into the persist
/// directory after an OOM kill in its memory cgroup. The caller then runs `runc start`.
public struct Conmon: Sendable {
    /// The conmon executable.
    public var binary: String
    /// The OCI runtime conmon runs (`-r`).
    public var runtimePath: String
    /// The runtime's state directory, passed as `--runtime-arg --root=<dir>`.
    public var runtimeRoot: String
    /// conmon's own log level (`--log-level`).
    public var logLevel: String

    public init(binary: String = "/usr/bin/conmon", runtimePath: String = Runc.findBinary(), runtimeRoot: String, logLevel: String = "error") {
        self.binary = binary
        self.runtimePath = runtimePath
        self.runtimeRoot = runtimeRoot
        self.logLevel = logLevel
    }

    /// One `conmon` invocation for `runc create`.
    public struct CreateOptions: Hashable, Sendable {
        /// The container ID (`-c` and `-u`).
        public var id: String
        /// The name conmon logs under (`-n`).
        public var name: String
        /// The OCI bundle (`-b`).
        public var bundle: String
        /// Where runc writes the container's init PID (`-p`).
        public var containerPidFile: String
        /// Where conmon writes its own PID (`-P`).
        public var conmonPidFile: String
        /// conmon writes `<exitDir>/<id>` holding the exit code (`--exit-dir`).
        public var exitDir: String
        /// The container's state directory: `exit` and `oom` files land here (`--persist-dir`); also conmon's cwd.
        public var persistDir: String
        /// The CRI log file (`-l k8s-file:<path>`).
        public var logPath: String
        /// Where conmon puts attach sockets (`--socket-dir-path`).
        public var socketDir: String
        /// runc's own log (`--runtime-arg --log=<path>`), if wanted.
        public var runtimeLogPath: String?
        /// The most bytes conmon writes to the log, if limited (`--log-size-max`).
        public var logSizeMax: Int64?
        /// Captures conmon's own stderr before it daemonises.
        public var stderrPath: String
        /// How long `runc create` may take before the launch is abandoned.
        public var timeout: Duration
        /// Standard input and terminal (`-i`, `-t`, `--leave-stdin-open`); nil: neither.
        public var stdio: ContainerConfig.Stdio?

        public init(id: String, name: String, bundle: String, containerPidFile: String, conmonPidFile: String,
                    exitDir: String, persistDir: String, logPath: String, socketDir: String,
                    runtimeLogPath: String? = nil, logSizeMax: Int64? = nil, stderrPath: String,
                    timeout: Duration = .seconds(60), stdio: ContainerConfig.Stdio? = nil) {
            self.id = id
            self.name = name
            self.bundle = bundle
            self.containerPidFile = containerPidFile
            self.conmonPidFile = conmonPidFile
            self.exitDir = exitDir
            self.persistDir = persistDir
            self.logPath = logPath
            self.socketDir = socketDir
            self.runtimeLogPath = runtimeLogPath
            self.logSizeMax = logSizeMax
            self.stderrPath = stderrPath
            self.timeout = timeout
            self.stdio = stdio
        }
    }

    /// What a successful `create` reports.
    public struct Created: Hashable, Sendable {
        /// The container's init process (waiting for `runc start`).
        public var containerPID: Int32
        /// The conmon monitor process.
        public var conmonPID: Int32
    }

    /// The command line for `options` (CRI-O's flags).
    public func arguments(_ o: CreateOptions) -> [String] {
        var args = [
            "--api-version", "1",
            "-c", o.id, "-u", o.id, "-n", o.name,
            "-r", runtimePath, "-b", o.bundle,
            "-p", o.containerPidFile, "-P", o.conmonPidFile,
            "--exit-dir", o.exitDir, "--persist-dir", o.persistDir,
            "-l", "k8s-file:\(o.logPath)", "--log-level", logLevel,
            "--socket-dir-path", o.socketDir,
            "--runtime-arg", "--root=\(runtimeRoot)",
        ]
        if let log = o.runtimeLogPath { args += ["--runtime-arg", "--log=\(log)", "--runtime-arg", "--log-format=json"] }
        if let max = o.logSizeMax { args += ["--log-size-max", String(max)] }
        if let stdio = o.stdio {
            if stdio.stdin { args.append("--stdin") }
            if stdio.stdin, !stdio.stdinOnce { args.append("--leave-stdin-open") }
            if stdio.tty { args.append("--terminal") }
        }
        return args
    }

    /// Runs conmon, waits for it to report that `runc create` finished, and returns the PIDs.
    ///
    /// Throws `runtimeError` with runc's message when creation fails, `timeout` when it hangs.
    public func create(_ options: CreateOptions) async throws -> Created {
        let argv = [binary] + arguments(options)
        let env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "_OCI_SYNCPIPE=3"]
        let timeoutMillis = Int32(clamping: options.timeout.components.seconds * 1000)
        let report: SyncReport = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    try Self.spawnAndWait(argv: argv, env: env, options: options, timeoutMillis: timeoutMillis)
                })
            }
        }
        let conmonPID = (try? String(contentsOfFile: options.conmonPidFile, encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        guard report.data > 0 else {
            var message = report.message ?? ""
            if message.isEmpty { message = (try? String(contentsOfFile: options.stderrPath, encoding: .utf8)) ?? "" }
            message = message.trimmingCharacters(in: .whitespacesAndNewlines)
            throw OrcaError(.runtimeError, "creating container \(options.id) failed: \(message.isEmpty ? "conmon exited without a report" : message)")
        }
        return Created(containerPID: report.data, conmonPID: conmonPID)
    }

    /// conmon's message on the sync pipe: `{"data": <pid or -1>, "message": "…"}`.
    struct SyncReport: Decodable, Sendable {
        var data: Int32
        var message: String?
    }
}
