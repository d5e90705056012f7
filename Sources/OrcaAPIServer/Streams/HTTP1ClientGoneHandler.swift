import NIOCore

/// Tells an HTTP/1.1 connection's requests that the client closed its side. The server allows
/// half-closed connections (a client that half-closes still gets its answer), so a watch with
/// nothing to write would otherwise never learn that its client went away. Like the context
/// Go's server cancels at end of input, `clientGone` completes then — or when the connection
/// closes — and a watch ends on it.
final class HTTP1ClientGoneHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private var gone: EventLoopPromise<Void>?

    /// Completes when the client closed its side or the connection closed (nil before the
    /// handler is in a pipeline).
    var clientGone: EventLoopFuture<Void>? { gone?.futureResult }

    func handlerAdded(context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        gone = promise
        context.channel.closeFuture.cascade(to: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { gone?.succeed(()) }
        context.fireUserInboundEventTriggered(event)
    }
}
