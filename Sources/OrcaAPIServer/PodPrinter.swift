import Foundation
import OrcaAPI

/// The pod columns of `kubectl get pods` (Kubernetes' `printPod`).
enum PodPrinter {
    static let columns: [TableConvertor.Column] = [
        TableConvertor.nameColumn,
        .init(name: "Ready", description: "The aggregate readiness state of this pod for accepting traffic.") { o, _ in
            let specCount = o[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
            let ready = (o[path: ["status", "containerStatuses"]]?.arrayValue ?? []).filter { $0["ready"]?.boolValue == true }.count
            return .string("\(ready)/\(specCount)")
        },
        .init(name: "Status", description: "The aggregate status of the containers in this pod.") { o, _ in .string(status(o)) },
        .init(name: "Restarts", description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.") { o, now in
            let statuses = o[path: ["status", "containerStatuses"]]?.arrayValue ?? []
            let restarts = statuses.map { $0["restartCount"]?.intValue ?? 0 }.saturatingSum()
            let last = statuses.compactMap { $0[path: ["lastState", "terminated", "finishedAt"]]?.stringValue }.max()
            if restarts > 0, let last { return .string("\(restarts) (\(TableConvertor.age(last, now: now)) ago)") }
            return .string(String(restarts))
        },
        TableConvertor.ageColumn,
        .init(name: "IP", priority: 1, description: "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.") { o, _ in
            TableConvertor.none(TableConvertor.str(o, "status.podIP"))
        },
        .init(name: "Node", priority: 1, description: "Name of the Node to which this pod is assigned") { o, _ in
            TableConvertor.none(TableConvertor.str(o, "spec.nodeName"))
        },
        .init(name: "Nominated Node", priority: 1, description: "Name of the Node where the pod is nominated to be scheduled") { o, _ in
            TableConvertor.none(TableConvertor.str(o, "status.nominatedNodeName"))
        },
        .init(name: "Readiness Gates", priority: 1, description: "The pod's readiness gates") { o, _ in
            let gates = o[path: ["spec", "readinessGates"]]?.arrayValue ?? []
            if gates.isEmpty { return "<none>" }
            let conds = o[path: ["status", "conditions"]]?.arrayValue ?? []
            let ok = gates.filter { g in conds.contains { $0["type"] == g["conditionType"] && $0["status"]?.stringValue == "True" } }.count
            return .string("\(ok)/\(gates.count)")
        },
    ]

    /// The STATUS column: phase, or the most telling container reason.
    static func status(_ o: JSONValue) -> String {
        var reason = TableConvertor.str(o, "status.reason")
        if reason.isEmpty { reason = TableConvertor.str(o, "status.phase") }
        if reason.isEmpty { reason = "Pending" }
        let initSpecs = o[path: ["spec", "initContainers"]]?.arrayValue ?? []
        let initStatuses = o[path: ["status", "initContainerStatuses"]]?.arrayValue ?? []
        var initializing = false
        for (i, c) in initStatuses.enumerated() {
            let isSidecar = initSpecs.first { $0["name"] == c["name"] }?["restartPolicy"]?.stringValue == "Always"
            if let t = c[path: ["state", "terminated"]], t["exitCode"]?.intValue == 0 { continue }
            if isSidecar, c["started"]?.boolValue == true { continue }
            if let t = c[path: ["state", "terminated"]] {
                let r = t["reason"]?.stringValue ?? ""
                if !r.isEmpty { reason = "Init:" + r }
                else if let sig = t["signal"]?.intValue, sig != 0 { reason = "Init:Signal:\(sig)" }
                else { reason = "Init:ExitCode:\(t["exitCode"]?.intValue ?? 0)" }
            } else if let w = c[path: ["state", "waiting"]], let r = w["reason"]?.stringValue, !r.isEmpty, r != "PodInitializing" {
                reason = "Init:" + r
            } else {
                reason = "Init:\(i)/\(initSpecs.count)"
            }
            initializing = true
            break
        }
        if !initializing {
            var hasRunning = false
            for c in (o[path: ["status", "containerStatuses"]]?.arrayValue ?? []).reversed() {
                if let w = c[path: ["state", "waiting"]], let r = w["reason"]?.stringValue, !r.isEmpty {
                    reason = r
                } else if let t = c[path: ["state", "terminated"]] {
                    if let r = t["reason"]?.stringValue, !r.isEmpty { reason = r }
                    else if let sig = t["signal"]?.intValue, sig != 0 { reason = "Signal:\(sig)" }
                    else { reason = "ExitCode:\(t["exitCode"]?.intValue ?? 0)" }
                } else if c[path: ["state", "running"]] != nil, c["ready"]?.boolValue == true {
                    hasRunning = true
                }
            }
            if reason == "Completed", hasRunning {
                let ready = (o[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
                reason = ready ? "Running" : "NotReady"
            }
        }
        if o.deletionTimestamp != nil {
            reason = TableConvertor.str(o, "status.reason") == "NodeLost" ? "Unknown" : "Terminating"
        }
        return reason
    }
}
