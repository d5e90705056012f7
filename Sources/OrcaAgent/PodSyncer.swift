import Foundation
import Logging
import OrcaClient
import OrcaCore
import OrcaNetwork
import OrcaRuntime

/// The steps of one pod on this node: sandbox, pod files, volumes, then init containers one
/// at a time (sidecars started and kept running), then the app containers (restarted by
/// policy under back-off), and termination (`PodSyncer+Terminate`). Every step is idempotent,
/// so a sync can run again at any time — also after an agent restart. The pod's status goes
/// to the status manager, which writes it.
struct PodSyncer: PodWorkerSteps {
    let client: any APIClient
    let runtime: any ContainerRuntime
    let network: any PodNetworking
    let imageManager: ImageManager
    let podFiles: PodFiles
    let volumes: VolumeManager
    let envResolver: EnvironmentResolver
    let events: EventRecorder
    let probes: ProbeManager
    let statusManager: StatusManager
    let hooks: LifecycleHookRunner
    let paths: AgentPaths
    let nodeName: String
    let hostIP: String
    /// The sysctls this node lets pods set.
    let sysctls: SysctlAllowlist
    let clock: @Sendable () -> Date
    let logger = Logger(label: "orca.agent.pod")

    /// How long a postStart hook may run before the container is killed (Kubernetes sets no limit;
    /// one here keeps a hung hook from blocking the pod's worker for ever).
    static let postStartTimeout: TimeInterval = 120

    /// What a container needs from its pod's sandbox.
    struct Environment: Sendable {
        var sandbox: PodSandboxNetwork
        var files: PodFiles.Paths
        var volumes: [String: String]
    }

    /// Brings the pod toward its spec; returns the updated runtime state (also written to the
    /// pod's state file, for an agent restart) and whether the pod's status is Succeeded or
    /// Failed now (its worker then stops what still runs).
    func sync(_ pod: JSONValue, state input: PodRuntimeState) async -> (state: PodRuntimeState, terminal: Bool) {
        let result = await syncSteps(pod, state: input)
        var state = result.0
        persist(pod.metadataUID ?? "", &state)
        return (state, result.1)
    }

