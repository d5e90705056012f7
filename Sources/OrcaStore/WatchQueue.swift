import OrcaCore
import Synchronization

extension OrcaError.Code {
    /// A watcher fell ``WatchHub/bufferLimit`` events behind and was closed, as
    /// kube-apiserver's cacher closes a watcher whose buffer is full. The consumer
    /// watches again from the last revision it saw (or re-lists).
    public static let watcherTooSlow = OrcaError.Code("WatcherTooSlow")
}

/// The events waiting for one watcher's consumer, and the consumer's end of the watch.
///
/// Holds the replayed history (already read into memory by the backend, handed over at
/// the consumer's pace) and at most `limit` live events. The producer never waits: a
/// live event that finds `limit` events waiting closes the watch instead — everything
/// queued is dropped and the consumer's next call throws ``OrcaError/Code/watcherTooSlow``.
///
/// One consumer at a time (the task iterating the stream); any number of producers.
final class WatchQueue: Sendable {
    private enum End {
        case finished
        case failed(any Error)
    }

    private struct State {
        /// Replayed history (and the live events held while it was read), oldest first.
        var history: [WatchEvent] = []
        var historyIndex = 0
        /// Live events, oldest first, from `liveIndex` on.
        var live: [WatchEvent] = []
        var liveIndex = 0
        /// Set once the watch has ended; queued events are still delivered first.
        var end: End?
        /// The consumer, suspended in ``next()`` while nothing is queued.
        var waiter: CheckedContinuation<WatchEvent?, any Error>?

        var liveCount: Int { live.count - liveIndex }
        var ended: Bool { end != nil }

        mutating func popFirst() -> WatchEvent? {
            if historyIndex < history.count {
                let event = history[historyIndex]
                historyIndex += 1
                if historyIndex == history.count {
                    history = []
                    historyIndex = 0
                }
                return event
            }
            guard liveIndex < live.count else { return nil }
            let event = live[liveIndex]
            liveIndex += 1
            if liveIndex == live.count {
                // A burst's buffer goes with the burst; a small one is kept for the next event.
                live.removeAll(keepingCapacity: live.capacity <= 64)
                liveIndex = 0
            } else if liveIndex >= 64, liveIndex * 2 >= live.count {
                live.removeFirst(liveIndex)
                liveIndex = 0
            }
            return event
        }

        mutating func dropQueued() {
            history = []
            historyIndex = 0
            live = []
            liveIndex = 0
        }
    }

    private let state = Mutex(State())
    /// The most live events that may wait for the consumer.
    let limit: Int
    /// Called (outside the lock) when the consumer goes away: its task is cancelled or
    /// its stream is released. The hub forgets the watcher.
    private let onCancel: @Sendable () -> Void

    init(limit: Int, onCancel: @escaping @Sendable () -> Void) {
        self.limit = limit
        self.onCancel = onCancel
    }

    /// The consumer's stream. Releasing it, or cancelling the task iterating it, ends
    /// the watch.
    func stream() -> AsyncThrowingStream<WatchEvent, any Error> {
        let handle = Handle(self)
        return AsyncThrowingStream(unfolding: { try await handle.next() })
    }

    /// Hands over the replayed events (delivered before any live event), waking a
    /// waiting consumer.
    func start(_ events: [WatchEvent]) {
        guard !events.isEmpty else { return }
        let (first, waiter): (WatchEvent?, CheckedContinuation<WatchEvent?, any Error>?) = state.withLock { state in
            guard !state.ended else { return (nil, nil) }
            state.history.append(contentsOf: events)
            guard let waiter = state.waiter else { return (nil, nil) }
            state.waiter = nil
            return (state.popFirst(), waiter)
        }
        if let waiter { waiter.resume(returning: first) }
    }

    /// Queues a live event, or hands it to the waiting consumer. Never waits.
    ///
    /// Returns false if the watch has ended: before, or now because `limit` live events
    /// were already waiting (the queue is then dropped and the consumer gets the error).
    func push(_ event: WatchEvent) -> Bool {
        let (accepted, waiter): (Bool, CheckedContinuation<WatchEvent?, any Error>?) = state.withLock { state in
            guard !state.ended else { return (false, nil) }
            if let waiter = state.waiter {
                // A waiting consumer means nothing is queued: hand the event over.
                state.waiter = nil
                return (true, waiter)
            }
            guard state.liveCount < limit else {
                state.dropQueued()
                state.end = .failed(Self.tooSlow(limit))
                return (false, nil)
            }
            state.live.append(event)
            return (true, nil)
        }
        waiter?.resume(returning: event)
        return accepted
    }

    /// Ends the watch for being `limit` events behind: drops what is queued; the consumer's
    /// next call throws ``OrcaError/Code/watcherTooSlow``.
    func overflow() {
        let waiter: CheckedContinuation<WatchEvent?, any Error>? = state.withLock { state in
            guard !state.ended else { return nil }
            state.dropQueued()
            guard let waiter = state.waiter else {
                state.end = .failed(Self.tooSlow(limit))
                return nil
            }
            state.waiter = nil
            state.end = .finished
            return waiter
        }
        waiter?.resume(throwing: Self.tooSlow(limit))
    }

    /// Ends the watch after the queued events, with `error` if given.
    func finish(throwing error: (any Error)? = nil) {
        let waiter: CheckedContinuation<WatchEvent?, any Error>? = state.withLock { state in
            guard !state.ended else { return nil }
            guard let waiter = state.waiter else {
                if let error {
                    state.end = .failed(error)
                } else {
                    state.end = .finished
                }
                return nil
            }
            // A waiting consumer means nothing is queued: it gets the end now.
            state.waiter = nil
            state.end = .finished
            return waiter
        }
        guard let waiter else { return }
        if let error {
            waiter.resume(throwing: error)
        } else {
            waiter.resume(returning: nil)
        }
    }

    /// The consumer went away: drop everything, wake it if it waits, tell the hub.
    func cancel() {
        let waiter: CheckedContinuation<WatchEvent?, any Error>? = state.withLock { state in
            state.dropQueued()
            state.end = .finished
            defer { state.waiter = nil }
            return state.waiter
        }
        onCancel()
        waiter?.resume(returning: nil)
    }

    /// The next event: a queued one, else waits for one. Nil once the watch has ended
    /// (after its error, if it ended with one) or the task is cancelled.
    func next() async throws -> WatchEvent? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<WatchEvent?, any Error>) in
                let result: Result<WatchEvent?, any Error>? = state.withLock { state in
                    if let event = state.popFirst() { return .success(event) }
                    switch state.end {
                    case .failed(let error):
                        state.end = .finished
                        return .failure(error)
                    case .finished:
                        return .success(nil)
                    case nil:
                        precondition(state.waiter == nil, "one watch stream iterated by two tasks at once")
                        state.waiter = continuation
                        return nil
                    }
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            self.cancel()
        }
    }

    private static func tooSlow(_ limit: Int) -> OrcaError {
        OrcaError(.watcherTooSlow, "watcher closed: more than \(limit) events waited for it; watch again from its last revision")
    }

    /// Held only by the stream: when the stream (and its iterator) is released, this is
    /// too, and the watch ends.
    private final class Handle: Sendable {
        let queue: WatchQueue
        init(_ queue: WatchQueue) { self.queue = queue }
        func next() async throws -> WatchEvent? { try await queue.next() }
        deinit { queue.cancel() }
    }
}
