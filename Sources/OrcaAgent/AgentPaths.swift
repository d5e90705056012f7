import Foundation
import OrcaClient

/// Where the agent keeps pod state and logs.
struct AgentPaths: Sendable {
    /// `<data-dir>/pods`
    let podsRoot: String
    /// `/var/log/pods` by default.
    let logRoot: String
    /// The cgroup under which containers get theirs (`--cgroup-root`, `/orca` by default).
    var cgroupRoot: String = "/orca"

    func podDirectory(_ uid: String) -> String { "\(podsRoot)/\(uid)" }

    func podLogDirectory(_ pod: JSONValue) -> String {
        "\(logRoot)/\(pod.metadataNamespace ?? "default")_\(pod.metadataName ?? "")_\(pod.metadataUID ?? "")"
    }

    /// The CRI log file of one container instance: `<log-root>/<ns>_<pod>_<uid>/<container>/<attempt>.log`.
    func containerLogPath(_ pod: JSONValue, container: String, attempt: Int) -> String {
        "\(podLogDirectory(pod))/\(container)/\(attempt).log"
    }

    func terminationMessagePath(_ uid: String, container: String, attempt: Int) -> String {
        "\(podDirectory(uid))/containers/\(container)/\(attempt)/termination-log"
    }
}
