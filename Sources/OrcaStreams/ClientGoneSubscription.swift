import NIOCore
import Synchronization

/// A request's wait for its client to go: through the connection's `HTTP1ClientGoneHandler` on
/// HTTP/1.1, on the stream channel's close on HTTP/2 (or on any channel without the handler).
/// `cancel()` takes the wait back when the request ends first, so nothing of the request stays
/// on a keep-alive connection.
public final class ClientGoneSubscription: Sendable {
    private let channel: (any Channel)?
    private let token = Mutex<Int?>(nil)

    /// Starts waiting on `channel` (no-op without one); `action` runs at most once, on its
    /// event loop.
    public init(channel: (any Channel)?, action: @escaping @Sendable () -> Void) {
        self.channel = channel
        guard let channel else { return }
        channel.eventLoop.execute { [self] in
            if let handler = try? channel.pipeline.syncOperations.handler(type: HTTP1ClientGoneHandler.self) {
                let t = handler.whenClientGone(action)
                self.token.withLock { $0 = t }
            } else {
                channel.closeFuture.whenComplete { _ in action() }
            }
        }
    }

    /// Stops waiting; the action does not run after this (an HTTP/2 stream's close, which
    /// ends with the stream anyway, may still run it).
    public func cancel() {
        guard let channel else { return }
        // Runs after the registration above: one event loop runs its tasks in order.
        channel.eventLoop.execute { [self] in
            guard let t = self.token.withLock({ $0 }),
                  let handler = try? channel.pipeline.syncOperations.handler(type: HTTP1ClientGoneHandler.self) else { return }
            handler.cancel(t)
        }
    }
}
