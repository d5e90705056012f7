import Foundation
import OrcaClient
import OrcaRuntime

extension PodSyncer {
    /// The kill step (the kubelet's SyncTerminatingPod): stops the pod's probes and containers in
    /// Kubernetes' order (`stopContainers`) within the termination's grace period. A completed
    /// pod's stopped instances stay for its status and logs, and its final status is reported.
    func kill(_ pod: JSONValue?, uid: String, state input: PodRuntimeState, termination: PodLifecycle.Termination) async -> PodRuntimeState {
        var state = input
        await probes.stopWorkers(uid: uid)
        guard let pod else { return state }
        let deadline = clock().addingTimeInterval(TimeInterval(max(0, termination.gracePeriod)))
        await stopContainers(pod, &state, deadline: deadline)
        switch termination.reason {
        case .completed:
            await reportStatus(pod, state)
            persist(uid, &state)
        case .deleted, .removed:
            break
        }
        return state
    }

    /// The clean-up step (the kubelet's SyncTerminatedPod and its removal of the pod's
    /// containers): stops and removes whatever else of the pod the runtime has (adopted or
    /// leftover instances get the termination's grace period), tears down its network, volumes,
    /// pod directory and logs.
    func cleanUp(_ pod: JSONValue?, uid: String, state: PodRuntimeState, termination: PodLifecycle.Termination) async {
        let grace = max(0, termination.gracePeriod)
        let deadline = clock().addingTimeInterval(TimeInterval(grace))
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
    }

    /// Has the status manager delete the terminated pod's API object for good (grace period 0,
    /// UID precondition), as the kubelet's status manager does once a deleted pod is cleaned up.
    func finishDeletion(_ pod: JSONValue?, uid: String) async {
        guard let pod else { return }
        var reference = PodReference(pod)
        reference.uid = uid
        await statusManager.finishDeletion(reference)
    }

    /// Drops what is cached about a pod whose worker is gone.
    func forget(uid: String) async {
        await probes.stopWorkers(uid: uid)
        await statusManager.forget(uid)
        await volumes.sources?.unregister(pod: uid)
        await volumes.tokens?.forget(podUID: uid)
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
