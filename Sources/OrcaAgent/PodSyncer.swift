import Foundation
import Logging
import OrcaClient
import OrcaNetwork
import OrcaRuntime

/// The steps of one pod on this node: sandbox, pod files, volumes, images and
/// containers (started, restarted by policy with back-off), and termination. Every step
/// is idempotent, so a sync can run again at any time.
struct PodSyncer: Sendable {
    let client: any APIClient
    let runtime: any ContainerRuntime
    let network: any PodNetworking
    let images: ImageStore
    let podFiles: PodFiles
    let volumes: VolumeManager
    let envResolver: EnvironmentResolver
    let events: EventRecorder
    let paths: AgentPaths
    let nodeName: String
    let hostIP: String
    let clock: @Sendable () -> Date
    let logger = Logger(label: "orca.agent.pod")

    static let maxBackoff: TimeInterval = 300
    static let initialBackoff: TimeInterval = 10

    /// Brings the pod toward its spec; returns the updated runtime state.
    func sync(_ pod: JSONValue, state input: PodRuntimeState) async -> PodRuntimeState {
        var state = input
        let uid = pod.metadataUID ?? ""
        let podDir = paths.podDirectory(uid)
        if state.startTime == nil { state.startTime = Self.timestamp(clock()) }
        if !state.warnedFields {
            state.warnedFields = true
            for w in PodSpecSupport.unsupportedFields(pod["spec"] ?? .null) {
                await events.record(pod, type: "Warning", reason: "UnsupportedField", message: w)
            }
        }
        let phase = pod[path: ["status", "phase"]]?.stringValue
        if phase == "Succeeded" || phase == "Failed" {
            await reportStatus(pod, &state)
            return state
        }
        // Sandbox.
        if state.sandbox == nil {
            do {
                try FileManager.default.createDirectory(atPath: podDir, withIntermediateDirectories: true)
                let hostname = Self.hostname(pod)
                state.sandbox = try await network.setUp(podID: uid, hostname: hostname)
            } catch {
                await events.record(pod, type: "Warning", reason: "FailedCreatePodSandBox", message: "Failed to create pod sandbox: \(error)")
                await reportStatus(pod, &state)
                return state
            }
        }
        guard let sandbox = state.sandbox else { return state }
        var podWithIP = pod
        podWithIP[path: ["status", "podIP"]] = .string(sandbox.podIP)
        podWithIP[path: ["status", "podIPs"]] = [["ip": .string(sandbox.podIP)]]
        podWithIP[path: ["status", "hostIP"]] = .string(hostIP)
        // Pod files and volumes.
        let filePaths: PodFiles.Paths
        let volumePaths: [String: String]
        do {
            filePaths = try podFiles.write(Self.filesSpec(pod, ip: sandbox.podIP), podDirectory: podDir)
            volumePaths = try await volumes.setUp(pod: podWithIP, podDir: podDir)
        } catch {
            await events.record(pod, type: "Warning", reason: "FailedMount", message: "MountVolume.SetUp failed: \(error)")
            for c in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
                let name = c["name"]?.stringValue ?? ""
                if state.containers[name]?.id == nil {
                    state.containers[name, default: .init()].waiting = ("ContainerCreating", "")
                }
            }
            await reportStatus(pod, &state)
            return state
        }
        let restartPolicy = pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always"
        for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            let name = container["name"]?.stringValue ?? ""
            var rec = state.containers[name] ?? .init()
            await syncContainer(podWithIP, container, &rec, sandbox: sandbox, files: filePaths, volumes: volumePaths, restartPolicy: restartPolicy)
            state.containers[name] = rec
        }
        await reportStatus(podWithIP, &state)
        return state
    }

    func syncContainer(_ pod: JSONValue, _ container: JSONValue, _ rec: inout PodRuntimeState.Container,
                       sandbox: PodSandboxNetwork, files: PodFiles.Paths, volumes: [String: String], restartPolicy: String) async {
        let name = container["name"]?.stringValue ?? ""
        let fieldPath = "spec.containers{\(name)}"
        if let id = rec.id {
            let status = (try? await runtime.state(id)) ?? .unknown
            switch status {
            case .running(_, let startedAt):
                rec.startedAt = rec.startedAt ?? Self.timestamp(startedAt)
                rec.terminated = nil
                return
            case .created:
                do { try await runtime.start(id); return } catch {
                    rec.terminated = startError(error, id: id)
                }
            case .exited(let code, let startedAt, let finishedAt, let oom):
                if rec.terminated == nil {
                    rec.terminated = terminatedState(pod, container, rec, id: id, code: code, startedAt: startedAt, finishedAt: finishedAt, oom: oom)
                }
            case .unknown:
                if rec.terminated == nil {
                    rec.terminated = ["exitCode": 137, "reason": "Error", "message": "container disappeared", "containerID": .string("runc://\(id)")]
                }
            }
            // The instance has exited: restart by policy.
            let code = rec.terminated?["exitCode"]?.intValue ?? 0
            let restart = restartPolicy == "Always" || (restartPolicy == "OnFailure" && code != 0)
            guard restart else { return }
            let now = clock()
            if let after = rec.restartAfter {
                if now < after {
                    rec.waiting = ("CrashLoopBackOff", "back-off \(Int(rec.backoff))s restarting failed container=\(name) pod=\(pod.metadataName ?? "")_\(pod.metadataNamespace ?? "")(\(pod.metadataUID ?? ""))")
                    return
                }
            } else {
                // Back-off: the first restart waits 10 s, doubling up to 5 min; reset after 10 min of running.
                let ranFor = rec.terminated.flatMap { t -> TimeInterval? in
                    guard let s = Self.date(t["startedAt"]?.stringValue), let f = Self.date(t["finishedAt"]?.stringValue) else { return nil }
                    return f.timeIntervalSince(s)
                } ?? 0
                rec.backoff = ranFor > 600 || rec.backoff == 0 ? Self.initialBackoff : min(rec.backoff * 2, Self.maxBackoff)
                if rec.restartCount == 0 && ranFor <= 600 { rec.backoff = Self.initialBackoff }
                rec.restartAfter = now.addingTimeInterval(rec.restartCount == 0 ? 0 : rec.backoff)
                if rec.restartCount > 0 {
                    rec.waiting = ("CrashLoopBackOff", "back-off \(Int(rec.backoff))s restarting failed container=\(name) pod=\(pod.metadataName ?? "")_\(pod.metadataNamespace ?? "")(\(pod.metadataUID ?? ""))")
                    await events.record(pod, type: "Warning", reason: "BackOff", message: "Back-off restarting failed container \(name) in pod \(pod.metadataName ?? "")_\(pod.metadataNamespace ?? "")(\(pod.metadataUID ?? ""))", fieldPath: fieldPath)
                    return
                }
            }
            try? await runtime.remove(id)
            rec.lastTerminated = rec.terminated
            rec.terminated = nil
            rec.restartAfter = nil
            rec.restartCount += 1
            rec.attempt += 1
            rec.id = nil
            rec.startedAt = nil
            rec.announced = false
        }
        await createAndStart(pod, container, &rec, sandbox: sandbox, files: files, volumes: volumes)
    }

    func createAndStart(_ pod: JSONValue, _ container: JSONValue, _ rec: inout PodRuntimeState.Container,
                        sandbox: PodSandboxNetwork, files: PodFiles.Paths, volumes: [String: String]) async {
        let name = container["name"]?.stringValue ?? ""
        let fieldPath = "spec.containers{\(name)}"
        let imageRef = container["image"]?.stringValue ?? ""
        let image: Image
        do {
            guard let found = try images.image(imageRef) else {
                let never = container["imagePullPolicy"]?.stringValue == "Never"
                let reason = never ? "ErrImageNeverPull" : "ImagePullBackOff"
                let message = never ? "Container image \"\(imageRef)\" is not present with pull policy of Never"
                    : "Back-off pulling image \"\(imageRef)\": image not found in the local store (pulling from registries is not implemented yet)"
                if rec.waiting?.reason != reason {
                    await events.record(pod, type: "Warning", reason: never ? "ErrImageNeverPull" : "Failed", message: message, fieldPath: fieldPath)
                }
                rec.waiting = (reason, message)
                return
            }
            image = found
        } catch {
            rec.waiting = ("InvalidImageName", "Failed to apply default image tag \"\(imageRef)\": \(error)")
            return
        }
        rec.imageID = "\(image.name.split(separator: ":").dropLast().joined(separator: ":"))@\(image.manifestDigest)"
        let env: [(String, String)]
        do {
            env = try await envResolver.resolve(pod: pod, container: container)
        } catch {
            let message = "Error: \(error)"
            if rec.waiting?.message != message {
                await events.record(pod, type: "Warning", reason: "Failed", message: message, fieldPath: fieldPath)
            }
            rec.waiting = ("CreateContainerConfigError", message)
            return
        }
        let uid = pod.metadataUID ?? ""
        let id = "\(uid.prefix(13))-\(name)-\(rec.attempt)"
        let logPath = paths.containerLogPath(pod, container: name, attempt: rec.attempt)
        do {
            let config = try buildConfig(pod, container, image: image, env: env, id: id, sandbox: sandbox, files: files, volumes: volumes, attempt: rec.attempt)
            try FileManager.default.createDirectory(atPath: (logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if rec.attempt == 0 {
                await events.record(pod, type: "Normal", reason: "Pulled", message: "Container image \"\(imageRef)\" already present on machine", fieldPath: fieldPath)
            }
            try? await runtime.remove(id)
            try await runtime.create(config, logPath: logPath)
            rec.id = id
            rec.waiting = nil
            await events.record(pod, type: "Normal", reason: "Created", message: "Created container \(name)", fieldPath: fieldPath)
            try await runtime.start(id)
            rec.startedAt = Self.timestamp(clock())
            await events.record(pod, type: "Normal", reason: "Started", message: "Started container \(name)", fieldPath: fieldPath)
        } catch {
            rec.id = rec.id ?? id
            rec.terminated = startError(error, id: id)
            await events.record(pod, type: "Warning", reason: "Failed", message: "Error: \(error)", fieldPath: fieldPath)
        }
    }

    func startError(_ error: any Error, id: String) -> JSONValue {
        let now = Self.timestamp(clock())
        return ["exitCode": 128, "reason": "StartError", "message": .string("\(error)"), "startedAt": .string("1970-01-01T00:00:00Z"),
                "finishedAt": .string(now), "containerID": .string("runc://\(id)")]
    }

    func terminatedState(_ pod: JSONValue, _ container: JSONValue, _ rec: PodRuntimeState.Container, id: String,
                         code: Int32, startedAt: Date?, finishedAt: Date, oom: Bool) -> JSONValue {
        var t: [String: JSONValue] = [
            "exitCode": .int(Int64(code)),
            "reason": .string(oom ? "OOMKilled" : (code == 0 ? "Completed" : "Error")),
            "startedAt": .string(startedAt.map(Self.timestamp) ?? rec.startedAt ?? Self.timestamp(finishedAt)),
            "finishedAt": .string(Self.timestamp(finishedAt)),
            "containerID": .string("runc://\(id)"),
        ]
        if code > 128, code < 160 { t["signal"] = .int(Int64(code - 128)) }
        var message = (try? String(contentsOfFile: paths.terminationMessagePath(pod.metadataUID ?? "", container: container["name"]?.stringValue ?? "", attempt: rec.attempt), encoding: .utf8)) ?? ""
        if message.isEmpty, code != 0, container["terminationMessagePolicy"]?.stringValue == "FallbackToLogsOnError" {
            message = PodLogReader.tail(path: paths.containerLogPath(pod, container: container["name"]?.stringValue ?? "", attempt: rec.attempt), lines: 80, maxBytes: 2048)
        }
        if !message.isEmpty { t["message"] = .string(String(message.suffix(4096))) }
        return .object(t)
    }

    static func hostname(_ pod: JSONValue) -> String {
        let h = pod[path: ["spec", "hostname"]]?.stringValue ?? pod.metadataName ?? "pod"
        return String(h.prefix(63))
    }

    static func timestamp(_ d: Date) -> String {
        KubernetesTime.string(d)
    }

    static func date(_ s: String?) -> Date? { s.flatMap { ISO8601DateFormatter().date(from: $0) } }
}
