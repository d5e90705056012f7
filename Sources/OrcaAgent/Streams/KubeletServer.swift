import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import OrcaClient
import OrcaPKI
import OrcaStreams
import X509

/// The node's kubelet server on port 10250 (TLS, a serving certificate from the cluster CA):
/// `GET /containerLogs/<ns>/<pod>[/<container>]`, and WebSocket upgrades of
/// `/exec/<ns>/<pod>/<container>`, `/attach/…` and `/portForward/<ns>/<pod>` in the same
/// subprotocols the API server speaks, for the pods bound to this node.
///
/// Only callers the API server vouches for get in: a client certificate the cluster CA signed
/// (checked during the handshake) naming `kube-apiserver-kubelet-client` or a member of
/// `system:masters`.
public struct KubeletServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var certificatePEM: String
        public var keyPEM: String
        public var caPEM: String
        /// Gives each new connection the current serving certificate (a renewed one) instead of
        /// `certificatePEM`/`keyPEM`; nil: those always.
        public var sslContextCallback: NIOSSLContextCallback?

        public init(host: String = "0.0.0.0", port: Int = 10250, certificatePEM: String, keyPEM: String, caPEM: String) {
            self.host = host
            self.port = port
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
            self.caPEM = caPEM
        }
    }

    let configuration: Configuration
    let nodeName: String
    let client: any APIClient
    let streams: any PodStreamProvider
    let logger = Logger(label: "orca.agent.kubelet")

    public init(configuration: Configuration, nodeName: String, client: any APIClient, streams: any PodStreamProvider) {
        self.configuration = configuration
        self.nodeName = nodeName
        self.client = client
        self.streams = streams
    }

    /// The TLS configuration: the serving certificate; client certificates required and
    /// verified against the cluster CA.
    func tlsConfiguration() throws -> TLSConfiguration {
        let cert = try NIOSSLCertificate(bytes: Array(configuration.certificatePEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(configuration.keyPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(cert)], privateKey: .privateKey(key))
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(configuration.caPEM.utf8), format: .pem)])
        tls.certificateVerification = .noHostnameVerification
        tls.sslContextCallback = configuration.sslContextCallback
        return tls
    }

    /// Serves until cancelled. A port already taken is logged and tried again every 10 s, never
    /// fatal: the agent goes on running its pods (and the embedded node's streams are also
    /// served in-process by the API server).
    public func run() async {
        while !Task.isCancelled {
            await serve()
            try? await Task.sleep(for: .seconds(10))
        }
    }

    func serve() async {
        do {
            var log = logger
            log.logLevel = .warning
            let responder = KubeletResponder(server: self)
            let app = Application(
                responder: responder,
                // The client-gone handler: a request learns that the API server closed its side
                // (connections may be half-closed here, so nothing else tells it).
                server: try .tls(.http1WebSocketUpgrade(configuration: WebSocketServerConfiguration(maxFrameSize: 1 << 20),
                                                        additionalChannelHandlers: [HTTP1ClientGoneHandler()]) { head, channel, _ in
                    try await responder.shouldUpgrade(head, channel)
                }, tlsConfiguration: try tlsConfiguration()),
                configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
                onServerRunning: { [logger, configuration] _ in logger.info("kubelet server listening on \(configuration.host):\(configuration.port)") },
                logger: log)
            try await app.run()
        } catch is CancellationError {
        } catch {
            logger.warning("kubelet server on \(configuration.host):\(configuration.port) stopped: \(error)")
        }
    }

    /// Whether the caller's verified certificate is one the API server vouches for.
    static func isAuthorized(_ channel: any Channel) async -> Bool {
        var candidates: [any Channel] = [channel]
        if let parent = channel.parent { candidates.append(parent) }
        for ch in candidates {
            guard let cert = try? await ch.nioSSL_peerCertificate().get(), let der = try? cert.toDERBytes(),
                  let parsed = try? Certificate(derEncoded: der) else { continue }
            return parsed.subject.commonName == "kube-apiserver-kubelet-client" || parsed.subject.organizations.contains("system:masters")
        }
        return false
    }

    /// The pod `namespace/name` if it is bound to this node; 404 otherwise.
    func pod(_ namespace: String, _ name: String) async throws -> JSONValue {
        let pod = try await client.get(client.resource("pods"), namespace: namespace, name: name)
        guard pod[path: ["spec", "nodeName"]]?.stringValue == nodeName else {
            throw APIError.notFound(client.resource("pods"), name)
        }
        return pod
    }
}

