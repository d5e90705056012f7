import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OrcaAPI
import OrcaStreams

extension APIHandler {
    /// A `nodes/proxy` request: the node, the port its id named (`[scheme:]name[:port]`), and
    /// the kubelet path.
    struct NodeProxyTarget: Equatable {
        var node: String
        var port: Int?
        var path: String
    }

    /// `/api/v1/nodes/<id>/proxy[/<path>]`, or nil.
    static func nodeProxyTarget(_ segs: [String]) -> NodeProxyTarget? {
        guard segs.count >= 5, segs[0] == "api", segs[1] == "v1", segs[2] == "nodes", segs[4] == "proxy",
              let id = SchemeNamePort(segs[3]) else { return nil }
        return NodeProxyTarget(node: id.name, port: id.port, path: "/" + segs.dropFirst(5).joined(separator: "/"))
    }

    /// `nodes/proxy` (GET): the kubelet's answer for the target's path, as the kubelet gave it.
    /// Only the kubelet's port is reached (a node's other ports are not proxied).
    func proxyToNode(_ target: NodeProxyTarget, query: String?, method: HTTPRequest.Method,
                     channel: (any Channel)?) async throws -> Response {
        guard method == .get else {
            throw APIError.methodNotAllowed("only GET is proxied to nodes")
        }
        guard let kubelets, let nodes = registry.catalog.resource(group: "", version: "v1", resource: "nodes") else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "no kubelet client is configured")
        }
        let node = try await registry.get(nodes, namespace: nil, name: target.node)
        if let port = target.port {
            let kubeletPort = node[path: ["status", "daemonEndpoints", "kubeletEndpoint", "Port"]]?.intValue ?? 10250
            guard port == kubeletPort else {
                throw APIError(code: 503, reason: "ServiceUnavailable",
                               message: "only the kubelet port \(kubeletPort) of node \(target.node) is proxied, not \(port)")
            }
        }
        let response = try await kubelets.get(node: node, path: target.path + (query.map { "?" + $0 } ?? ""))
        return Self.streamed(response, channel: channel)
    }

    /// A backend's response passed on as it is read: each chunk is written before the next is
    /// read, so a slow client slows the backend down instead of filling memory; and the backend's
    /// connection is dropped when the client of `channel` goes (a followed log on another node
    /// with nothing new to say ends then, on both nodes). `started`/`ended` bracket the copy.
    static func streamed(_ response: HTTPClientResponse, channel: (any Channel)?,
                         started: @escaping @Sendable () -> Void = {}, ended: @escaping @Sendable () -> Void = {}) -> Response {
        let body = ResponseBody { [body = response.body] writer in
            started()
            defer { ended() }
            try await ClientBoundBody.write(buffers: body, to: &writer, channel: channel)
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [:]
        headers[.contentType] = response.headers.first(name: "Content-Type") ?? "text/plain"
        return Response(status: .init(code: Int(response.status.code)), headers: headers, body: body)
    }

    /// A kubelet's error body (a `Status`, or text) as an `APIError` with the kubelet's code.
    static func kubeletError(status: Int, body: [UInt8]) -> APIError {
        if let json = try? JSONValue.parse(body), json["kind"]?.stringValue == "Status" {
            return APIError(code: Int(json["code"]?.intValue ?? Int64(status)), reason: json["reason"]?.stringValue ?? "",
                            message: json["message"]?.stringValue ?? "")
        }
        return APIError(code: status, reason: status == 404 ? "NotFound" : "InternalError",
                        message: String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
