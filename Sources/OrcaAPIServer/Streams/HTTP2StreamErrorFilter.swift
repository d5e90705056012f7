import Logging
import NIOCore
import NIOHTTP2

/// Sits after an HTTP/2 connection's `NIOHTTP2Handler` and keeps the errors it reports from
/// closing the connection.
///
/// NIO reports a stream-level error (a client's malformed header block on one stream, a frame
/// on a stream already reset) after answering it with RST_STREAM on that stream alone, and a
/// connection error after sending GOAWAY with the error, which tells the peer to close. Hummingbird's
/// connection manager closes the whole connection on any error, at once and without GOAWAY, so every
/// other request on it — a POST whose object is already stored, a watch — would end in
/// "unexpected EOF" for the client (Go's client does not retry a POST). The error is logged
/// here instead; NIO's own limits (stream resets, glitches) still end a misbehaving connection.
final class HTTP2StreamErrorFilter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame

    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("HTTP/2 connection from \(context.remoteAddress?.description ?? "?"): \(error)")
    }
}
