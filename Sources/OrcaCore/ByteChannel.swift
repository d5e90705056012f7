import Synchronization

/// A single-producer, single-consumer byte channel with back-pressure: `send` suspends while
/// more than `limit` bytes wait to be received, so a fast client cannot make the server buffer
/// without bound ahead of a slow reader (exec stdin: the kubelet likewise stops reading the
/// connection while the process's stdin pipe is full).
///
/// `finish()` ends the stream for the consumer after what was sent; `close()` (the consumer is
/// gone) drops what is buffered and releases a suspended sender, whose later sends are dropped.
public final class ByteChannel: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var head = 0
        var buffered = 0
        var finished = false
        var closed = false
        var receiver: CheckedContinuation<[UInt8]?, Never>?
        var sender: CheckedContinuation<Void, Never>?
    }

    /// The bytes that may wait before `send` suspends.
    public let limit: Int
    private let state = Mutex(State())

    public init(limit: Int = 1 << 20) { self.limit = limit }

    /// Hands `bytes` to the consumer; suspends while the channel holds more than `limit` bytes.
    /// Returns at once (dropping `bytes`) once the consumer closed the channel or the task is
    /// cancelled.
    public func send(_ bytes: [UInt8]) async {
        guard !bytes.isEmpty else { return }
        let receiver: CheckedContinuation<[UInt8]?, Never>? = state.withLock { s in
            guard !s.closed, !s.finished else { return nil }
            if let waiting = s.receiver {
                s.receiver = nil
                return waiting
            }
            s.chunks.append(bytes)
            s.buffered += bytes.count
            return nil
        }
        if let receiver {
            receiver.resume(returning: bytes)
            return
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.closed || s.buffered <= limit || Task.isCancelled { return true }
                    s.sender = c
                    return false
                }
                if ready { c.resume() }
            }
        } onCancel: {
            state.withLock { s in
                defer { s.sender = nil }
                return s.sender
            }?.resume()
        }
    }

    /// No more bytes will be sent: the consumer gets nil after the buffered ones.
    public func finish() {
        let receiver = state.withLock { s in
            s.finished = true
            defer { s.receiver = nil }
            return s.chunks.count == s.head ? s.receiver : nil
        }
        receiver?.resume(returning: nil)
    }

    /// The consumer is gone: buffered bytes are dropped and a waiting sender released.
    public func close() {
        let (receiver, sender) = state.withLock { s in
            s.closed = true
            s.chunks = []
            s.head = 0
            s.buffered = 0
            defer {
                s.receiver = nil
                s.sender = nil
            }
            return (s.receiver, s.sender)
        }
        receiver?.resume(returning: nil)
        sender?.resume()
    }

    /// The next chunk, or nil once the channel is finished and drained (or closed).
    public func receive() async -> [UInt8]? {
        await withCheckedContinuation { (c: CheckedContinuation<[UInt8]?, Never>) in
            let (chunk, end, sender) = state.withLock { s -> ([UInt8]?, Bool, CheckedContinuation<Void, Never>?) in
                if s.closed { return (nil, true, nil) }
                if s.head < s.chunks.count {
                    let chunk = s.chunks[s.head]
                    s.head += 1
                    s.buffered -= chunk.count
                    if s.head == s.chunks.count {
                        s.chunks = []
                        s.head = 0
                    }
                    var release: CheckedContinuation<Void, Never>?
                    if s.buffered <= limit {
                        release = s.sender
                        s.sender = nil
                    }
                    return (chunk, false, release)
                }
                if s.finished { return (nil, true, nil) }
                s.receiver = c
                return (nil, false, nil)
            }
            sender?.resume()
            if let chunk { c.resume(returning: chunk) } else if end { c.resume(returning: nil) }
        }
    }

    /// The consumer's side as a stream; cancelling its iteration closes the channel.
    public var stream: AsyncStream<[UInt8]> {
        AsyncStream(unfolding: { await self.receive() }, onCancel: { self.close() })
    }
}
