import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import OrcaAPI
import OrcaPKI

/// How the API server reaches kubelets (`--kubelet-client-certificate`): HTTPS to the node's
/// InternalIP at its `status.daemonEndpoints.kubeletEndpoint.Port`, with the API server's client
/// certificate, trusting kubelet serving certificates the cluster CA signed (through
/// `BackendHTTPClient`).
///
/// `pods/log` and `nodes/proxy` are proxied as HTTP; `exec`, `attach` and `portforward` are
/// relayed message by message to a WebSocket the API server opens to the kubelet with the
/// subprotocol the client chose (both ends speak the same ones).
public struct KubeletClient: Sendable {
    let tls: TLSConfiguration
    let logger = Logger(label: "orca.apiserver.kubelet")

    /// A client with the API server's kubelet-client certificate from `pki`. Requests go through
    /// the process-wide HTTP client with this TLS configuration (nothing to shut down).
    public init(pki: ClusterPKI) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(pki.caCertPEM.utf8), format: .pem)])
        tls.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(pki.kubeletClientCertPEM.utf8), format: .pem))]
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(pki.kubeletClientKeyPEM.utf8), format: .pem))
        // Kubelet serving certificates name the node's addresses; nodes are reached by IP.
        tls.certificateVerification = .fullVerification
        self.tls = tls
    }

    /// The node's InternalIP (else its Hostname address), or 503 when it has none yet.
    static func address(of node: JSONValue) throws -> String {
        let addresses = node[path: ["status", "addresses"]]?.arrayValue ?? []
        let ip = addresses.first { $0["type"]?.stringValue == "InternalIP" }?["address"]?.stringValue
            ?? addresses.first { $0["type"]?.stringValue == "Hostname" }?["address"]?.stringValue
        guard let ip, !ip.isEmpty else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "node \(node.metadataName ?? "") has no address")
        }
        return ip
    }

    /// The node's kubelet port (`status.daemonEndpoints.kubeletEndpoint.Port`, else 10250).
    static func port(of node: JSONValue) -> Int {
        Int(node[path: ["status", "daemonEndpoints", "kubeletEndpoint", "Port"]]?.intValue ?? 10250)
    }

    /// `https://<InternalIP>:<port>` of a node, or 503 when it has no address yet.
    static func base(of node: JSONValue) throws -> String {
        let ip = try address(of: node)
        let port = port(of: node)
        return "https://\(ip.contains(":") ? "[\(ip)]" : ip):\(port)"
    }

    /// A GET of `path` (with its query) on the node's kubelet; the body is read as it comes. A
    /// kubelet that cannot be reached (or does not take the API server's certificate) fails the
    /// request within `BackendHTTPClient.connectTimeout`.
    public func get(node: JSONValue, path: String) async throws -> HTTPClientResponse {
        let request = try self.request(node: node, path: path)
        do { return try await BackendHTTPClient.shared.execute(request, timeout: .hours(24)) } catch {
            throw APIError(code: 502, reason: "InternalError",
                           message: "error trying to reach the kubelet of node \(node.metadataName ?? ""): \(error)")
        }
    }

    /// A request (a GET until the caller sets another method) for `path` (with its query) on the
    /// node's kubelet, with the API server's client certificate; 503 when the node has no address.
    func request(node: JSONValue, path: String) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: try Self.base(of: node) + path)
        request.method = .GET
        request.tlsConfiguration = tls
        return request
    }

    /// Relays a client's WebSocket to `path` on the node's kubelet with `protocolName`, until
    /// either side closes.
    public func relay(node: JSONValue, path: String, protocolName: String,
                      inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let url = (try Self.base(of: node)).replacingOccurrences(of: "https://", with: "wss://") + path
        // Kubelet serving certificates name the node; reached by IP, the name is the SNI host to verify.
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20, additionalHeaders: [.secWebSocketProtocol: protocolName])
        configuration.sniHostname = node.metadataName
        var log = logger
        log.logLevel = .warning
        do {
            try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: tls, logger: log) { kubeletIn, kubeletOut, _ in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await message in inbound.messages(maxSize: 1 << 24) { try await Self.write(message, to: kubeletOut) }
                        } catch {}
                    }
                    group.addTask {
                        do {
                            for try await message in kubeletIn.messages(maxSize: 1 << 24) { try await Self.write(message, to: outbound) }
                        } catch {}
                    }
                    await group.next()
                    group.cancelAll()
                }
                try? await kubeletOut.close(.normalClosure, reason: nil)
            }
        } catch {
            logger.warning("relaying \(path) to node \(node.metadataName ?? ""): \(error)")
            // The channel protocols end with a Status on the error channel: the client says why.
            if protocolName.hasSuffix(".channel.k8s.io"), !path.hasPrefix("/portForward") {
                let status: JSONValue = ["metadata": [:], "status": "Failure", "reason": "InternalError",
                                         "message": .string("error dialing backend: \(error)")]
                try? await outbound.writeBinaryMessage(ByteBuffer(bytes: [3] + status.encoded()))
            }
        }
    }

    static func write(_ message: WebSocketMessage, to writer: WebSocketOutboundWriter) async throws {
        switch message {
        case .binary(let buffer): try await writer.writeBinaryMessage(buffer)
        case .text(let text): try await writer.writeTextMessage(text)
        }
    }

    /// The kubelet path of a pod stream: `/exec/<ns>/<pod>/<container>`, `/attach/…`,
    /// `/portForward/<ns>/<pod>`, `/containerLogs/<ns>/<pod>/<container>`.
    public static func streamPath(_ subresource: String, namespace: String, pod: String, container: String?, rawQuery: String?) -> String {
        func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? s }
        let verb = ["exec": "exec", "attach": "attach", "portforward": "portForward", "log": "containerLogs"][subresource] ?? subresource
        var path = "/\(verb)/\(escape(namespace))/\(escape(pod))"
        if let container, subresource != "portforward" { path += "/\(escape(container))" }
        if let rawQuery, !rawQuery.isEmpty { path += "?" + rawQuery }
        return path
    }
}
