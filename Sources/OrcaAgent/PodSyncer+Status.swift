import Foundation
import OrcaClient

extension PodSyncer {
    /// Computes the pod's status from the runtime state and writes it through
    /// `pods/status` when it changed semantically (the status manager's one writer).
    func reportStatus(_ pod: JSONValue, _ state: inout PodRuntimeState) async {
        let status = computeStatus(pod, state)
        if let last = state.lastStatus, last == status { return }
        do {
            _ = try await client.mergePatch(client.resource("pods"), namespace: pod.metadataNamespace, name: pod.metadataName ?? "",
                                            patch: ["status": status], subresource: "status")
            state.lastStatus = status
        } catch {
            logger.debug("status update of \(pod.metadataName ?? ""): \(error)")
        }
    }

    func computeStatus(_ pod: JSONValue, _ state: PodRuntimeState) -> JSONValue {
        let restartPolicy = pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always"
        var statuses: [JSONValue] = []
        var running = 0, waiting = 0, stopped = 0, succeeded = 0
        var allReady = true
        for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            let name = container["name"]?.stringValue ?? ""
            let rec = state.containers[name]
            var s: [String: JSONValue] = ["name": .string(name), "image": container["image"] ?? "",
                                          "imageID": .string(rec?.imageID ?? ""), "restartCount": .int(Int64(rec?.restartCount ?? 0)),
                                          "ready": false, "started": false]
            if let id = rec?.id { s["containerID"] = .string("runc://\(id)") }
            if let last = rec?.lastTerminated { s["lastState"] = ["terminated": last] } else { s["lastState"] = [:] }
            if let rec, let w = rec.waiting {
                s["state"] = ["waiting": ["reason": .string(w.reason), "message": .string(w.message)]]
                if rec.lastTerminated != nil || rec.terminated != nil { stopped += 1 } else { waiting += 1 }
                allReady = false
            } else if let t = rec?.terminated {
                s["state"] = ["terminated": t]
                stopped += 1
                if t["exitCode"]?.intValue == 0 { succeeded += 1 }
                allReady = false
            } else if let rec, rec.id != nil, let started = rec.startedAt {
                s["state"] = ["running": ["startedAt": .string(started)]]
                s["ready"] = true
                s["started"] = true
                running += 1
            } else {
                s["state"] = ["waiting": ["reason": "ContainerCreating"]]
                waiting += 1
                allReady = false
            }
            statuses.append(.object(s))
        }
        let phase: String
        if waiting > 0 { phase = "Pending" }
        else if running > 0 { phase = "Running" }
        else if stopped > 0 {
            if restartPolicy == "Always" { phase = "Running" }
            else if stopped == succeeded { phase = "Succeeded" }
            else if restartPolicy == "Never" { phase = "Failed" }
            else { phase = "Running" }
        } else { phase = "Pending" }
        let now = Self.timestamp(clock())
        let previous = pod[path: ["status", "conditions"]]?.arrayValue ?? []
        func condition(_ type: String, _ ok: Bool, reason: String? = nil) -> JSONValue {
            let status = ok ? "True" : "False"
            let prev = previous.first { $0["type"]?.stringValue == type }
            let transition = prev?["status"]?.stringValue == status ? (prev?["lastTransitionTime"] ?? .string(now)) : .string(now)
            var c: [String: JSONValue] = ["type": .string(type), "status": .string(status), "lastProbeTime": .null, "lastTransitionTime": transition]
            if let reason, !ok { c["reason"] = .string(reason) }
            return .object(c)
        }
        let terminal = phase == "Succeeded" || phase == "Failed"
        let ready = allReady && !terminal
        var conditions: [JSONValue] = [
            condition("PodReadyToStartContainers", state.sandbox != nil),
            condition("Initialized", true),
            condition("Ready", ready, reason: terminal ? "PodCompleted" : "ContainersNotReady"),
            condition("ContainersReady", ready, reason: terminal ? "PodCompleted" : "ContainersNotReady"),
        ]
        if let scheduled = previous.first(where: { $0["type"]?.stringValue == "PodScheduled" }) { conditions.append(scheduled) }
        var status: [String: JSONValue] = [
            "phase": .string(phase), "conditions": .array(conditions), "containerStatuses": .array(statuses),
            "hostIP": .string(hostIP), "hostIPs": [["ip": .string(hostIP)]],
            "qosClass": pod[path: ["status", "qosClass"]] ?? "BestEffort",
        ]
        if let start = state.startTime { status["startTime"] = .string(start) }
        if let ip = state.sandbox?.podIP {
            status["podIP"] = .string(ip)
            status["podIPs"] = [["ip": .string(ip)]]
        }
        return .object(status)
    }
}
