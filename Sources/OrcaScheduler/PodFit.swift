import Foundation
import OrcaClient
import OrcaControllers
import OrcaCore

/// Filter plugins of the scheduler: node readiness, unschedulable, node name,
/// nodeSelector, required node affinity, taints/tolerations and resource requests.
enum PodFit {
    static func isTerminal(_ pod: Pod) -> Bool {
        let phase = pod.status?.phase
        return phase == "Succeeded" || phase == "Failed"
    }

    /// Why `pod` cannot go on `node` (in the scheduler's message words), or nil if it fits.
    static func unfitReason(pod: Pod, node: Node, podsOnNode: [Pod]) -> String? {
        let ready = (node.status?.conditions ?? []).contains { $0.type == "Ready" && $0.status == "True" }
        let tolerations = pod.spec?.tolerations ?? []
        if node.spec?.unschedulable == true,
           !tolerates(tolerations, key: "node.kubernetes.io/unschedulable", value: "", effect: "NoSchedule") {
            return "node(s) were unschedulable"
        }
        if !ready, !tolerates(tolerations, key: "node.kubernetes.io/not-ready", value: "", effect: "NoSchedule") {
            return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
        }
        if !NodeAffinityMatcher.requiredNodeAffinityMatches(pod, node: node) {
            return "node(s) didn't match Pod's node affinity/selector"
        }
        for taint in node.spec?.taints ?? [] {
            let effect = taint.effect ?? ""
            guard effect == "NoSchedule" || effect == "NoExecute" else { continue }
            let key = taint.key ?? ""
            if !tolerates(tolerations, key: key, value: taint.value ?? "", effect: effect) {
                return "node(s) had untolerated taint {\(key): \(taint.value ?? "")}"
            }
        }
        let allocatable = node.status?.allocatable ?? [:]
        let maxPods = Int(allocatable["pods"]?.description ?? "110") ?? 110
        if podsOnNode.count + 1 > maxPods { return "Too many pods" }
        for resource in ["cpu", "memory"] {
            guard let cap = allocatable[resource], cap.isValid else { continue }
            // Saturating: a stored pod with absurd requests (`9E` twice) makes a node full, never a trap.
            let used = podsOnNode.map { requests($0, resource) }.saturatingSum()
            if used.addingSaturating(requests(pod, resource)) > cap.milliValue { return "Insufficient \(resource)" }
        }
        return nil
    }

    /// Whether `tolerations` tolerate a taint (Kubernetes' `Toleration.ToleratesTaint`).
    static func tolerates(_ tolerations: [Toleration], key: String, value: String, effect: String) -> Bool {
        Toleration.any(tolerations, tolerate: Taint(effect: effect, key: key, value: value))
    }

    /// The pod's request of `resource` in milli-units (max of init containers and sum of containers).
    static func requests(_ pod: Pod, _ resource: String) -> Int64 {
        func req(_ c: Container) -> Int64 {
            guard let q = c.resources?.requests?[resource], q.isValid else { return 0 }
            return max(q.milliValue, 0)
        }
        let sum = (pod.spec?.containers ?? []).map(req).saturatingSum()
        let initMax = (pod.spec?.initContainers ?? []).map(req).max() ?? 0
        return max(sum, initMax)
    }
}
