import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OrcaAPI

extension APIHandler {
    /// `/api/v1/nodes/<name>/proxy[/<path>]`: the node and the kubelet path, or nil.
    static func nodeProxyTarget(_ segs: [String]) -> (String, String)? {
        guard segs.count >= 5, segs[0] == "api", segs[1] == "v1", segs[2] == "nodes", segs[4] == "proxy" else { return nil }
        return (segs[3], "/" + segs.dropFirst(5).joined(separator: "/"))
    }

    /// `nodes/proxy` (GET): the kubelet's answer for `path` on the node, as the kubelet gave it.
    func proxyToNode(_ name: String, path: String, query: String?, method: HTTPRequest.Method) async throws -> Response {
        guard method == .get else {
            throw APIError.methodNotAllowed("only GET is proxied to nodes")
        }
        guard let kubelets, let nodes = registry.catalog.resource(group: "", version: "v1", resource: "nodes") else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "no kubelet client is configured")
        }
        let node = try await registry.get(nodes, namespace: nil, name: name)
        let response = try await kubelets.get(node: node, path: path + (query.map { "?" + $0 } ?? ""))
        return Self.streamed(response)
    }

    /// A kubelet's response passed on as it is read: each chunk is written before the next is
    /// read, so a slow client slows the kubelet down instead of filling memory.
    static func streamed(_ response: HTTPClientResponse) -> Response {
        let body = ResponseBody { [body = response.body] writer in
            for try await chunk in body { try await writer.write(chunk) }
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
