import Foundation
import OrcaClient

/// One container of a pod spec with its role: a regular init container (runs to completion
/// before the next), a sidecar (an init container with `restartPolicy: Always`, started before
/// the next init container and kept running), an app container, or an ephemeral container
/// (added later through `pods/ephemeralcontainers`, run once, never restarted).
struct PodContainer: Sendable {
    enum Role: Sendable, Hashable { case initContainer, sidecar, app, ephemeral }

    let spec: JSONValue
    let role: Role

    var name: String { spec["name"]?.stringValue ?? "" }
    var fieldPath: String {
        switch role {
        case .app: return "spec.containers{\(name)}"
        case .initContainer, .sidecar: return "spec.initContainers{\(name)}"
        case .ephemeral: return "spec.ephemeralContainers{\(name)}"
        }
    }

    /// The restart policy this container follows: sidecars always restart; regular init
    /// containers restart on failure unless the pod's policy is Never; app containers follow the
    /// pod; ephemeral containers never restart.
    func restartPolicy(pod: String) -> String {
        switch role {
        case .sidecar: return "Always"
        case .initContainer: return pod == "Never" ? "Never" : "OnFailure"
        case .app: return pod
        case .ephemeral: return "Never"
        }
    }

    /// The init containers (regular and sidecars), in order.
    static func initContainers(_ pod: JSONValue) -> [PodContainer] {
        (pod[path: ["spec", "initContainers"]]?.arrayValue ?? []).map {
            PodContainer(spec: $0, role: $0["restartPolicy"]?.stringValue == "Always" ? .sidecar : .initContainer)
        }
    }

    /// The app containers, in order.
    static func appContainers(_ pod: JSONValue) -> [PodContainer] {
        (pod[path: ["spec", "containers"]]?.arrayValue ?? []).map { PodContainer(spec: $0, role: .app) }
    }

    /// The ephemeral containers, in the order they were added.
    static func ephemeralContainers(_ pod: JSONValue) -> [PodContainer] {
        (pod[path: ["spec", "ephemeralContainers"]]?.arrayValue ?? []).map { PodContainer(spec: $0, role: .ephemeral) }
    }

    /// Every container of the pod: init containers first, ephemeral containers last.
    static func all(_ pod: JSONValue) -> [PodContainer] { initContainers(pod) + appContainers(pod) + ephemeralContainers(pod) }
}
