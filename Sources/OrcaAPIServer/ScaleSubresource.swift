import Foundation
import OrcaAPI

/// The `scale` subresource: an `autoscaling/v1` `Scale` view of a workload's replicas.
enum ScaleSubresource {
    static func scale(of obj: JSONValue, _ r: ResourceType) throws -> JSONValue {
        var selector = ""
        if let sel = obj[path: ["spec", "selector"]] {
            if let labels = sel["matchLabels"]?.objectValue {
                selector = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
            } else if let labels = sel.objectValue, r.resource == "replicationcontrollers" {
                selector = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
            }
        }
        var meta: [String: JSONValue] = [:]
        for k in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] { meta[k] = obj[path: ["metadata", k]] }
        return ["kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(meta),
                "spec": ["replicas": obj[path: ["spec", "replicas"]] ?? 1],
                "status": ["replicas": obj[path: ["status", "replicas"]] ?? 0, "selector": .string(selector)]]
    }

    static func write(_ registry: Registry, _ r: ResourceType, _ ns: String?, _ name: String, replicas: JSONValue?,
                      resourceVersion: String?) async throws -> JSONValue {
        guard let replicas, let n = replicas.intValue else {
            throw APIError.invalid(ResourceType("autoscaling", "v1", "Scale", "scale"), name, [.required("spec.replicas")])
        }
        if n < 0 {
            throw APIError.invalid(ResourceType("autoscaling", "v1", "Scale", "scale"), name, [.invalid("spec.replicas", String(n), "must be greater than or equal to 0")])
        }
        return try await registry.guaranteedUpdate(r, namespace: ns, name: name) { cur in
            if let resourceVersion, !resourceVersion.isEmpty, resourceVersion != cur.resourceVersion {
                throw APIError.conflict(r, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            var next = cur
            next[path: ["spec", "replicas"]] = .int(n)
            return next
        }
    }
}
