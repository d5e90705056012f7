import Foundation

/// Where a container is in its life, with what is known in that state.
public enum ContainerStatus: Hashable, Sendable {
    /// Created (its process waits for `start`).
    case created
    /// Its process runs.
    case running(pid: Int32, startedAt: Date)
    /// Its process ended: the exit code (128 + signal when killed), when it started (nil if it
    /// never did), when it finished, and whether the kernel's OOM killer ended it.
    case exited(exitCode: Int32, startedAt: Date?, finishedAt: Date, oomKilled: Bool)
    /// The runtime has a record of it but cannot tell its state (e.g. its monitor died).
    case unknown
}

/// A container the runtime knows, as listed (for example to adopt containers after an agent restart).
public struct ContainerInfo: Hashable, Sendable {
    /// The configuration it was created with (its annotations identify the pod).
    public var config: ContainerConfig
    /// Its CRI log file.
    public var logPath: String
    /// When it was created.
    public var createdAt: Date
    public var status: ContainerStatus

    public init(config: ContainerConfig, logPath: String, createdAt: Date, status: ContainerStatus) {
        self.config = config
        self.logPath = logPath
        self.createdAt = createdAt
        self.status = status
    }

    /// The container ID.
    public var id: String { config.id }
}

/// The container runtime the node agent drives: the swappable boundary between the agent and
/// runc + conmon (`RuncContainerRuntime`), or a fake for hollow nodes and tests.
///
/// State lives with the runtime (on disk for the real one), so a restarted agent can `list()` and
/// adopt running containers instead of restarting them.
public protocol ContainerRuntime: Sendable {
    /// Creates the container (root file system, bundle, monitor, `runc create`); its process does
    /// not run until `start`. stdout/stderr go to `logPath` in the CRI log format.
    func create(_ config: ContainerConfig, logPath: String) async throws
    /// Runs the created container's process.
    func start(_ id: String) async throws
    /// The container's current status; throws `notFound` for an unknown ID.
    func state(_ id: String) async throws -> ContainerStatus
    /// Sends the stop signal, waits up to `gracePeriod` for the process to exit, then SIGKILLs
    /// every process of the container and waits for the exit. A no-op for an exited container.
    func stop(_ id: String, gracePeriod: Duration) async throws
    /// Removes the container, killing it if it still runs, with everything the runtime made for it.
    /// Removing an unknown ID is not an error.
    func remove(_ id: String) async throws
    /// Every container the runtime knows.
    func list() async throws -> [ContainerInfo]
    /// Makes the running container's monitor close its log file and open `logPath` anew
    /// (CRI's `ReopenContainerLog`), after the log was renamed for rotation. Throws if the
    /// monitor cannot be asked (e.g. the container is not running).
    func reopenLog(_ id: String) async throws
}

extension ContainerRuntime {
    /// A runtime that keeps no log file open (a fake one) has nothing to reopen.
    public func reopenLog(_ id: String) async throws {}
}
