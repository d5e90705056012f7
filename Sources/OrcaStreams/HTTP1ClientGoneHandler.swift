import NIOCore

/// Tells an HTTP/1.1 connection's requests that the client closed its side. The server allows
/// half-closed connections (a client that half-closes still gets its answer), so a watch with
/// nothing to write would otherwise never learn that its client went away. Like the context
/// Go's server cancels at end of input, the actions given to `whenClientGone` run then — or when
/// the connection closes — and a watch ends on it. A request that ends first takes its action
/// back (`cancel`), so a keep-alive connection serving many watches keeps none of them.
///
/// Event loop only, like every channel handler.
public final class HTTP1ClientGoneHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny

    public init() {}

    private var isGone = false
    private var actions: [Int: () -> Void] = [:]
    private var nextToken = 0

    /// The number of actions waiting (for tests).
    public var waitingCount: Int { actions.count }

    /// Runs `action` once the client is gone, at once if it already is; returns the token that
    /// cancels it, nil if it ran already.
    public func whenClientGone(_ action: @escaping () -> Void) -> Int? {
        guard !isGone else { action(); return nil }
        nextToken += 1
        actions[nextToken] = action
        return nextToken
    }

    /// Drops the action of `token` unrun.
    public func cancel(_ token: Int) {
        actions[token] = nil
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        context.channel.closeFuture.whenComplete { _ in self.clientWent() }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { clientWent() }
        context.fireUserInboundEventTriggered(event)
    }

    private func clientWent() {
        guard !isGone else { return }
        isGone = true
        let waiting = actions.values
        actions = [:]
        for action in waiting { action() }
    }
}
