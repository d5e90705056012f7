import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OrcaAPI
import OrcaCore
import OrcaStreams

extension APIHandler {
    /// Whether the API server may dial `ip` for a proxy: global unicast only, as kube-apiserver
    /// requires ("address not allowed"), so a pod's status or an Endpoints cannot point it at
    /// unspecified, loopback, link-local (cloud metadata) or multicast addresses — an IPv4-mapped
    /// IPv6 address is judged as its IPv4 address.
    static func proxyAllowed(_ ip: String) -> Bool {
        guard let b = IPAddress.parse(ip).map(IPAddress.unmapped) else { return false }
        let multicast = b.count == 4 ? b[0] >= 224 : b[0] == 0xff
        let thisNetwork = b.count == 4 && b[0] == 0
        return !(IPAddress.isUnspecified(b) || IPAddress.isLoopback(b) || IPAddress.isLinkLocalUnicast(b) || multicast || thisNetwork)
    }

    /// A `proxy` subresource: the request (method, body, headers, query) passed to the
    /// pod's address, to a ready endpoint of the Service, or to the node (its kubelet), and the
    /// answer passed back as it is read, with its headers (a redirect's `Location` too: redirects
    /// are not followed).
    func proxy(_ target: ProxyTarget, request: Request, channel: (any Channel)?) async throws -> Response {
        let singular = String(target.resource.rawValue.dropLast())
        guard let id = target.parsedID else { throw APIError.badRequest("invalid \(singular) request \"\(target.id)\"") }
        let query = request.uri.query.map { $0.isEmpty ? "" : "?" + $0 } ?? ""
        if request.uri.path.hasSuffix("/proxy") {
            // As kube-apiserver: `…/proxy` goes to `…/proxy/`, so relative links in the page resolve.
            return Response(status: .movedPermanently, headers: [.location: request.uri.path + "/" + query])
        }
        let path = target.path + query
        var outbound: HTTPClientRequest
        switch target.resource {
        case .pods:
            outbound = try Self.backendRequest(id.scheme, try await podAddress(target.namespace ?? "", id), path)
        case .services:
            outbound = try Self.backendRequest(id.scheme, try await serviceEndpoint(target.namespace ?? "", id, rawID: target.id), path)
        case .nodes:
            outbound = try await nodeRequest(id, path: path)
        }
        outbound.method = .init(rawValue: request.method.rawValue)
        // The client's headers, but for hop-by-hop ones and its credentials (kube-apiserver's
        // authentication and impersonation filters take those off before proxying).
        let connectionOptions = Self.connectionOptions(request.headers[values: .connection])
        for field in request.headers where !Self.unforwardedRequestHeaders.contains(field.name.canonicalName)
            && !connectionOptions.contains(field.name.canonicalName) && !field.name.canonicalName.hasPrefix("impersonate-") {
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
        // No deadline (a proxied stream may last); the wait for the answer ends when the client goes.
        let prepared = outbound
        let exchange = Task { try await BackendHTTPClient.shared.execute(prepared, timeout: .hours(24)) }
        let clientGone = ClientGoneSubscription(channel: channel) { exchange.cancel() }
        defer { clientGone.cancel() }
        let response: HTTPClientResponse
        do {
            response = try await withTaskCancellationHandler { try await exchange.value } onCancel: { exchange.cancel() }
        } catch {
            throw APIError(code: 503, reason: "ServiceUnavailable",
                           message: "error trying to reach service: \(WebhookClient.describe(error, url: outbound.url))")
        }
        var answer = Self.streamed(response, channel: channel)
        let answerConnectionOptions = Self.connectionOptions(response.headers[canonicalForm: "connection"].map(String.init))
        for (name, value) in response.headers where !Self.hopByHopHeaders.contains(name.lowercased())
            && !answerConnectionOptions.contains(name.lowercased()) {
            guard let field = HTTPField.Name(name), field != .contentType else { continue }
            answer.headers.append(HTTPField(name: field, value: value))
        }
        return answer
    }

    /// Headers a proxy passes on neither way: RFC 9110's connection-specific ones, and the
    /// length (the body goes on in chunks, or is sent anew).
    static let hopByHopHeaders: Set<String> = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                                               "trailer", "transfer-encoding", "upgrade", "content-length"]

