import Foundation
import Hummingbird
import OrcaAPI
import OrcaStreams

extension PodStreamTarget {
    /// The pod subresources served as streams.
    static let subresources: Set<String> = ["exec", "attach", "portforward"]
}

extension ResourceRequest {
    /// `pods/exec`, `attach` or `portforward` without a WebSocket upgrade: the WebSocket
    /// upgrade path (`PodStreamUpgrade`) serves the streams; this request is what kubectl sends
    /// when that was declined (a SPDY upgrade), so it reports why — the pod or container is
    /// wrong, or the client needs WebSocket.
    func streamWithoutUpgrade(_ r: ResourceType, _ ns: String?, _ name: String, _ sub: String) async throws -> Response {
        let pod = try await registry.get(r, namespace: ns, name: name)
        if sub == "portforward" {
            try PodStreamTarget.check(pod, sub, nil)
        } else {
            var options = PodExecOptions(rawQuery: request.uri.query)
            options.container = try PodStreamTarget.container(of: pod, options.container, sub)
            try PodStreamTarget.check(pod, sub, options)
        }
        guard handler.podStreams != nil else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "no node agent serves \(sub) for pod \(name)")
        }
        throw APIError.badRequest("Upgrade request required: orca serves \(sub) over WebSocket "
            + "(v5.channel.k8s.io for exec and attach, SPDY/3.1+portforward.k8s.io for port-forward); SPDY upgrades are not supported")
    }
}
