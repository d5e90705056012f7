import Foundation
import OrcaAPI

/// Namespaces: the `kubernetes` finalizer, phase Active, and the name label.
struct NamespaceStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        object["status"] = ["phase": "Active"]
        if object[path: ["spec", "finalizers"]] == nil { object[path: ["spec", "finalizers"]] = ["kubernetes"] }
        object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(object.metadataName ?? "")
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(old.metadataName ?? "")
        if object[path: ["spec", "finalizers"]] == nil, old.deletionTimestamp == nil {
            object[path: ["spec", "finalizers"]] = old[path: ["spec", "finalizers"]]
        }
    }
}
