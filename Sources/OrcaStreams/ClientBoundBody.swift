import Hummingbird
import NIOCore

/// Writes a stream of chunks to a response until the stream ends or the client goes. The
/// chunks are pulled in a task of their own, at most one ahead of the writer (a slow client
/// never makes them pile up), and that task is cancelled when the client goes: a followed log
/// with nothing new to write then ends at once, not with its container.
public enum ClientBoundBody {
    /// Writes `chunks` to `writer` (without finishing it) until they end, or the client of
    /// `channel` goes (see `ClientGoneSubscription`).
    public static func write(_ chunks: AsyncThrowingStream<[UInt8], any Error>, to writer: inout any ResponseBodyWriter,
                             channel: (any Channel)?) async throws {
        try await write(buffers: chunks.map { ByteBuffer(bytes: $0) }, to: &writer, channel: channel)
    }

    /// `write(_:to:channel:)` for chunks that are buffers already (a proxied response's body).
    public static func write<Chunks: AsyncSequence & Sendable>(buffers chunks: Chunks, to writer: inout any ResponseBodyWriter,
                                                                channel: (any Channel)?) async throws where Chunks.Element == ByteBuffer {
        let (items, itemsContinuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let (taken, takenContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let reader = Task {
            var acknowledgements = taken.makeAsyncIterator()
            do {
                for try await chunk in chunks {
                    itemsContinuation.yield(chunk)
                    guard await acknowledgements.next() != nil else { break }
                }
                itemsContinuation.finish()
            } catch {
                itemsContinuation.finish(throwing: error)
            }
        }
        let clientGone = ClientGoneSubscription(channel: channel) {
            reader.cancel()
            itemsContinuation.finish()
        }
        defer {
            clientGone.cancel()
            reader.cancel()
            takenContinuation.finish()
        }
        for try await chunk in items {
            try await writer.write(chunk)
            takenContinuation.yield()
        }
    }
}
