import Foundation
import OrcaClient
import OrcaNetwork
import OrcaRuntime

extension PodSyncer {
    /// Brings one container toward running: observes its current instance, restarts an exited
    /// one by `restartPolicy` under the crash-loop back-off, or creates and starts one.
    func syncContainer(_ pod: JSONValue, _ c: PodContainer, _ rec: inout PodRuntimeState.Container,
                       env: Environment, restartPolicy: String) async {
        let name = c.name
        if let id = rec.id {
            if await observe(pod, c, &rec, id: id, env: env) { return }
            // The instance has exited: restart by policy, under the crash-loop back-off.
            let code = rec.terminated?["exitCode"]?.intValue ?? 0
            let restart = restartPolicy == "Always" || (restartPolicy == "OnFailure" && code != 0)
            guard restart else { return }
            let now = clock()
            var action = rec.backoff.event(.exited(at: now, ranFor: Self.ranFor(rec.terminated)))
            if case .wait = action { action = rec.backoff.event(.tick(now)) }
            switch action {
            case .none, .restart:
                break
            case .wait(_, let delay):
                let podRef = "\(pod.metadataName ?? "")_\(pod.metadataNamespace ?? "")(\(pod.metadataUID ?? ""))"
                let waiting = PodRuntimeState.Waiting("CrashLoopBackOff", "back-off \(RestartBackoff.goDuration(delay)) restarting failed container=\(name) pod=\(podRef)")
                if rec.waiting != waiting {
                    await events.record(pod, type: "Warning", reason: "BackOff", message: "Back-off restarting failed container \(name) in pod \(podRef)", fieldPath: c.fieldPath)
                }
                rec.waiting = waiting
                return
            }
            try? await runtime.remove(id)
            rec.lastTerminated = rec.terminated
            rec.terminated = nil
            rec.waiting = nil
            rec.restartCount += 1
            rec.attempt += 1
            rec.id = nil
            rec.startedAt = nil
            rec.probes = [:]
        }
        await createAndStart(pod, c, &rec, env: env)
        if let id = rec.id, rec.terminated == nil {
            await probes.ensureWorkers(pod: pod, container: c, containerID: id, startedAt: clock(), podIP: env.sandbox.podIP)
        }
    }

    /// Looks at the current instance: true while it runs (its probes running too). An exited
    /// instance gets its `state.terminated`; one that failed its liveness or startup probe is
    /// stopped first (with the probe's grace period).
    func observe(_ pod: JSONValue, _ c: PodContainer, _ rec: inout PodRuntimeState.Container, id: String, env: Environment) async -> Bool {
        let uid = pod.metadataUID ?? ""
        let status = (try? await runtime.state(id)) ?? .unknown
        switch status {
        case .running(_, let startedAt):
            rec.startedAt = rec.startedAt ?? KubernetesTime.string(startedAt)
            rec.terminated = nil
            rec.probes = await probes.results(uid: uid, container: c.name, containerID: id)
            guard let failed = [ProbeKind.startup, .liveness].first(where: { rec.probes[$0] == .failure }) else {
                await probes.ensureWorkers(pod: pod, container: c, containerID: id, startedAt: startedAt, podIP: env.sandbox.podIP)
                return true
            }
            let grace = c.spec[path: ["\(failed.rawValue)Probe", "terminationGracePeriodSeconds"]]?.intValue
                ?? pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
            await probes.stopWorkers(uid: uid, container: c.name)
            await stopContainer(pod, c, &rec, deadline: clock().addingTimeInterval(TimeInterval(max(0, grace))),
                                message: "Container \(c.name) failed \(failed.rawValue) probe, will be restarted", podIP: env.sandbox.podIP)
        case .created:
            do { try await runtime.start(id); return true } catch {
                rec.terminated = startError(error, id: id)
            }
        case .exited(let code, let startedAt, let finishedAt, let oom):
            if rec.terminated == nil {
                rec.terminated = terminatedState(pod, c.spec, rec, id: id, code: code, startedAt: startedAt, finishedAt: finishedAt, oom: oom)
            }
        case .unknown:
            if rec.terminated == nil {
                rec.terminated = ["exitCode": 137, "reason": "Error", "message": "container disappeared", "containerID": .string("runc://\(id)")]
            }
        }
        rec.probes = [:]
        await probes.stopWorkers(uid: uid, container: c.name)
        return false
    }

