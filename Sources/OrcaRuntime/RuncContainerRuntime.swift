import Foundation
import Glibc
import OrcaCore

/// The real container runtime: overlay root file systems, OCI bundles, conmon and runc.
///
/// Layout under the data directory: `containers/<id>/` is the bundle and the container's state
/// (`config.json`, `rootfs/` with the overlay mounted, `upper/`, `work/`, `container.json`, the
/// PID files, conmon's `exit` and `oom` files), `runc/` is runc's `--root`, `exits/` conmon's exit
/// directory and `sockets/` its attach sockets. Everything needed to adopt a container after an
/// agent restart is on disk.
public struct RuncContainerRuntime: ContainerRuntime {
    /// The data directory (e.g. `/var/lib/orca`).
    public var dataDirectory: String
    public var runc: Runc
    public var conmon: Conmon
    /// The clock for creation and start times.
    public var now: @Sendable () -> Date
    /// Sleeps while polling for an exit; injected so stop timing is testable.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// How often `stop` and `remove` look for an exit.
    public var pollInterval: Duration
    /// How long `stop` waits for the exit after SIGKILL before giving up.
    public var killTimeout: Duration

    /// Creates the runtime and its directories.
    ///
    /// With `reapMonitors` (the default), this process becomes a child subreaper
    /// (`PR_SET_CHILD_SUBREAPER`) so that conmon, which double-forks, is re-parented here and reaped
    /// by `state` and `remove` rather than left to PID 1.
    public init(
        dataDirectory: String,
        runcBinary: String = Runc.findBinary(),
        conmonBinary: String = "/usr/bin/conmon",
        runcRoot: String? = nil,
        runner: any CommandRunner = SubprocessCommandRunner(outputLimit: 1 << 20),
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        pollInterval: Duration = .milliseconds(20),
        killTimeout: Duration = .seconds(10),
        reapMonitors: Bool = true
    ) throws {
        self.dataDirectory = dataDirectory
        let root = runcRoot ?? "\(dataDirectory)/runc"
        self.runc = Runc(binary: runcBinary, root: root, runner: runner)
        self.conmon = Conmon(binary: conmonBinary, runtimePath: runcBinary, runtimeRoot: root)
        self.now = now
        self.sleep = sleep
        self.pollInterval = pollInterval
        self.killTimeout = killTimeout
        for dir in [containersDirectory, root, exitsDirectory, socketsDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        if reapMonitors { try Syscall.becomeChildSubreaper() }
    }

    var containersDirectory: String { "\(dataDirectory)/containers" }
    var exitsDirectory: String { "\(dataDirectory)/exits" }
    var socketsDirectory: String { "\(dataDirectory)/sockets" }

    /// The state directory (and OCI bundle) of container `id`.
    public func containerDirectory(_ id: String) -> String { "\(containersDirectory)/\(id)" }

    // MARK: - ContainerRuntime

    /// Mounts the overlay root file system, writes the bundle and runs `runc create` under conmon.
    /// On failure everything made so far is removed again. Throws `alreadyExists` for a known ID.
    public func create(_ config: ContainerConfig, logPath: String) async throws {
        let spec = try OCISpec(config)
        let dir = containerDirectory(config.id)
        guard !Syscall.exists(dir) else { throw OrcaError(.alreadyExists, "container \(config.id) already exists") }
        guard logPath.hasPrefix("/") else { throw OrcaError(.invalid, "log path \"\(logPath)\" is not absolute") }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: false)
        var record = ContainerRecord(config: config, logPath: logPath, createdAt: now())
        do {
            try record.save(to: dir)
            let bundle = OCIBundle(path: dir)
            try bundle.createDirectories()
            try Overlay(layers: config.rootfsLayers, upperDir: "\(dir)/upper", workDir: "\(dir)/work").mount(on: bundle.rootfsPath)
            try bundle.write(spec)
            try fm.createDirectory(atPath: (logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? fm.removeItem(atPath: "\(exitsDirectory)/\(config.id)")
            let created = try await conmon.create(Conmon.CreateOptions(
                id: config.id, name: config.name, bundle: dir,
                containerPidFile: "\(dir)/pidfile", conmonPidFile: "\(dir)/conmon.pid",
                exitDir: exitsDirectory, persistDir: dir, logPath: logPath, socketDir: socketsDirectory,
                runtimeLogPath: "\(dir)/runc.log", stderrPath: "\(dir)/conmon.stderr", stdio: config.stdio))
            record.conmonPID = created.conmonPID
            try record.save(to: dir)
        } catch {
            try? await discard(config.id, record: record)
            throw error
        }
    }

    /// `runc start`, recording the start time.
    public func start(_ id: String) async throws {
        let dir = containerDirectory(id)
        guard var record = try ContainerRecord.load(from: dir) else { throw notFound(id) }
        try await runc.start(id)
        record.startedAt = now()
        try record.save(to: dir)
    }

    /// The exit file first (exit code, its mtime as finish time, conmon's `oom` file), else `runc state`.
    public func state(_ id: String) async throws -> ContainerStatus {
        guard let record = try ContainerRecord.load(from: containerDirectory(id)) else { throw notFound(id) }
        return try await status(of: record)
    }

    /// The config's stop signal to the init process, then `runc kill --all SIGKILL` after `gracePeriod`;
    /// a created (never started) container is killed at once.
    public func stop(_ id: String, gracePeriod: Duration) async throws {
        guard let record = try ContainerRecord.load(from: containerDirectory(id)) else { throw notFound(id) }
        switch try await status(of: record) {
        case .exited, .unknown:
            return
        case .created:
            try? await runc.kill(id, signal: SIGKILL, .init(all: true))
        case .running:
            try? await runc.kill(id, signal: record.config.stopSignal)
            if try await waitForExit(id, upTo: gracePeriod) { return }
            try? await runc.kill(id, signal: SIGKILL, .init(all: true))
        }
        guard try await waitForExit(id, upTo: killTimeout) else {
            throw OrcaError(.timeout, "container \(id) did not exit after SIGKILL")
        }
    }

    /// `runc delete --force`, waits for and reaps conmon, unmounts the root file system, removes the
    /// container's cgroup, exit file and directory. The pod-level cgroup parent is the caller's (see `Cgroups.remove`).
    public func remove(_ id: String) async throws {
        try OCISpec.validateID(id)
        let record = try ContainerRecord.load(from: containerDirectory(id))
        try await discard(id, record: record)
    }

    /// Every container with a record under `containers/`, with its current status.
    public func list() async throws -> [ContainerInfo] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: containersDirectory)) ?? []
        var result: [ContainerInfo] = []
        for id in ids.sorted() {
            guard let record = try? ContainerRecord.load(from: containerDirectory(id)) else { continue }
            let status = (try? await status(of: record)) ?? .unknown
            result.append(ContainerInfo(config: record.config, logPath: record.logPath, createdAt: record.createdAt, status: status))
        }
        return result
    }

    // MARK: - Internals

    private func notFound(_ id: String) -> OrcaError { OrcaError(.notFound, "container \(id) not found") }

    /// The exit code conmon wrote, and when it wrote it.
    func exitFile(_ id: String) -> (code: Int32, at: Date)? {
        for path in ["\(exitsDirectory)/\(id)", "\(containerDirectory(id))/exit"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let code = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let at = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            else { continue }
            return (code, at)
        }
        return nil
    }

    private func status(of record: ContainerRecord) async throws -> ContainerStatus {
        let id = record.config.id
        if let exit = exitFile(id) {
            if let pid = record.conmonPID { Syscall.reapIfExited(pid) }
            let oom = Syscall.exists("\(containerDirectory(id))/oom")
            return .exited(exitCode: exit.code, startedAt: record.startedAt, finishedAt: exit.at, oomKilled: oom)
        }
        // A started container whose conmon still runs and has written no exit file is running:
        // no `runc state` process per container per sync (conmon writes the exit file before
        // it exits, so its being alive is authoritative).
        if let started = record.startedAt, let conmonPID = record.conmonPID, Syscall.isAlive(conmonPID),
           let pid = containerPID(id), Syscall.isAlive(pid) {
            return .running(pid: pid, startedAt: started)
        }
        let state: Runc.State
        do { state = try await runc.state(id) } catch let e as OrcaError where e.code == .notFound {
            return .unknown
        }
        switch state.status {
        case "creating", "created":
            return .created
        case "running", "paused":
            return .running(pid: state.pid, startedAt: record.startedAt ?? record.createdAt)
        default:
            // Stopped, but conmon has not written the exit file yet (it drains the logs first).
            if try await waitForExit(id, upTo: .seconds(2)), let exit = exitFile(id) {
                return .exited(exitCode: exit.code, startedAt: record.startedAt, finishedAt: exit.at,
                               oomKilled: Syscall.exists("\(containerDirectory(id))/oom"))
            }
            return .unknown
        }
    }

    /// The container's init process as runc recorded it in the bundle's pidfile.
    private func containerPID(_ id: String) -> Int32? {
        guard let text = try? String(contentsOfFile: "\(containerDirectory(id))/pidfile", encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Polls for the exit file; true once it exists.
    private func waitForExit(_ id: String, upTo limit: Duration) async throws -> Bool {
        var waited = Duration.zero
        while exitFile(id) == nil {
            guard waited < limit else { return false }
            try await sleep(pollInterval)
            waited += pollInterval
        }
        return true
    }

    /// Kills and deletes the runc container, waits for its monitor, unmounts the root file system,
    /// removes the cgroup and the container's directory and exit file.
    private func discard(_ id: String, record: ContainerRecord?) async throws {
        let dir = containerDirectory(id)
        do { try await runc.delete(id, .init(force: true)) } catch let e as OrcaError where e.code == .notFound {}
        let monitor = record?.conmonPID
            ?? (try? String(contentsOfFile: "\(dir)/conmon.pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if let monitor {
            var waited = Duration.zero
            while Syscall.isAlive(monitor), waited < killTimeout {
                try await sleep(pollInterval)
                waited += pollInterval
            }
            if Syscall.isAlive(monitor) {
                kill(monitor, SIGKILL)
                for _ in 0..<50 {
                    guard Syscall.isAlive(monitor) else { break }
                    try await sleep(pollInterval)
                }
            }
            Syscall.reapIfExited(monitor)
        }
        let rootfs = OCIBundle(path: dir).rootfsPath
        try Overlay.unmount(rootfs)
        if let cgroup = record?.config.cgroupsPath { try Cgroups.remove(cgroup) }
        guard !MountTable.isMountPoint(rootfs) else {
            throw OrcaError(.system, "\(rootfs) is still mounted; not removing container \(id)")
        }
        try? FileManager.default.removeItem(atPath: "\(exitsDirectory)/\(id)")
        try? FileManager.default.removeItem(atPath: "\(socketsDirectory)/\(id)")
        if Syscall.exists(dir) { try FileManager.default.removeItem(atPath: dir) }
    }
}