/// A request's context on the kubelet server: the connection, for the client certificate.
struct KubeletRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: (any Channel)?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The kubelet's HTTP routes and WebSocket upgrades.
struct KubeletResponder: HTTPResponder {
    typealias Context = KubeletRequestContext
    let server: KubeletServer

    static func segments(_ path: String) -> [String] {
        path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let segs = Self.segments(request.uri.path)
        do {
            if segs == ["healthz"] { return Self.text("ok") }
            guard let channel = context.channel, await KubeletServer.isAuthorized(channel) else {
                throw APIError.forbidden("the kubelet serves only the API server")
            }
            if request.method == .get, segs.first == "logs" {
                switch try NodeLogFiles().answer(Array(segs.dropFirst())) {
                case .listing(let html):
                    return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                                    body: .init(byteBuffer: ByteBuffer(string: html)))
                case .file(let path):
                    return try Self.file(path)
                }
            }
            guard request.method == .get, segs.first == "containerLogs", segs.count == 3 || segs.count == 4 else {
                throw APIError(code: 404, reason: "NotFound", message: "404 page not found")
            }
            let pod = try await server.pod(segs[1], segs[2])
            var query = KubeletResponder.parseQuery(request.uri.query)
            if segs.count == 4 { query["container"] = segs[3] }
            let stream = try await server.streams.logs(pod: pod, query: query)
            // A followed log ends when the API server drops the connection (its client went),
            // not when the container next writes.
            let body = ResponseBody { [channel = context.channel] writer in
                try await ClientBoundBody.write(stream, to: &writer, channel: channel)
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: body)
        } catch {
            let e = (error as? APIError) ?? APIError.internalError("\(error)")
            return Response(status: .init(code: e.code), headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: e.status.encoded())))
        }
    }

    /// A file's bytes, read in 64 KiB chunks as they are written out.
    static func file(_ path: String) throws -> Response {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw APIError(code: 403, reason: "Forbidden", message: "cannot read \(path)")
        }
        let body = ResponseBody { writer in
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
    }

    static func text(_ s: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    /// The first value of each query key, percent-decoded.
    static func parseQuery(_ raw: String?) -> [String: String] {
        PodExecOptions.parse(raw).compactMapValues(\.first)
    }

    typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    func shouldUpgrade(_ head: HTTPRequest, _ channel: any Channel) async throws -> ShouldUpgradeResult<Handler> {
        let target = head.path ?? "/"
        let segs = Self.segments(String(target.prefix { $0 != "?" }))
        var rawQuery = target.firstIndex(of: "?").map { String(target[target.index(after: $0)...]) }
        guard await KubeletServer.isAuthorized(channel), let verb = segs.first else { return .dontUpgrade }
        let sub: String
        switch (verb, segs.count) {
        case ("exec", 4), ("attach", 4):
            sub = verb
            // The container of the path wins over one in the query.
            let container = "container=" + (segs[3].addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? segs[3])
            rawQuery = rawQuery.map { container + "&" + $0 } ?? container
        case ("portForward", 3):
            sub = "portforward"
        case ("containerLogs", 3), ("containerLogs", 4):
            sub = "log"
            if segs.count == 4 {
                let container = "container=" + (segs[3].addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? segs[3])
                rawQuery = rawQuery.map { container + "&" + $0 } ?? container
            }
        default:
            return .dontUpgrade
        }
        let offered = head.headerFields[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let proto = PodStreamSession.chooseProtocol(sub, offered: offered) else { return .dontUpgrade }
        do {
            let pod = try await server.pod(segs[1], segs[2])
            guard let session = try PodStreamSession.make(sub, protocolName: proto, provider: server.streams, pod: pod, rawQuery: rawQuery) else {
                return .dontUpgrade
            }
            return .upgrade([.secWebSocketProtocol: proto]) { inbound, outbound, _ in try await session(inbound, outbound) }
        } catch {
            server.logger.debug("declined \(target): \(error)")
            return .dontUpgrade
        }
    }
}
