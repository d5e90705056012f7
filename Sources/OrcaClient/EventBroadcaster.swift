import Foundation

/// Sends recorded events from its own task, so that recording one never waits for the API
/// (client-go's event broadcaster): at most `capacity` wait, the newest kept; during an
/// outage older ones are dropped, as events are best effort.
public final class EventBroadcaster: Sendable {
    typealias Send = @Sendable () async -> Void
    private let stream: AsyncStream<Send>
    private let continuation: AsyncStream<Send>.Continuation

    public init(capacity: Int = 1000) {
        (stream, continuation) = AsyncStream<Send>.makeStream(bufferingPolicy: .bufferingNewest(capacity))
    }

    func enqueue(_ send: @escaping Send) { continuation.yield(send) }

    /// Sends the queued events in order until cancelled.
    public func run() async {
        for await send in stream {
            if Task.isCancelled { return }
            await send()
        }
    }
}
