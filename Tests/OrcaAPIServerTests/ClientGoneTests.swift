import NIOCore
import NIOEmbedded
@testable import OrcaAPIServer
import OrcaStreams
import Synchronization
import Testing

/// Watches learn that their HTTP/1.1 client went (end of input or close), and a watch that
/// ends first leaves nothing on its keep-alive connection.
struct ClientGoneTests {
    final class Counter: Sendable {
        let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    func connection() throws -> (EmbeddedChannel, HTTP1ClientGoneHandler) {
        let handler = HTTP1ClientGoneHandler()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(handler)
        return (channel, handler)
    }

    @Test func finishedWatchesLeaveNothingOnTheConnection() throws {
        let (channel, handler) = try connection()
        let ran = Counter()
        let finished = (0..<50).map { _ in ClientGoneSubscription(channel: channel) { ran.add() } }
        let open = ClientGoneSubscription(channel: channel) { ran.add() }
        channel.embeddedEventLoop.run()
        #expect(handler.waitingCount == 51)
        for subscription in finished { subscription.cancel() }
        channel.embeddedEventLoop.run()
        #expect(handler.waitingCount == 1)

        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(ran.count == 1, "only the open watch hears that the client went")
        #expect(handler.waitingCount == 0)
        open.cancel()
        channel.embeddedEventLoop.run()
        _ = try channel.finish()
        #expect(ran.count == 1, "and only once")
    }

    @Test func aWatchStartedAfterTheClientWentEndsAtOnce() throws {
        let (channel, handler) = try connection()
        // The client half-closed: the connection (and the handler) stay for answers in flight.
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        let ran = Counter()
        _ = ClientGoneSubscription(channel: channel) { ran.add() }
        channel.embeddedEventLoop.run()
        #expect(ran.count == 1)
        #expect(handler.waitingCount == 0)
        _ = try channel.finish()
        #expect(ran.count == 1)
    }

    @Test func withoutTheHandlerTheChannelsCloseEndsTheWatch() throws {
        let channel = EmbeddedChannel()
        let ran = Counter()
        _ = ClientGoneSubscription(channel: channel) { ran.add() }
        channel.embeddedEventLoop.run()
        #expect(ran.count == 0)
        _ = try channel.finish()
        channel.embeddedEventLoop.run()
        #expect(ran.count == 1)
    }
}
