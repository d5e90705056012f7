import Foundation
import OrcaAPI

/// The `DefaultTolerationSeconds` admission plugin: a pod that does not already tolerate the
/// `node.kubernetes.io/not-ready` or `node.kubernetes.io/unreachable` taint with effect
/// `NoExecute` gets a toleration of it for 300 s, so the taint eviction controller evicts it
/// five minutes after its node stopped being Ready rather than at once.
///
/// A toleration counts as one for the taint when its key is the taint's or empty and its
/// effect is `NoExecute` or empty, whatever its operator and value, exactly as Kubernetes'
/// plugin checks it.
enum DefaultTolerationSeconds {
    /// The taint keys and the `tolerationSeconds` of their default tolerations
    /// (`--default-not-ready-toleration-seconds`, `--default-unreachable-toleration-seconds`).
    static let defaults: [(key: String, seconds: Int64)] = [
        ("node.kubernetes.io/not-ready", 300),
        ("node.kubernetes.io/unreachable", 300),
    ]

    /// Adds the missing default tolerations to the pod's `spec.tolerations`.
    static func admit(_ pod: inout JSONValue) {
        guard pod["spec"]?.objectValue != nil else { return }
        var tolerations = pod[path: ["spec", "tolerations"]]?.arrayValue ?? []
        let existing = tolerations
        for (key, seconds) in defaults where !existing.contains(where: { tolerates($0, key: key) }) {
            tolerations.append(["key": .string(key), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": .int(seconds)])
        }
        pod[path: ["spec", "tolerations"]] = .array(tolerations)
    }

    /// Whether `toleration` already covers the `NoExecute` taint `key`.
    static func tolerates(_ toleration: JSONValue, key: String) -> Bool {
        let tKey = toleration["key"]?.stringValue ?? ""
        let effect = toleration["effect"]?.stringValue ?? ""
        return (tKey == key || tKey.isEmpty) && (effect == "NoExecute" || effect.isEmpty)
    }
}
