import Hummingbird
import NIOCore

/// Writes a stream of chunks to a response until the stream ends or the client goes. The
/// chunks are pulled in a task of their own, at most one ahead of the writer (a slow client
/// never makes them pile up), and that task is cancelled when the client goes: a followed log
/// with nothing new to write then ends at once, not with its container.
enum ClientBoundBody {
    /// Writes `chunks` to `writer` (without finishing it) until they end, or the client of
    /// `channel` goes (see `ClientGoneSubscription`).
    static func write(_ chunks: AsyncThrowingStream<[UInt8], any Error>, to writer: inout any ResponseBodyWriter,
                      channel: (any Channel)?) async throws {
        let (items, itemsContinuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
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
            try await writer.write(ByteBuffer(bytes: chunk))
            takenContinuation.yield()
        }
    }
}
