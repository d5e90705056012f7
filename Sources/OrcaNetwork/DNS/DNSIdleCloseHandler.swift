import NIOCore

/// Closes a DNS-over-TCP connection when the `IdleStateHandler` before it reports it idle
/// (RFC 7766 §6.2.3: servers close idle connections).
final class DNSIdleCloseHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
