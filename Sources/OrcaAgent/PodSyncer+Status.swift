import Foundation
import OrcaClient

extension PodSyncer {
    /// Computes the pod's status from the runtime state and hands it to the status manager,
    /// which writes it when it changed in meaning (without waiting for the API).
    /// The kubelet's words for a pod failed by `activeDeadlineSeconds`.
    static let deadlineExceededMessage = "Pod was active on the node longer than the specified deadline"

    /// Whether `spec.activeDeadlineSeconds` has passed since the pod started on this node (the
    /// kubelet's active-deadline handler): the pod then fails with reason `DeadlineExceeded`.
    func activeDeadlineExceeded(_ pod: JSONValue, _ state: PodRuntimeState) -> Bool {
        guard let seconds = pod[path: ["spec", "activeDeadlineSeconds"]]?.intValue,
              let start = KubernetesTime.date(state.startTime) else { return false }
        return clock().timeIntervalSince(start) >= Double(seconds)
    }

    func reportStatus(_ pod: JSONValue, _ state: PodRuntimeState) async {
        await statusManager.setStatus(PodReference(pod), computeStatus(pod, state), apiStatus: pod["status"])
    }

    /// One container's status, and how it counts toward the pod's phase.
    struct ContainerReport {
        enum Kind { case waiting, running, stopped }
        var status: JSONValue
        var kind: Kind
        var ready: Bool
        var succeeded: Bool
    }

    func containerReport(_ c: PodContainer, _ rec: PodRuntimeState.Container?, state: PodRuntimeState) -> ContainerReport {
        var s: [String: JSONValue] = ["name": .string(c.name), "image": c.spec["image"] ?? "",
                                      "imageID": .string(rec?.imageID ?? ""), "restartCount": .int(Int64(rec?.restartCount ?? 0)),
                                      "ready": false, "started": false]
        if let id = rec?.id { s["containerID"] = .string("runc://\(id)") }
        // Waiting to restart (back-off): the exited instance is the last state.
        let previous = rec?.waiting != nil ? (rec?.terminated ?? rec?.lastTerminated) : rec?.lastTerminated
        if let last = previous { s["lastState"] = ["terminated": last] } else { s["lastState"] = [:] }
        var report = ContainerReport(status: .null, kind: .waiting, ready: false, succeeded: false)
        if let rec, let w = rec.waiting {
            var waiting: [String: JSONValue] = ["reason": .string(w.reason)]
            if !w.message.isEmpty { waiting["message"] = .string(w.message) }
            s["state"] = ["waiting": .object(waiting)]
            if rec.lastTerminated != nil || rec.terminated != nil { report.kind = .stopped }
        } else if let t = rec?.terminated {
            s["state"] = ["terminated": t]
            report.kind = .stopped
            report.succeeded = t["exitCode"]?.intValue == 0
            // A regular init container that completed counts as ready.
            report.ready = c.role == .initContainer && report.succeeded
        } else if let rec, rec.id != nil, let started = rec.startedAt {
            s["state"] = ["running": ["startedAt": .string(started)]]
            let isStarted = isStarted(c, rec)
            s["started"] = .bool(isStarted)
            report.ready = (c.role == .app || c.role == .sidecar) && isStarted && isReady(c, rec)
            report.kind = .running
        } else {
            let initializing = c.role == .app ? !state.initialized : rec == nil
            s["state"] = ["waiting": ["reason": .string(initializing ? "PodInitializing" : "ContainerCreating")]]
        }
        s["ready"] = .bool(report.ready)
        report.status = .object(s)
        return report
    }

