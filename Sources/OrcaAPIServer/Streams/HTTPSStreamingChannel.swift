import HTTPTypes
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import NIOTLS
import OrcaStreams

/// The API server's connections: TLS with ALPN choosing HTTP/2 or HTTP/1.1, and on HTTP/1.1
/// WebSocket upgrades for the streaming subresources (`exec`, `attach`, `portforward`).
///
/// Hummingbird's `http2Upgrade` has no WebSocket support and `http1WebSocketUpgrade` has no
/// HTTP/2, so this joins the two behind one TLS handshake.
public struct HTTPSStreamingChannel: HTTPChannelHandler {
    public typealias Negotiated = NIONegotiatedHTTPVersion<HTTP1WebSocketUpgradeChannel.Value, HTTP2Channel.Value>

    public struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        public let channel: any Channel
    }

    private let sslContext: NIOSSLContext
    private let http1: HTTP1WebSocketUpgradeChannel
    private let http2: HTTP2Channel
    public var responder: Responder { http1.responder }

    /// - Parameter shouldUpgrade: decides on each WebSocket upgrade request (HTTP/1.1).
    public init(tlsConfiguration: TLSConfiguration, webSocket: WebSocketServerConfiguration,
                shouldUpgrade: @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws
                    -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>,
                responder: @escaping Responder) throws {
        var tls = tlsConfiguration
        tls.applicationProtocols = NIOHTTP2SupportedALPNProtocols
        sslContext = try NIOSSLContext(configuration: tls)
        http1 = HTTP1WebSocketUpgradeChannel(responder: responder, configuration: .init(http1: .init(), ws: webSocket),
                                             shouldUpgrade: shouldUpgrade)
        http2 = HTTP2Channel(responder: responder, configuration: .init())
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
            let alpn = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result, channel in
                switch result {
                case .negotiated("h2"):
                    return http2.setup(channel: channel, logger: logger).flatMapThrowing { value in
                        // An error on one stream must not take the connection's other requests down.
                        let h2 = try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self)
                        try channel.pipeline.syncOperations.addHandler(HTTP2StreamErrorFilter(logger: logger), position: .after(h2))
                        return .http2(value)
                    }
                case .negotiated("http/1.1"), .fallback:
                    return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
                        let upgrader = try channel.pipeline.syncOperations.handler(
                            type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
                        try channel.pipeline.syncOperations.addHandler(NonWebSocketUpgradeFilter(), position: .before(upgrader))
                        let tls = try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
                        try channel.pipeline.syncOperations.addHandler(HTTP1ClientGoneHandler(), position: .after(tls))
                        return .http1_1(value)
                    }
                case .negotiated:
                    return channel.close().flatMap { channel.eventLoop.makeFailedFuture(NIOHTTP2Errors.invalidALPNToken()) }
                }
            }
            try channel.pipeline.syncOperations.addHandler(alpn)
            return Value(negotiated: alpn.protocolNegotiationResult, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1_1(let connection): await http1.handle(value: connection, logger: logger)
            case .http2(let connection): await http2.handle(value: connection, logger: logger)
            }
        } catch {
            logger.debug("connection setup failed: \(error)")
        }
    }
}

/// Turns upgrade requests for anything but WebSocket (kubectl's SPDY fallback) into plain
/// requests that close the connection, so that they get an ordinary HTTP answer: NIO's typed
/// upgrade handler drops a request whose upgrade no upgrader takes, and the HTTP decoder stops
/// parsing after any upgrade request.
final class NonWebSocketUpgradeFilter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), head.headers.contains(name: "upgrade") else {
            context.fireChannelRead(data)
            return
        }
        if head.headers["upgrade"].contains(where: { $0.lowercased().contains("websocket") }) {
            // WebSocket frames follow, not HTTP parts: step aside.
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        head.headers.remove(name: "upgrade")
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

extension HTTPServerBuilder {
    /// HTTPS with HTTP/2 and HTTP/1.1, and WebSocket upgrades on HTTP/1.1.
    public static func httpsStreaming(
        tlsConfiguration: TLSConfiguration, webSocket: WebSocketServerConfiguration = .init(),
        shouldUpgrade: @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws
            -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    ) -> HTTPServerBuilder {
        .init { responder in
            try HTTPSStreamingChannel(tlsConfiguration: tlsConfiguration, webSocket: webSocket,
                                      shouldUpgrade: shouldUpgrade, responder: responder)
        }
    }
}
