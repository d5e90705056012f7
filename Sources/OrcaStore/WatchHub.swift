import Synchronization

/// Fans out committed store events to watchers, for any `KVStore` backend.
///
/// A backend opens a watch in three steps, which together deliver history then live
/// events with no gap and no duplicate:
///
/// 1. ``subscribe(prefix:afterRevision:)`` registers the watcher; events published from
///    now on are held back for it.
/// 2. The backend reads its stored history (events with revision > `afterRevision`).
/// 3. ``replay(_:to:)`` delivers that history, then the held-back events it did not
///    cover, and switches the watcher to live delivery.
///
/// The backend calls ``publish(_:)`` once per committed write, in revision order
/// (from its serialized write path, after the commit). Events at or below a watcher's
/// last delivered revision are dropped, so an event both read as history and published
/// live is seen once. A watcher whose consumer stops iterating is removed.
public final class WatchHub: Sendable {
    /// A registered watcher: its id (for ``replay(_:to:)``/``cancel(_:throwing:)``) and its stream.
    public struct Subscription: Sendable {
        /// Identifies the watcher inside the hub.
        public let id: Int
        /// The events for the consumer.
        public let stream: AsyncThrowingStream<WatchEvent, any Error>
    }

    private struct Watcher {
        var prefix: String
        var continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation
        /// The revision of the last event delivered (or skipped as covered).
        var lastRevision: Int64
        /// Live events received while the history is being read; nil once live.
        var held: [WatchEvent]?
    }

    private struct State {
        var nextID = 0
        var watchers: [Int: Watcher] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Creates an empty hub.
    public init() {}

    /// The number of registered watchers (replaying or live).
    public var watcherCount: Int {
        state.withLock { $0.watchers.count }
    }

    /// Registers a watcher for keys with `prefix` and revisions > `afterRevision`.
    ///
    /// Until ``replay(_:to:)`` is called, published events are held for it. If the hub
    /// is closed, the returned stream is already finished.
    public func subscribe(prefix: String, afterRevision: Int64) -> Subscription {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent, any Error>.makeStream()
        let id: Int? = state.withLock { state in
            if state.closed { return nil }
            let id = state.nextID
            state.nextID += 1
            state.watchers[id] = Watcher(
                prefix: prefix, continuation: continuation, lastRevision: afterRevision, held: [])
            return id
        }
        guard let id else {
            continuation.finish()
            return Subscription(id: -1, stream: stream)
        }
        continuation.onTermination = { [weak self] _ in
            self?.remove(id)
        }
        return Subscription(id: id, stream: stream)
    }

    /// Delivers `history` (in revision order) to watcher `id`, then the live events held
    /// for it that the history did not cover, and makes it live.
    ///
    /// Events outside the watcher's prefix or at/below its last revision are skipped.
    public func replay(_ history: [WatchEvent], to id: Int) {
        state.withLock { state in
            guard var watcher = state.watchers.removeValue(forKey: id) else { return }
            for event in history { Self.deliver(event, to: &watcher) }
            let held = watcher.held ?? []
            watcher.held = nil
            for event in held { Self.deliver(event, to: &watcher) }
            state.watchers[id] = watcher
        }
    }

    /// Publishes one committed event to every watcher whose prefix matches it.
    ///
    /// Call in revision order, after the write is durable.
    public func publish(_ event: WatchEvent) {
        let key = event.key
        state.withLock { state in
            // Mutate in place (through `values`) so held arrays are not copied.
            var index = state.watchers.values.startIndex
            while index != state.watchers.values.endIndex {
                if Self.matches(key, state.watchers.values[index].prefix) {
                    if state.watchers.values[index].held != nil {
                        state.watchers.values[index].held!.append(event)
                    } else {
                        Self.deliver(event, to: &state.watchers.values[index])
                    }
                }
                state.watchers.values.formIndex(after: &index)
            }
        }
    }

    /// Removes watcher `id` and ends its stream, with `error` if given.
    public func cancel(_ id: Int, throwing error: (any Error)? = nil) {
        let watcher = state.withLock { $0.watchers.removeValue(forKey: id) }
        // Finish outside the lock: finishing runs onTermination, which takes the lock.
        watcher?.continuation.finish(throwing: error)
    }

    /// Ends every stream (with `error` if given) and refuses new watchers.
    public func close(throwing error: (any Error)? = nil) {
        let watchers = state.withLock { state in
            state.closed = true
            defer { state.watchers.removeAll() }
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.continuation.finish(throwing: error) }
    }

    private func remove(_ id: Int) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }

    private static func deliver(_ event: WatchEvent, to watcher: inout Watcher) {
        guard event.revision > watcher.lastRevision, matches(event.key, watcher.prefix) else { return }
        watcher.lastRevision = event.revision
        watcher.continuation.yield(event)
    }

    /// Byte-wise prefix test (keys are compared as UTF-8, as the backends store them).
    static func matches(_ key: String, _ prefix: String) -> Bool {
        key.utf8.starts(with: prefix.utf8)
    }
}

extension WatchEvent {
    /// The key the event is about.
    public var key: String {
        switch self {
        case .put(let kv, _): return kv.key
        case .delete(let previous, _): return previous.key
        }
    }
}