    func computeStatus(_ pod: JSONValue, _ state: PodRuntimeState) -> JSONValue {
        let restartPolicy = pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always"
        let inits = PodContainer.initContainers(pod).map { ($0, containerReport($0, state.containers[$0.name], state: state)) }
        let apps = PodContainer.appContainers(pod).map { ($0, containerReport($0, state.containers[$0.name], state: state)) }
        var running = 0, waiting = 0, stopped = 0, succeeded = 0
        for (_, r) in apps {
            switch r.kind {
            case .waiting: waiting += 1
            case .running: running += 1
            case .stopped:
                stopped += 1
                if r.succeeded { succeeded += 1 }
            }
        }
        let initFailed = restartPolicy == "Never" && inits.contains { c, r in
            c.role == .initContainer && r.kind == .stopped && !r.succeeded
        }
        var phase: String
        if initFailed { phase = "Failed" }
        else if !state.initialized { phase = "Pending" }
        else if waiting > 0 { phase = "Pending" }
        else if running > 0 { phase = "Running" }
        else if stopped > 0 {
            if restartPolicy == "Always" { phase = "Running" }
            else if stopped == succeeded { phase = "Succeeded" }
            else if restartPolicy == "Never" { phase = "Failed" }
            else { phase = "Running" }
        } else { phase = "Pending" }
        let deadlineExceeded = activeDeadlineExceeded(pod, state)
        if deadlineExceeded || state.rejection != nil { phase = "Failed" }
        let now = KubernetesTime.string(clock())
        let previous = pod[path: ["status", "conditions"]]?.arrayValue ?? []
        func condition(_ type: String, _ ok: Bool, reason: String? = nil, message: String? = nil) -> JSONValue {
            let status = ok ? "True" : "False"
            let prev = previous.first { $0["type"]?.stringValue == type }
            let transition = prev?["status"]?.stringValue == status ? (prev?["lastTransitionTime"] ?? .string(now)) : .string(now)
            var c: [String: JSONValue] = ["type": .string(type), "status": .string(status), "lastProbeTime": .null, "lastTransitionTime": transition]
            if let reason, !ok { c["reason"] = .string(reason) }
            if let message, !ok { c["message"] = .string(message) }
            return .object(c)
        }
        let terminal = phase == "Succeeded" || phase == "Failed"
        let unready = (inits.filter { $0.0.role == .sidecar } + apps).filter { !$0.1.ready }.map(\.0.name)
        let uninitialized = inits.filter { c, r in c.role == .sidecar ? !isStarted(c, state.containers[c.name] ?? .init()) : !r.succeeded }.map(\.0.name)
        let ready = unready.isEmpty && !terminal
        let readyReason = terminal ? "PodCompleted" : "ContainersNotReady"
        let readyMessage = terminal ? nil : "containers with unready status: [\(unready.joined(separator: " "))]"
        var conditions: [JSONValue] = [
            condition("PodReadyToStartContainers", state.sandbox != nil),
            condition("Initialized", state.initialized, reason: "ContainersNotInitialized",
                      message: "containers with incomplete status: [\(uninitialized.joined(separator: " "))]"),
            condition("Ready", ready, reason: readyReason, message: readyMessage),
            condition("ContainersReady", ready, reason: readyReason, message: readyMessage),
        ]
        // Conditions of other components (PodScheduled, DisruptionTarget, readiness gates) stay.
        let own = Set(conditions.compactMap { $0["type"]?.stringValue })
        conditions += previous.filter { !own.contains($0["type"]?.stringValue ?? "") }
        var status: [String: JSONValue] = [
            "phase": .string(phase), "conditions": .array(conditions), "containerStatuses": .array(apps.map(\.1.status)),
            "hostIP": .string(hostIP), "hostIPs": [["ip": .string(hostIP)]],
            "qosClass": pod[path: ["status", "qosClass"]] ?? "BestEffort",
        ]
        if !inits.isEmpty { status["initContainerStatuses"] = .array(inits.map(\.1.status)) }
        let ephemeral = PodContainer.ephemeralContainers(pod).map { containerReport($0, state.containers[$0.name], state: state).status }
        if !ephemeral.isEmpty { status["ephemeralContainerStatuses"] = .array(ephemeral) }
        if let start = state.startTime { status["startTime"] = .string(start) }
        if let rejection = state.rejection {
            status["reason"] = .string(rejection.reason)
            status["message"] = .string("Pod was rejected: \(rejection.message)")
        } else if deadlineExceeded {
            status["reason"] = "DeadlineExceeded"
            status["message"] = .string(Self.deadlineExceededMessage)
        }
        if let ip = state.sandbox?.podIP {
            status["podIP"] = .string(ip)
            status["podIPs"] = [["ip": .string(ip)]]
        }
        return .object(status)
    }
}