    func createAndStart(_ pod: JSONValue, _ c: PodContainer, _ rec: inout PodRuntimeState.Container, env: Environment) async {
        let container = c.spec
        let name = c.name
        let fieldPath = c.fieldPath
        let imageRef = container["image"]?.stringValue ?? ""
        let image: Image
        let pulled: Bool
        switch await imageManager.ensureImage(pod, c, current: rec.waiting, backoff: &rec.pullBackoff) {
        case .waiting(let waiting):
            rec.waiting = waiting
            return
        case .ready(let found, let didPull):
            image = found
            pulled = didPull
        }
        rec.imageID = "\(image.name.split(separator: ":").dropLast().joined(separator: ":"))@\(image.manifestDigest)"
        let variables: [(String, String)]
        do {
            variables = try await envResolver.resolve(pod: pod, container: container)
        } catch {
            let message = "Error: \(error)"
            if rec.waiting?.message != message {
                await events.record(pod, type: "Warning", reason: "Failed", message: message, fieldPath: fieldPath)
            }
            rec.waiting = .init("CreateContainerConfigError", message)
            return
        }
        let uid = pod.metadataUID ?? ""
        let id = "\(uid.prefix(13))-\(name)-\(rec.attempt)"
        let logPath = paths.containerLogPath(pod, container: name, attempt: rec.attempt)
        var pidNamespace: String?
        if c.role == .ephemeral, let target = container["targetContainerName"]?.stringValue, !target.isEmpty {
            pidNamespace = await self.pidNamespace(of: pod, container: target)
            if pidNamespace == nil {
                let message = "target container \(target) is not running"
                if rec.waiting?.message != message {
                    await events.record(pod, type: "Warning", reason: "Failed", message: "Error: \(message)", fieldPath: fieldPath)
                }
                rec.waiting = .init("CreateContainerError", message)
                return
            }
        }
        let config: ContainerConfig
        do {
            config = try buildConfig(pod, container, image: image, env: variables, id: id, sandbox: env.sandbox, files: env.files,
                                     volumes: env.volumes, attempt: rec.attempt, restartCount: rec.restartCount,
                                     pidNamespace: pidNamespace)
        } catch let error as EnvironmentResolver.ConfigError {
            // A bad subPath, a missing command and the like: the kubelet's CreateContainerConfigError.
            let message = "Error: \(error)"
            if rec.waiting?.message != message {
                await events.record(pod, type: "Warning", reason: "Failed", message: message, fieldPath: fieldPath)
            }
            rec.waiting = .init("CreateContainerConfigError", message)
            return
        } catch {
            rec.id = rec.id ?? id
            rec.terminated = startError(error, id: id)
            await events.record(pod, type: "Warning", reason: "Failed", message: "Error: \(error)", fieldPath: fieldPath)
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: (logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if !pulled {
                await events.record(pod, type: "Normal", reason: "Pulled", message: "Container image \"\(imageRef)\" already present on machine", fieldPath: fieldPath)
            }
            try? await runtime.remove(id)
            try await runtime.create(config, logPath: logPath)
            rec.id = id
            rec.waiting = nil
            await events.record(pod, type: "Normal", reason: "Created", message: "Created container \(name)", fieldPath: fieldPath)
            try await runtime.start(id)
            rec.startedAt = KubernetesTime.string(clock())
            await events.record(pod, type: "Normal", reason: "Started", message: "Started container \(name)", fieldPath: fieldPath)
        } catch {
            rec.id = rec.id ?? id
            rec.terminated = startError(error, id: id)
            await events.record(pod, type: "Warning", reason: "Failed", message: "Error: \(error)", fieldPath: fieldPath)
            return
        }
        // postStart runs right after the start; its failure kills the container (restarted by policy).
        if let failure = await hooks.run(.postStart, pod: pod, container: container, containerID: id, podIP: env.sandbox.podIP,
                                         timeout: Self.postStartTimeout) {
            await events.record(pod, type: "Warning", reason: "FailedPostStartHook", message: failure, fieldPath: fieldPath)
            await stopContainer(pod, c, &rec, deadline: clock(), message: "FailedPostStartHook", podIP: env.sandbox.podIP, runPreStop: false)
        }
    }


    func startError(_ error: any Error, id: String) -> JSONValue {
        let now = KubernetesTime.string(clock())
        return ["exitCode": 128, "reason": "StartError", "message": .string("\(error)"), "startedAt": .string("1970-01-01T00:00:00Z"),
                "finishedAt": .string(now), "containerID": .string("runc://\(id)")]
    }

    func terminatedState(_ pod: JSONValue, _ container: JSONValue, _ rec: PodRuntimeState.Container, id: String,
                         code: Int32, startedAt: Date?, finishedAt: Date, oom: Bool) -> JSONValue {
        var t: [String: JSONValue] = [
            "exitCode": .int(Int64(code)),
            "reason": .string(oom ? "OOMKilled" : (code == 0 ? "Completed" : "Error")),
            "startedAt": .string(startedAt.map(KubernetesTime.string) ?? rec.startedAt ?? KubernetesTime.string(finishedAt)),
            "finishedAt": .string(KubernetesTime.string(finishedAt)),
            "containerID": .string("runc://\(id)"),
        ]
        if code > 128, code < 160 { t["signal"] = .int(Int64(code - 128)) }
        let name = container["name"]?.stringValue ?? ""
        let message = TerminationMessage.read(path: paths.terminationMessagePath(pod.metadataUID ?? "", container: name, attempt: rec.attempt),
                                              logPath: paths.containerLogPath(pod, container: name, attempt: rec.attempt),
                                              policy: container["terminationMessagePolicy"]?.stringValue, exitCode: code)
        if !message.isEmpty { t["message"] = .string(message) }
        return .object(t)
    }
}
