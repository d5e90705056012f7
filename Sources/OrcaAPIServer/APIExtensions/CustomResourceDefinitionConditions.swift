import Foundation
import OrcaAPI

/// The conditions of a CustomResourceDefinition (`NamesAccepted`, `Established`,
/// `Terminating`), read and written as apiextensions-apiserver's helpers do: a condition's
/// `lastTransitionTime` moves only when its status changes.
public enum CustomResourceDefinitionConditions {
    /// The finalizer the first delete adds; its controller removes it once every custom
    /// resource of the definition is gone.
    public static let cleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"

    /// Whether condition `type` is `True`.
    public static func isTrue(_ crd: CustomResourceDefinition, _ type: String) -> Bool {
        crd.status?.conditions?.contains { $0.type == type && $0.status == "True" } ?? false
    }

    /// Sets condition `type`, keeping its transition time when its status stays the same.
    public static func set(_ conditions: inout [CustomResourceDefinitionCondition], _ type: String, _ status: Bool,
                           reason: String, message: String, now: Date) {
        let value = status ? "True" : "False"
        if let i = conditions.firstIndex(where: { $0.type == type }) {
            let time = conditions[i].status == value ? conditions[i].lastTransitionTime : KubernetesTime.string(now)
            conditions[i] = CustomResourceDefinitionCondition(lastTransitionTime: time, message: message, reason: reason,
                                                              status: value, type: type)
        } else {
            conditions.append(CustomResourceDefinitionCondition(lastTransitionTime: KubernetesTime.string(now), message: message,
                                                                reason: reason, status: value, type: type))
        }
    }

    /// The first delete of a definition: the cleanup finalizer and `Terminating`.
    static func markTerminating(_ object: inout JSONValue, now: Date) {
        if !object.finalizers.contains(cleanupFinalizer) {
            object[path: ["metadata", "finalizers"]] = .array((object.finalizers + [cleanupFinalizer]).map(JSONValue.string))
        }
        var conditions = (try? object[path: ["status", "conditions"]]?.decode([CustomResourceDefinitionCondition].self)) ?? []
        set(&conditions, "Terminating", true, reason: "InstanceDeletionPending",
            message: "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon", now: now)
        if let encoded = try? JSONValue(encoding: conditions) { object[path: ["status", "conditions"]] = encoded }
    }
}
