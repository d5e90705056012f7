import Foundation
import OrcaClient

/// One container of a pod spec with its role: a regular init container (runs to completion
/// before the next), a sidecar (an init container with `restartPolicy: Always`, started before
/// the next init container and kept running), or an app container.
struct PodContainer: Sendable {
    enum Role: Sendable, Hashable { case initContainer, sidecar, app }

    let spec: JSONValue
    let role: Role

    var name: String { spec["name"]?.stringValue ?? "" }
    var fieldPath: String { role == .app ? "spec.containers{\(name)}" : "spec.initContainers{\(name)}" }
    var isInit: Bool { role != .app }

    /// The restart policy this container follows: sidecars always restart; regular init
    /// containers restart on failure unless the pod's policy is Never; app containers follow the pod.
    func restartPolicy(pod: String) -> String {
        switch role {
        case .sidecar: return "Always"
        case .initContainer: return pod == "Never" ? "Never" : "OnFailure"
        case .app: return pod
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

    /// Every container of the pod: init containers first.
    static func all(_ pod: JSONValue) -> [PodContainer] { initContainers(pod) + appContainers(pod) }
}
