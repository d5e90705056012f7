import Foundation
import Glibc
import OrcaCore

/// Reads a blocking file descriptor (pipe, terminal, socket) on a thread of its own and hands
/// the chunks to async code, with bounded buffering: at most `window` chunks wait for the
/// consumer. Owns the descriptor and closes it when reading ends.
///
/// Reading ends at end of file, on `EIO` (a terminal whose other side closed), on an error, or
/// when `stop()` is called.
public final class FileDescriptorReader: Sendable {
    /// The chunks read, in order; finishes at the end of input.
    public let chunks: AsyncThrowingStream<[UInt8], any Error>
    private let wake: WakePipe
    private let credits: DispatchSemaphore

    /// Starts reading `fd` at once.
    public init(fd: Int32, chunkSize: Int = 32 * 1024, window: Int = 8) throws {
        let wake = try WakePipe()
        let credits = DispatchSemaphore(value: window)
        self.wake = wake
        self.credits = credits
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        chunks = stream
        let thread = Thread {
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: chunkSize)
            while true {
                credits.wait()
                var pfds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
                let ready = Syscall.attempt { poll(&pfds, 2, -1) }
                if ready.result < 0 { continuation.finish(throwing: Syscall.error("poll", "stream", errno: ready.errno)); return }
                if pfds[1].revents != 0 { continuation.finish(); return }
                let n = Syscall.attempt { Int32(truncatingIfNeeded: read(fd, &buffer, buffer.count)) }
                if n.result == 0 || (n.result < 0 && (n.errno == EIO || n.errno == ECONNRESET)) { continuation.finish(); return }
                if n.result < 0 { continuation.finish(throwing: Syscall.error("read", "stream", errno: n.errno)); return }
                continuation.yield(Array(buffer[0..<Int(n.result)]))
            }
        }
        thread.name = "orca-fd-reader"
        continuation.onTermination = { _ in
            wake.signal()
            credits.signal()
        }
        thread.start()
    }

    /// Tells the reader that one chunk was consumed (and another may be read).
    public func consumed() { credits.signal() }

    /// Stops reading (the stream finishes); the descriptor is closed by the reading thread.
    public func stop() {
        wake.signal()
        credits.signal()
    }

    /// Hands every chunk to `body` until the input ends.
    public func forEach(_ body: ([UInt8]) async throws -> Void) async throws {
        for try await chunk in chunks {
            try await body(chunk)
            consumed()
        }
    }
}

/// Writes to a blocking file descriptor from async code, one write at a time on a serial
/// queue (never on the cooperative pool). Owns the descriptor.
///
/// `@unchecked Sendable`: `fd`, its only mutable state, is read and written only in blocks on
/// the serial `queue`, which orders every access.
public final class FileDescriptorWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "orca.fd-writer")
    private var fd: Int32

    public init(fd: Int32) {
        self.fd = fd
        Self.ignoreBrokenPipes()
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Writes all of `bytes`; throws when the other side is gone.
    public func write(_ bytes: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            queue.async {
                guard self.fd >= 0 else { return c.resume(throwing: OrcaError(.system, "write on a closed stream")) }
                var offset = 0
                while offset < bytes.count {
                    let r = bytes.withUnsafeBytes { buf in
                        Syscall.attempt { Int32(truncatingIfNeeded: Glibc.write(self.fd, buf.baseAddress! + offset, bytes.count - offset)) }
                    }
                    if r.result < 0 { return c.resume(throwing: Syscall.error("write", "stream", errno: r.errno)) }
                    offset += Int(r.result)
                }
                c.resume()
            }
        }
    }

    /// Ends the stream for the reader on the other side: `shutdown(SHUT_WR)` on a socket,
    /// `close` on anything else. Pending writes go first.
    public func closeWrite() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            queue.async {
                if self.fd >= 0 {
                    if shutdown(self.fd, Int32(SHUT_WR)) != 0 {
                        Glibc.close(self.fd)
                        self.fd = -1
                    }
                }
                c.resume()
            }
        }
    }

    /// Closes the descriptor after pending writes.
    public func close() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            queue.async {
                if self.fd >= 0 { Glibc.close(self.fd) }
                self.fd = -1
                c.resume()
            }
        }
    }
}

/// A pipe whose write end wakes a thread blocked in `poll`; both ends close when the last user goes.
final class WakePipe: Sendable {
    let read: Int32
    let write: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        try Syscall.call("pipe", "wake-up") { pipe(&fds) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        read = fds[0]
        write = fds[1]
    }

    deinit {
        close(read)
        close(write)
    }

    func signal() {
        var one: UInt8 = 1
        _ = Glibc.write(write, &one, 1)
    }
}

extension FileDescriptorReader {
    /// The chunks as a plain stream: a chunk counts as consumed when the next one is asked for.
    public func unfolded() -> AsyncThrowingStream<[UInt8], any Error> {
        let cursor = ChunkCursor(chunks.makeAsyncIterator())
        return AsyncThrowingStream(unfolding: { [self] in
            if cursor.delivered { consumed() }
            let next = try await cursor.next()
            cursor.delivered = next != nil
            return next
        })
    }
}

/// The iterator behind `unfolded()`; only ever used by one consumer at a time.
///
/// `@unchecked Sendable`: the unfolding closure that owns it is called by one consumer, one
/// call after another (AsyncSequence iteration is never concurrent), so its state is never
/// touched by two tasks at once.
private final class ChunkCursor: @unchecked Sendable {
    var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
    var delivered = false
    init(_ iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator) { self.iterator = iterator }
    func next() async throws -> [UInt8]? { try await iterator.next() }
}