    /// The header names a `Connection` header lists (connection-specific too), lowercased.
    static func connectionOptions(_ values: [String]) -> Set<String> {
        Set(values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }

    /// Request headers a proxy does not pass on: the hop-by-hop ones (and those the request's
    /// `Connection` names), and the caller's host, expectation and credentials.
    static let unforwardedRequestHeaders = hopByHopHeaders.union(["proxy-connection", "expect", "host", "authorization"])

    /// `scheme://ip:port<path>`, for an address the API server may dial (https unverified, as
    /// kube-apiserver does for pods and Services).
    static func backendRequest(_ scheme: String, _ address: (ip: String, port: Int), _ path: String) throws -> HTTPClientRequest {
        guard proxyAllowed(address.ip) else { throw APIError.badRequest("address not allowed") }
        let host = address.ip.contains(":") ? "[\(address.ip)]" : address.ip
        var request = HTTPClientRequest(url: "\(scheme)://\(host):\(address.port)\(path)")
        if scheme == "https" { request.tlsConfiguration = BackendHTTPClient.unverifiedTLS }
        return request
    }

    /// The pod's IP and the port the id names: a number, a container port's name, or none (the
    /// first container port, else the scheme's).
    func podAddress(_ namespace: String, _ id: SchemeNamePort) async throws -> (ip: String, port: Int) {
        let pod = try await registry.get(registry.catalog.resource(group: "", version: "v1", resource: "pods")!, namespace: namespace, name: id.name)
            .decode(Pod.self)
        guard let ip = pod.status?.podIP, !ip.isEmpty else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "pod \(id.name) has no IP address yet")
        }
        let ports = (pod.spec?.containers ?? []).flatMap { $0.ports ?? [] }
        if let number = id.portNumber { return (ip, number) }
        if id.port.isEmpty { return (ip, ports.first?.containerPort.map { Int($0) } ?? (id.scheme == "https" ? 443 : 80)) }
        guard let named = ports.first(where: { $0.name == id.port })?.containerPort else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "no port \"\(id.port)\" found for pod \"\(id.name)\"")
        }
        return (ip, Int(named))
    }

    /// A ready endpoint of the Service for the port the id names (a port number is the Service's
    /// port, a name its port's name; none: its unnamed port), picked at random among the ready
    /// addresses of its Endpoints whose pod still has that IP — kube-apiserver's
    /// `ResourceLocation` for Services.
    func serviceEndpoint(_ namespace: String, _ id: SchemeNamePort, rawID: String) async throws -> (ip: String, port: Int) {
        func unavailable(_ message: String) -> APIError { APIError(code: 503, reason: "ServiceUnavailable", message: message) }
        let resource = { (name: String) in self.registry.catalog.resource(group: "", version: "v1", resource: name)! }
        var portName = id.port
        if let number = Int(id.port) {
            let service = try await registry.get(resource("services"), namespace: namespace, name: id.name).decode(Service.self)
            guard let port = (service.spec?.ports ?? []).first(where: { $0.port == Int32(clamping: number) }) else {
                throw unavailable("no service port \(number) found for service \"\(id.name)\"")
            }
            portName = port.name ?? ""
        }
        let endpoints = try await registry.get(resource("endpoints"), namespace: namespace, name: id.name).decode(Endpoints.self)
        let subsets = (endpoints.subsets ?? []).shuffled()
        guard !subsets.isEmpty else { throw unavailable("no endpoints available for service \"\(id.name)\"") }
        for subset in subsets where !(subset.addresses ?? []).isEmpty {
            guard let port = (subset.ports ?? []).first(where: { ($0.name ?? "") == portName }), let number = port.port else { continue }
            for address in (subset.addresses ?? []).shuffled() {
                guard let ip = address.ip, await isPodAddress(address, namespace: namespace) else { continue }
                return (ip, Int(number))
            }
        }
        throw unavailable("no endpoints available for service \"\(rawID)\"")
    }

    /// Whether an endpoint address is still its pod's, as kube's `isValidAddress` has it: the
    /// address names a pod of the Service's namespace, and that pod has the address. Anything
    /// else is skipped, so writing an Endpoints cannot aim the API server at other addresses.
    func isPodAddress(_ address: EndpointAddress, namespace: String) async -> Bool {
        guard let ref = address.targetRef, ref.namespace == namespace, let name = ref.name,
              let pods = registry.catalog.resource(group: "", version: "v1", resource: "pods"),
              let pod = try? await registry.get(pods, namespace: namespace, name: name).decode(Pod.self) else { return false }
        return pod.status?.podIP == address.ip || (pod.status?.podIPs ?? []).contains { $0.ip == address.ip }
    }

    /// The request to the node: its kubelet (with the API server's client certificate) when the
    /// id names no port or the kubelet's, else the named port at the node's InternalIP in the
    /// id's scheme, as kube-apiserver's node `ResourceLocation` has it.
    func nodeRequest(_ id: SchemeNamePort, path: String) async throws -> HTTPClientRequest {
        guard let kubelets, let nodes = registry.catalog.resource(group: "", version: "v1", resource: "nodes") else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "no kubelet client is configured")
        }
        let node = try await registry.get(nodes, namespace: nil, name: id.name)
        if id.port.isEmpty || id.portNumber == KubeletClient.port(of: node) { return try kubelets.request(node: node, path: path) }
        guard let port = id.portNumber else { throw APIError.badRequest("invalid node request \"\(id.port)\": not a port number") }
        return try Self.backendRequest(id.scheme, (try KubeletClient.address(of: node), port), path)
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
