import Foundation
import OrcaAPI

extension Registry {
    /// Binds a pod to a node: sets `spec.nodeName` once and the PodScheduled condition.
    public func bind(_ r: ResourceType, namespace: String, name: String, node: String) async throws -> JSONValue {
        for _ in 0..<5 {
            guard let (old, rev) = try await read(r, namespace: namespace, name: name) else { throw APIError.notFound(r, name) }
            if old.deletionTimestamp != nil {
                throw APIError.conflict(r, name, "pod \(name) is being deleted, cannot be assigned to a host")
            }
            if let current = old[path: ["spec", "nodeName"]]?.stringValue, !current.isEmpty {
                throw APIError.conflict(r, name, "pod \(name) is already assigned to node \"\(current)\"")
            }
            let now = KubernetesTime.string(clock())
            do {
                return try await write(r, name: name, old: old, revision: rev, dryRun: false) { cur in
                    var next = cur
                    next[path: ["spec", "nodeName"]] = .string(node)
                    var conds = (cur[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "PodScheduled" }
                    conds.append(["type": "PodScheduled", "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(now)])
                    next[path: ["status", "conditions"]] = .array(conds)
                    return next
                }
            } catch let e as APIError where e.code == 409 && e.reason == "Conflict" {
                continue
            }
        }
        throw APIError.conflict(r, name, "binding kept conflicting")
    }
}