    func syncSteps(_ pod: JSONValue, state input: PodRuntimeState) async -> (PodRuntimeState, Bool) {
        var state = input
        let uid = pod.metadataUID ?? ""
        let podDir = paths.podDirectory(uid)
        if state.startTime == nil { state.startTime = pod[path: ["status", "startTime"]]?.stringValue ?? KubernetesTime.string(clock()) }
        if !state.warnedFields {
            state.warnedFields = true
            for w in PodSpecSupport.unsupportedFields(pod["spec"] ?? .null) {
                await events.record(pod, type: "Warning", reason: "UnsupportedField", message: w)
            }
        }
        // A pod the node cannot run as asked is rejected before anything starts (the kubelet's admission).
        if state.rejection == nil, state.sandbox == nil, state.containers.isEmpty, let message = sysctls.rejection(of: pod) {
            state.rejection = .init(SysctlAllowlist.forbiddenReason, message)
            await events.record(pod, type: "Warning", reason: SysctlAllowlist.forbiddenReason, message: message)
        }
        if state.rejection != nil {
            await reportStatus(pod, state)
            return (state, true)
        }
        // Past its active deadline the pod fails, and its worker stops what runs.
        if activeDeadlineExceeded(pod, state) {
            if pod[path: ["status", "reason"]]?.stringValue != "DeadlineExceeded" {
                await events.record(pod, type: "Normal", reason: "DeadlineExceeded", message: Self.deadlineExceededMessage)
            }
            await reportStatus(pod, state)
            return (state, true)
        }
        // Sandbox.
        if state.sandbox == nil {
            do {
                try FileManager.default.createDirectory(atPath: podDir, withIntermediateDirectories: true)
                if pod[path: ["spec", "hostNetwork"]]?.boolValue == true {
                    state.sandbox = try await network.setUpHostNetwork(podID: uid, hostIP: hostIP)
                } else {
                    state.sandbox = try await network.setUp(podID: uid, hostname: Self.hostname(pod))
                }
                logger.info("pod \(pod.metadataNamespace ?? "")/\(pod.metadataName ?? "") (\(uid)): sandbox \(state.sandbox?.podIP ?? "")")
            } catch {
                await events.record(pod, type: "Warning", reason: "FailedCreatePodSandBox", message: "Failed to create pod sandbox: \(error)")
                await reportStatus(pod, state)
                return (state, false)
            }
        }
        guard let sandbox = state.sandbox else { return (state, false) }
        var podWithIP = pod
        podWithIP[path: ["status", "podIP"]] = .string(sandbox.podIP)
        podWithIP[path: ["status", "podIPs"]] = [["ip": .string(sandbox.podIP)]]
        podWithIP[path: ["status", "hostIP"]] = .string(hostIP)
        // Pod files and volumes.
        let env: Environment
        do {
            // Written when their content changes, not at every sync (a container may be reading them).
            let filesSpec = Self.filesSpec(pod, ip: sandbox.podIP)
            let files: PodFiles.Paths
            if let written = state.podFiles, written.spec == filesSpec {
                files = written.paths
            } else {
                files = try podFiles.write(filesSpec, podDirectory: podDir)
                state.podFiles = (filesSpec, files)
            }
            let volumePaths = try await volumes.setUp(pod: podWithIP, podDir: podDir, known: state.volumePaths)
            state.volumePaths = volumePaths
            env = Environment(sandbox: sandbox, files: files, volumes: volumePaths)
        } catch {
            await events.record(pod, type: "Warning", reason: "FailedMount", message: "MountVolume.SetUp failed: \(error)")
            for c in PodContainer.all(pod) where state.containers[c.name]?.id == nil {
                state.containers[c.name, default: .init()].waiting = .init("ContainerCreating")
            }
            await reportStatus(pod, state)
            return (state, false)
        }
        let restartPolicy = pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always"
        // Init containers, one at a time; sidecars started in order and kept running.
        for c in PodContainer.initContainers(pod) {
            var rec = state.containers[c.name] ?? .init()
            defer { state.containers[c.name] = rec }
            if c.role == .initContainer && (state.initialized || Self.succeeded(rec)) { continue }
            await syncContainer(podWithIP, c, &rec, env: env, restartPolicy: c.restartPolicy(pod: restartPolicy))
            switch c.role {
            case .sidecar where isStarted(c, rec): continue
            case .initContainer where Self.succeeded(rec): continue
            case .sidecar, .initContainer, .app, .ephemeral:
                break
            }
            if !state.initialized { break }
        }
        if !state.initialized {
            state.initialized = PodContainer.initContainers(pod).allSatisfy { c in
                let rec = state.containers[c.name] ?? .init()
                return c.role == .sidecar ? isStarted(c, rec) : Self.succeeded(rec)
            }
        }
        // App containers, once initialized.
        if state.initialized {
            for c in PodContainer.appContainers(pod) {
                var rec = state.containers[c.name] ?? .init()
                await syncContainer(podWithIP, c, &rec, env: env, restartPolicy: restartPolicy)
                state.containers[c.name] = rec
            }
            // Ephemeral containers (kubectl debug): started once each, never restarted.
            for c in PodContainer.ephemeralContainers(pod) {
                var rec = state.containers[c.name] ?? .init()
                await syncContainer(podWithIP, c, &rec, env: env, restartPolicy: c.restartPolicy(pod: restartPolicy))
                state.containers[c.name] = rec
            }
        }
        let status = computeStatus(podWithIP, state)
        await statusManager.setStatus(PodReference(pod), status, apiStatus: pod["status"])
        // Terminal: the app containers are done for good; the worker stops sidecars (and anything left).
        return (state, Self.isTerminal(status))
    }

    /// Whether a container counts as started: it runs (and its startup probe, if any, succeeded).
    func isStarted(_ c: PodContainer, _ rec: PodRuntimeState.Container) -> Bool {
        rec.id != nil && rec.terminated == nil && rec.waiting == nil && rec.startedAt != nil
            && (c.spec["startupProbe"]?.objectValue == nil || rec.probes[.startup] == .success)
    }

    /// Whether a running, started container is ready (its readiness probe, if any, succeeds).
    func isReady(_ c: PodContainer, _ rec: PodRuntimeState.Container) -> Bool {
        c.spec["readinessProbe"]?.objectValue == nil || rec.probes[.readiness] == .success
    }

    /// Whether the current instance exited with code 0.
    static func succeeded(_ rec: PodRuntimeState.Container) -> Bool {
        rec.id != nil && rec.waiting == nil && rec.terminated?["exitCode"]?.intValue == 0
    }

    static func isTerminal(_ status: JSONValue) -> Bool {
        let phase = status["phase"]?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    /// The pod's hostname: `spec.hostname` or its name (at most 63 characters); a `hostNetwork`
    /// pod shares the node's UTS namespace and has the node's.
    static func hostname(_ pod: JSONValue) -> String {
        if pod[path: ["spec", "hostNetwork"]]?.boolValue == true, let node = HostInfo.hostname() { return node }
        let h = pod[path: ["spec", "hostname"]]?.stringValue ?? pod.metadataName ?? "pod"
        return String(h.prefix(63))
    }


    static func date(_ s: String?) -> Date? { KubernetesTime.date(s) }

    /// How long an exited instance ran, from its `state.terminated`.
    static func ranFor(_ terminated: JSONValue?) -> TimeInterval {
        guard let t = terminated, let s = date(t["startedAt"]?.stringValue), let f = date(t["finishedAt"]?.stringValue) else { return 0 }
        return max(0, f.timeIntervalSince(s))
    }
}
