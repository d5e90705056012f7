import Foundation
import OrcaAPI

/// Checks shared by the WebSocket upgrade and the plain HTTP request of a streaming subresource.
public enum PodStreamTarget {
    /// The container the request names, or the pod's only container; throws 400 as Kubernetes does.
    public static func container(of pod: JSONValue, _ requested: String?, _ sub: String) throws -> String {
        let spec = pod["spec"]
        let main = (spec?["containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let others = ((spec?["initContainers"]?.arrayValue ?? []) + (spec?["ephemeralContainers"]?.arrayValue ?? []))
            .compactMap { $0["name"]?.stringValue }
        let podName = pod.metadataName ?? ""
        if let requested, !requested.isEmpty {
            guard main.contains(requested) || others.contains(requested) else {
                throw APIError.badRequest("container \(requested) is not valid for pod \(podName)")
            }
            return requested
        }
        guard main.count == 1 else {
            throw APIError.badRequest("a container name must be specified for pod \(podName), choose one of: [\(main.joined(separator: " "))]")
        }
        return main[0]
    }

    /// The pod runs on a node and is not finished; exec and attach ask for at least one stream.
    public static func check(_ pod: JSONValue, _ sub: String, _ options: PodExecOptions?) throws {
        let podName = pod.metadataName ?? ""
        if let options {
            guard options.stdin || options.stdout || options.stderr else {
                throw APIError.badRequest("you must specify at least 1 of stdin, stdout, stderr")
            }
            if sub == "exec", options.command.isEmpty {
                throw APIError.badRequest("you must specify a command to run")
            }
        }
        guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else {
            throw APIError.badRequest("pod \(podName) does not have a host assigned")
        }
        let phase = pod[path: ["status", "phase"]]?.stringValue ?? ""
        if phase == "Succeeded" || phase == "Failed" {
            let verb = sub == "portforward" ? "forward ports to" : sub == "attach" ? "attach to" : "exec into"
            throw APIError.badRequest("cannot \(verb) a container in a completed pod; current phase is \(phase)")
        }
    }
}
