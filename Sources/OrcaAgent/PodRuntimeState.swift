import Foundation
import OrcaClient
import OrcaNetwork

/// What the agent knows about one pod between syncs: its sandbox and each container's
/// current instance, restarts and back-off.
struct PodRuntimeState: Sendable {
    struct Container: Sendable {
        /// The runtime ID of the current instance (nil if none could be created).
        var id: String?
        /// The instance number; the log file is `<attempt>.log`.
        var attempt: Int = 0
        var restartCount: Int = 0
        /// `state.terminated` of the previous instance (becomes `lastState`).
        var lastTerminated: JSONValue?
        /// `state.terminated` of the current instance once it exited.
        var terminated: JSONValue?
        var startedAt: String?
        /// A waiting reason that blocks creation (config error, image error, back-off).
        var waiting: (reason: String, message: String)?
        /// When a restart may happen (back-off), and the current back-off.
        var restartAfter: Date?
        var backoff: TimeInterval = 0
        var imageID: String = ""
        /// The instance has been reported as started (events sent).
        var announced = false
    }

    var sandbox: PodSandboxNetwork?
    var containers: [String: Container] = [:]
    var startTime: String?
    var lastStatus: JSONValue?
    var warnedFields = false
}
