import Logging
import NIOCore
import NIOHTTP2

/// Sits after an HTTP/2 connection's `NIOHTTP2Handler` and keeps errors that concern one
/// stream from closing the whole connection.
///
/// NIO reports a stream-level error (a client's malformed header block on one stream, a frame
/// on a stream already reset) after answering it with RST_STREAM on that stream alone.
/// Hummingbird's connection manager closes the connection on any error, at once and without
/// GOAWAY, so every other request on it — a POST whose object is already stored, a watch —
/// would end in "unexpected EOF" for the client (Go's client does not retry a POST). Such
/// errors are logged and end here; every other error (a connection error NIO answered with
/// GOAWAY, its flood limits, TLS and I/O errors) goes on and closes the connection as before.
final class HTTP2StreamErrorFilter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame

    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard Self.concernsOneStream(error) else {
            context.fireErrorCaught(error)
            return
        }
        logger.warning("HTTP/2 connection from \(context.remoteAddress?.description ?? "?"): stream reset: \(error)")
    }

    /// Whether NIO raises `error` for a single stream (which it has reset) rather than for the connection.
    static func concernsOneStream(_ error: any Error) -> Bool {
        switch error {
        case is NIOHTTP2Errors.StreamError, is NIOHTTP2Errors.NoSuchStream, is NIOHTTP2Errors.StreamClosed,
             is NIOHTTP2Errors.BadStreamStateTransition, is NIOHTTP2Errors.InvalidHTTP2HeaderFieldName,
             is NIOHTTP2Errors.MissingPseudoHeader, is NIOHTTP2Errors.DuplicatePseudoHeader,
             is NIOHTTP2Errors.PseudoHeaderAfterRegularHeader, is NIOHTTP2Errors.UnknownPseudoHeader,
             is NIOHTTP2Errors.UnsupportedPseudoHeader, is NIOHTTP2Errors.InvalidPseudoHeaders,
             is NIOHTTP2Errors.MissingHostHeader, is NIOHTTP2Errors.DuplicateHostHeader, is NIOHTTP2Errors.EmptyPathHeader,
             is NIOHTTP2Errors.InvalidStatusValue, is NIOHTTP2Errors.TrailersWithoutEndStream,
             is NIOHTTP2Errors.ForbiddenHeaderField, is NIOHTTP2Errors.InvalidPseudoHeaderValue,
             is NIOHTTP2Errors.ContentLengthViolated, is NIOHTTP2Errors.ContentLengthHeadersMismatch,
             is NIOHTTP2Errors.ContentLengthHeaderNegative, is NIOHTTP2Errors.ContentLengthHeaderMalformedValue:
            return true
        default:
            return false
        }
    }
}
