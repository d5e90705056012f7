import Foundation
import OrcaClient
import OrcaCore

/// Filter plugins of the first scheduler: node readiness, unschedulable, node name,
/// nodeSelector, taints/tolerations and resource requests.
enum PodFit {
    static func isTerminal(_ pod: JSONValue) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    /// Why `pod` cannot go on `node` (in the scheduler's message words), or nil if it fits.
    static func unfitReason(pod: JSONValue, node: JSONValue, podsOnNode: [JSONValue]) -> String? {
        let ready = (node[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
        let tolerations = pod[path: ["spec", "tolerations"]]?.arrayValue ?? []
        if node[path: ["spec", "unschedulable"]]?.boolValue == true,
           !tolerates(tolerations, key: "node.kubernetes.io/unschedulable", value: "", effect: "NoSchedule") {
            return "node(s) were unschedulable"
        }
        if !ready { return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }" }
        let selector = (pod[path: ["spec", "nodeSelector"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        let labels = node.labels
        if selector.contains(where: { labels[$0.key] != $0.value }) { return "node(s) didn't match Pod's node affinity/selector" }
        for taint in node[path: ["spec", "taints"]]?.arrayValue ?? [] {
            let effect = taint["effect"]?.stringValue ?? ""
            guard effect == "NoSchedule" || effect == "NoExecute" else { continue }
            let key = taint["key"]?.stringValue ?? ""
            if !tolerates(tolerations, key: key, value: taint["value"]?.stringValue ?? "", effect: effect) {
                return "node(s) had untolerated taint {\(key): \(taint["value"]?.stringValue ?? "")}"
            }
        }
        let allocatable = node[path: ["status", "allocatable"]]?.objectValue ?? [:]
        let maxPods = Int(allocatable["pods"]?.stringValue ?? "110") ?? 110
        if podsOnNode.count + 1 > maxPods { return "Too many pods" }
        for resource in ["cpu", "memory"] {
            guard let capText = allocatable[resource]?.stringValue, let cap = (Quantity(capText).isValid ? Quantity(capText).milliValue : nil) else { continue }
            // Saturating: a stored pod with absurd requests (`9E` twice) makes a node full, never a trap.
            let used = podsOnNode.map { requests($0, resource) }.saturatingSum()
            if used.addingSaturating(requests(pod, resource)) > cap { return "Insufficient \(resource)" }
        }
        return nil
    }

    static func tolerates(_ tolerations: [JSONValue], key: String, value: String, effect: String) -> Bool {
        tolerations.contains { t in
            let tEffect = t["effect"]?.stringValue ?? ""
            if !tEffect.isEmpty, tEffect != effect { return false }
            let tKey = t["key"]?.stringValue ?? ""
            let op = t["operator"]?.stringValue ?? "Equal"
            if tKey.isEmpty { return op == "Exists" }
            if tKey != key { return false }
            return op == "Exists" || (t["value"]?.stringValue ?? "") == value
        }
    }

    /// The pod's request of `resource` in milli-units (max of init containers and sum of containers).
    static func requests(_ pod: JSONValue, _ resource: String) -> Int64 {
        func req(_ c: JSONValue) -> Int64 {
            guard let text = c[path: ["resources", "requests", resource]]?.stringValue else { return 0 }
            return Quantity(text).isValid ? max(Quantity(text).milliValue, 0) : 0
        }
        let sum = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).map(req).saturatingSum()
        let initMax = (pod[path: ["spec", "initContainers"]]?.arrayValue ?? []).map(req).max() ?? 0
        return max(sum, initMax)
    }
}
