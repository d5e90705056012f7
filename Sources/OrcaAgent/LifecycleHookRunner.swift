import Foundation
import OrcaClient
import OrcaRuntime

/// Runs a container's `postStart` and `preStop` handlers (the kubelet's handler runner):
/// `exec` inside the container, `httpGet` to the pod, or `sleep`.
struct LifecycleHookRunner: Sendable {
    let runtime: any ContainerRuntime
    /// Sleeps for the `sleep` handler; injected so tests need not wait.
    let sleep: @Sendable (TimeInterval) async -> Void

    enum Hook: String, Sendable {
        case postStart = "PostStart"
        case preStop = "PreStop"
    }

    /// Runs `hook` of `container` (if it has one) for instance `containerID`, giving up after
    /// `timeout`; nil on success, else the kubelet's failure message.
    func run(_ hook: Hook, pod: JSONValue, container: JSONValue, containerID: String, podIP: String,
             timeout: TimeInterval) async -> String? {
        let key = hook == .postStart ? "postStart" : "preStop"
        guard let handler = container[path: ["lifecycle", key]], handler.objectValue != nil else { return nil }
        let name = container["name"]?.stringValue ?? ""
        let podRef = "\(pod.metadataName ?? "")_\(pod.metadataNamespace ?? "")(\(pod.metadataUID ?? ""))"
        if let exec = handler["exec"] {
            let command = exec["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let outcome = await ExecAction(command: command).run(in: containerID, runtime: runtime, timeout: timeout)
            if outcome.exitCode == 0 { return nil }
            let error = outcome.error ?? "command '\(command.joined(separator: " "))' exited with \(outcome.exitCode ?? -1): \(outcome.output)"
            return "Exec lifecycle hook (\(command)) for Container \"\(name)\" in Pod \"\(podRef)\" failed - error: \(error), message: \"\(outcome.output)\""
        }
        if let get = handler["httpGet"] {
            let target = Prober.Target(containerID: containerID, podIP: podIP, container: container)
            switch Prober.httpGet(get, target: target) {
            case .success(let action):
                let (ok, message) = await action.run(deadline: Date().addingTimeInterval(timeout))
                return ok ? nil : "HTTP lifecycle hook (\(get["path"]?.stringValue ?? "/")) for Container \"\(name)\" in Pod \"\(podRef)\" failed - error: \(message)"
            case .failure(let error):
                return "HTTP lifecycle hook for Container \"\(name)\" in Pod \"\(podRef)\" failed - error: \(error)"
            }
        }
        if let seconds = handler[path: ["sleep", "seconds"]]?.intValue {
            await sleep(min(TimeInterval(seconds), timeout))
            return nil
        }
        return "\(hook.rawValue) hook for Container \"\(name)\" in Pod \"\(podRef)\" has no handler"
    }
}
