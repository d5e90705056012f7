import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OrcaAPI

extension APIHandler {
    /// What `pods/proxy` names: `/api/v1/namespaces/<ns>/pods/[<scheme>:]<name>[:<port>]/proxy[/<path>]`.
    struct PodProxyTarget: Equatable {
        var namespace: String
        var name: String
        var scheme: String
        /// The port named in the path; nil: the pod's first container port, else the scheme's.
        var port: Int?
        var path: String
    }

    /// The pod proxy a path names, or nil.
    static func podProxyTarget(_ segs: [String]) -> PodProxyTarget? {
        guard segs.count >= 7, segs[0] == "api", segs[1] == "v1", segs[2] == "namespaces", segs[4] == "pods", segs[6] == "proxy" else {
            return nil
        }
        guard let id = SchemeNamePort(segs[5]) else { return nil }
        return PodProxyTarget(namespace: segs[3], name: id.name, scheme: id.scheme, port: id.port, path: "/" + segs.dropFirst(7).joined(separator: "/"))
    }

    /// Whether the API server may dial `ip` for a proxy: global unicast only, as kube-apiserver
    /// requires ("address not allowed"), so a pod's status cannot point it at loopback,
    /// link-local (cloud metadata) or multicast addresses.
    static func proxyAllowed(_ ip: String) -> Bool {
        if let v4 = IPv4CIDR.parse(ip) {
            let (a, b) = (v4 >> 24, (v4 >> 16) & 0xff)
            return !(a == 0 || a == 127 || (a == 169 && b == 254) || a >= 224)
        }
        let lower = ip.lowercased()
        guard lower.contains(":") else { return false }
        return !(lower == "::" || lower == "::1" || lower.hasPrefix("fe8") || lower.hasPrefix("fe9") || lower.hasPrefix("fea")
                 || lower.hasPrefix("feb") || lower.hasPrefix("ff"))
    }

    /// `pods/proxy`: the request passed to the pod's IP and port (kube-apiserver dials the pod
    /// directly), and the pod's answer passed back as it is read.
    func proxyToPod(_ target: PodProxyTarget, request: Request, channel: (any Channel)?) async throws -> Response {
        guard let pods = registry.catalog.resource(group: "", version: "v1", resource: "pods") else { throw APIError.pathNotFound(target.path) }
        let pod = try await registry.get(pods, namespace: target.namespace, name: target.name)
        guard let ip = pod[path: ["status", "podIP"]]?.stringValue, !ip.isEmpty else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "pod \(target.name) has no IP address yet")
        }
        guard Self.proxyAllowed(ip) else { throw APIError.badRequest("address not allowed") }
        let firstPort = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).lazy
            .compactMap { $0["ports"]?.arrayValue?.first?["containerPort"]?.intValue }.first
        let port = target.port ?? firstPort.map(Int.init) ?? (target.scheme == "https" ? 443 : 80)
        let host = ip.contains(":") ? "[\(ip)]" : ip
        var url = "\(target.scheme)://\(host):\(port)\(target.path)"
        if let query = request.uri.query, !query.isEmpty { url += "?" + query }
        var outbound = HTTPClientRequest(url: url)
        if target.scheme == "https" { outbound.tlsConfiguration = BackendHTTPClient.unverifiedTLS }
        outbound.method = .init(rawValue: request.method.rawValue)
        // Not Accept-Encoding: the answer's body is passed on as it comes, without its encoding header.
        for field in request.headers where [.contentType, .accept, .userAgent].contains(field.name) {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: APIServerContext.maxRequestBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.requestEntityTooLarge(limit: APIServerContext.maxRequestBodyBytes)
        }
        if body.readableBytes > 0 { outbound.body = .bytes(body) }
        let response: HTTPClientResponse
        do {
            response = try await BackendHTTPClient.shared.execute(outbound, timeout: .seconds(60))
        } catch {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "error trying to reach service: \(WebhookClient.describe(error, url: url))")
        }
        var answer = Self.streamed(response, channel: channel)
        if let location = response.headers.first(name: "Location") { answer.headers[.location] = location }
        return answer
    }
}
