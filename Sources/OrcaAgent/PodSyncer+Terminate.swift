import Foundation
import OrcaClient
import OrcaRuntime

extension PodSyncer {
    /// Stops every container in Kubernetes' order — app and regular init containers together,
    /// then sidecars one by one in reverse order — each with the stop signal and SIGKILL at the
    /// end of the pod's grace period; tears down network, volumes and pod directories, and — if
    /// the pod still exists in the API — finishes its deletion.
    func terminate(_ pod: JSONValue?, uid: String, state: PodRuntimeState, deleted: Bool = false) async {
        // A pod already gone from the API (force-deleted) gets at most 1 s, as the kubelet gives orphans.
        let grace = deleted ? min(pod?[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue ?? 1, 1)
            : pod?[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue ?? pod?[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
        let deadline = clock().addingTimeInterval(TimeInterval(max(0, grace)))
        var state = state
        await probes.stopWorkers(uid: uid)
        if let pod {
            await stopContainers(pod, &state, deadline: deadline)
        }
        // Whatever else of this pod the runtime has (adopted or leftover instances).
        var ids = state.containers.values.compactMap(\.id)
        if let all = try? await runtime.list() {
            ids += all.filter { $0.config.annotations["io.kubernetes.pod.uid"] == uid }.map(\.id)
        }
        ids = Array(Set(ids))
        await withTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    try? await runtime.stop(id, gracePeriod: .seconds(max(0, deadline.timeIntervalSince(clock()))))
                    try? await runtime.remove(id)
                }
            }
        }
        do { try await network.tearDown(podID: uid) } catch { logger.warning("network teardown of \(uid): \(error)") }
        logger.info("pod \(uid) terminated (\(ids.count) container(s), grace \(grace) s)")
        let podDir = paths.podDirectory(uid)
        // Never delete recursively through a mount that stayed (it could reach volume or host data).
        if volumes.tearDown(podDir: podDir), MountTable.mountPoints(under: podDir).isEmpty {
            try? FileManager.default.removeItem(atPath: podDir)
        } else {
            logger.warning("pod \(uid): mounts remain under \(podDir); left in place")
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: paths.logRoot)) ?? [] where entry.hasSuffix("_\(uid)") {
            try? FileManager.default.removeItem(atPath: "\(paths.logRoot)/\(entry)")
        }
        if let pod, !deleted {
            var options = DeletionOptions()
            options.gracePeriodSeconds = 0
            options.preconditionUID = uid
            try? await client.delete(client.resource("pods"), namespace: pod.metadataNamespace, name: pod.metadataName ?? "", options: options)
        }
    }

    /// Stops the running containers of a pod that reached Succeeded or Failed (its sidecars),
    /// within its termination grace period; their instances stay for status and logs.
    func stopRunningContainers(_ pod: JSONValue, _ state: inout PodRuntimeState) async {
        let running = state.containers.values.contains { $0.id != nil && $0.terminated == nil }
        guard running else { return }
        let grace = pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
        await stopContainers(pod, &state, deadline: clock().addingTimeInterval(TimeInterval(max(0, grace))))
    }

    /// App and regular init containers in parallel, then sidecars in reverse order.
    func stopContainers(_ pod: JSONValue, _ state: inout PodRuntimeState, deadline: Date) async {
        let all = PodContainer.all(pod)
        let first = all.filter { $0.role != .sidecar }
        let sidecars = all.filter { $0.role == .sidecar }.reversed()
        let snapshot = state
        let podIP = state.sandbox?.podIP ?? pod[path: ["status", "podIP"]]?.stringValue ?? ""
        let stopped = await withTaskGroup(of: (String, PodRuntimeState.Container).self) { group in
            for c in first {
                guard var rec = snapshot.containers[c.name], rec.id != nil, rec.terminated == nil else { continue }
                group.addTask {
                    await stopContainer(pod, c, &rec, deadline: deadline, message: "Stopping container \(c.name)", podIP: podIP)
                    return (c.name, rec)
                }
            }
            var out: [(String, PodRuntimeState.Container)] = []
            for await r in group { out.append(r) }
            return out
        }
        for (name, rec) in stopped { state.containers[name] = rec }
        for c in sidecars {
            guard var rec = state.containers[c.name], rec.id != nil, rec.terminated == nil else { continue }
            await stopContainer(pod, c, &rec, deadline: deadline, message: "Stopping container \(c.name)", podIP: podIP)
            state.containers[c.name] = rec
        }
    }

    /// Stops one running instance in Kubernetes' order — its preStop hook, then the stop signal,
    /// then SIGKILL at `deadline` (the hook's time counts) — and records how it ended.
    func stopContainer(_ pod: JSONValue, _ c: PodContainer, _ rec: inout PodRuntimeState.Container,
                       deadline: Date, message: String, podIP: String, runPreStop: Bool = true) async {
        guard let id = rec.id else { return }
        await events.record(pod, type: "Normal", reason: "Killing", message: message, fieldPath: c.fieldPath)
        let forHook = deadline.timeIntervalSince(clock())
        if runPreStop, forHook > 0, case .running = (try? await runtime.state(id)) ?? .unknown,
           let failure = await hooks.run(.preStop, pod: pod, container: c.spec, containerID: id, podIP: podIP, timeout: forHook) {
            await events.record(pod, type: "Warning", reason: "FailedPreStopHook", message: failure, fieldPath: c.fieldPath)
        }
        let remaining = max(0, deadline.timeIntervalSince(clock()))
        try? await runtime.stop(id, gracePeriod: .seconds(clamping: remaining))
        if case .exited(let code, let startedAt, let finishedAt, let oom) = (try? await runtime.state(id)) ?? .unknown {
            rec.terminated = terminatedState(pod, c.spec, rec, id: id, code: code, startedAt: startedAt, finishedAt: finishedAt, oom: oom)
        } else {
            rec.terminated = ["exitCode": 137, "reason": "Error", "containerID": .string("runc://\(id)")]
        }
    }
}
