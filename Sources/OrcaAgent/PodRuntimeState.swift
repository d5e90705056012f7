import Foundation
import OrcaClient
import OrcaNetwork

/// What the agent knows about one pod between syncs: its sandbox and each container's
/// current instance, restarts and back-off.
struct PodRuntimeState: Sendable {
    /// Why a container does not run (`state.waiting`).
    struct Waiting: Codable, Hashable, Sendable {
        var reason: String
        var message: String
        init(_ reason: String, _ message: String = "") {
            self.reason = reason
            self.message = message
        }
    }

    struct Container: Codable, Sendable {
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
        var waiting: Waiting?
        /// The crash-loop back-off between restarts.
        var backoff = RestartBackoff()
        var imageID: String = ""
        /// The image pull back-off (`ImagePullBackOff`).
        var pullBackoff = ImagePullBackoff()
        /// The published probe results of the current instance (not persisted: probes start
        /// over after an agent restart, as the kubelet's do).
        var probes: [ProbeKind: ProbeResult] = [:]

        enum CodingKeys: String, CodingKey {
            case id, attempt, restartCount, lastTerminated, terminated, startedAt, waiting, backoff, imageID, pullBackoff
        }
    }

    var sandbox: PodSandboxNetwork?
    var containers: [String: Container] = [:]
    /// Every regular init container succeeded and every sidecar started (init never runs again).
    var initialized = false
    var startTime: String?
    var warnedFields = false
    /// Why the node refused to run the pod (reason and message), as the kubelet's admission
    /// rejects one: the pod fails before anything of it starts.
    var rejection: Waiting?
    /// The pod files last written (with what they were made from), and the volumes' host
    /// paths from the last set-up: neither is redone while it stays the same.
    var podFiles: (spec: PodFilesSpec, paths: PodFiles.Paths)?
    var volumePaths: [String: String] = [:]
    /// What was last written to the pod's state file.
    var persisted: Data?
}

/// What of a pod's runtime state survives an agent restart, in `<data-dir>/pods/<uid>/agent-state.json`:
/// restart counts, last states, back-offs and whether init finished. Running containers are
/// found again in the runtime; this adds what the runtime does not know.
struct PodStateFile: Codable, Sendable {
    var containers: [String: PodRuntimeState.Container]
    var initialized: Bool
    var startTime: String?

    static let fileName = "agent-state.json"

    init(_ state: PodRuntimeState) {
        containers = state.containers
        initialized = state.initialized
        startTime = state.startTime
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    static func load(podDirectory: String) -> PodStateFile? {
        guard let data = FileManager.default.contents(atPath: "\(podDirectory)/\(fileName)") else { return nil }
        return try? JSONDecoder().decode(PodStateFile.self, from: data)
    }

    /// The runtime state it describes (no sandbox yet: the sync sets it up again, adopting the existing one).
    var state: PodRuntimeState {
        var s = PodRuntimeState()
        s.containers = containers
        s.initialized = initialized
        s.startTime = startTime
        return s
    }
}
