import OrcaCore
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
///
/// Nothing buffers without bound: as kube-apiserver's cacher does, a watcher with
/// ``bufferLimit`` live events waiting for its consumer is closed — its stream throws
/// ``OrcaError/Code/watcherTooSlow`` and the consumer watches again or re-lists. Publishing
/// never waits for a consumer, and a slow watcher never affects the others.
public final class WatchHub: Sendable {
    /// Live events one watcher may have waiting before it is closed (the cacher uses a
    /// 100-event channel plus a short blocking budget; this is its bounded equivalent).
    public static let defaultBufferLimit = 1000

    /// A registered watcher: its id (for ``replay(_:to:)``/``cancel(_:throwing:)``) and its stream.
    public struct Subscription: Sendable {
        /// Identifies the watcher inside the hub.
        public let id: Int
        /// The events for the consumer.
        public let stream: AsyncThrowingStream<WatchEvent, any Error>
    }

    private struct Watcher {
        var prefix: String
        let queue: WatchQueue
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

    /// The most live events a watcher may have waiting (held during replay, or queued
    /// for its consumer) before it is closed.
    public let bufferLimit: Int

    /// Creates an empty hub whose watchers may fall `bufferLimit` events behind.
    public init(bufferLimit: Int = WatchHub.defaultBufferLimit) {
        precondition(bufferLimit > 0, "a watch buffer holds at least one event")
        self.bufferLimit = bufferLimit
    }

    /// The number of registered watchers (replaying or live).
    public var watcherCount: Int {
        state.withLock { $0.watchers.count }
    }

    /// Registers a watcher for keys with `prefix` and revisions > `afterRevision`.
    ///
    /// Until ``replay(_:to:)`` is called, published events are held for it. If the hub
    /// is closed, the returned stream is already finished.
    public func subscribe(prefix: String, afterRevision: Int64) -> Subscription {
        let limit = bufferLimit
        let registered: (id: Int, queue: WatchQueue)? = state.withLock { state in
            if state.closed { return nil }
            let id = state.nextID
            state.nextID += 1
            let queue = WatchQueue(limit: limit) { [weak self] in self?.remove(id) }
            state.watchers[id] = Watcher(prefix: prefix, queue: queue, lastRevision: afterRevision, held: [])
            return (id, queue)
        }
        guard let registered else {
            return Subscription(id: -1, stream: AsyncThrowingStream { $0.finish() })
        }
        return Subscription(id: registered.id, stream: registered.queue.stream())
    }

    /// Delivers `history` (in revision order) to watcher `id`, then the live events held
    /// for it that the history did not cover, and makes it live.
    ///
    /// Events outside the watcher's prefix or at/below its last revision are skipped.
    /// The history is handed over at the consumer's pace; it does not count against
    /// ``bufferLimit`` (the backend has already read it into memory).
    public func replay(_ history: [WatchEvent], to id: Int) {
        state.withLock { state in
            guard var watcher = state.watchers.removeValue(forKey: id) else { return }
            var events: [WatchEvent] = []
            let held = watcher.held ?? []
            watcher.held = nil
            for event in [history, held].joined() {
                if Self.advance(&watcher, past: event) { events.append(event) }
            }
            watcher.queue.start(events)
            state.watchers[id] = watcher
        }
    }

    /// Publishes one committed event to every watcher whose prefix matches it.
    ///
    /// Call in revision order, after the write is durable. Never waits: a watcher with
    /// ``bufferLimit`` events already waiting is closed and removed instead.
    public func publish(_ event: WatchEvent) {
        let key = event.key
        let limit = bufferLimit
        state.withLock { state in
            var closed: [Int] = []
            // Mutate in place (through `values`) so held arrays are not copied.
            var index = state.watchers.values.startIndex
            while index != state.watchers.values.endIndex {
                if Self.matches(key, state.watchers.values[index].prefix) {
                    if state.watchers.values[index].held != nil {
                        if state.watchers.values[index].held!.count < limit {
                            state.watchers.values[index].held!.append(event)
                        } else {
                            state.watchers.values[index].queue.overflow()
                            closed.append(state.watchers.keys[index])
                        }
                    } else if !Self.deliver(event, to: &state.watchers.values[index]) {
                        closed.append(state.watchers.keys[index])
                    }
                }
                state.watchers.values.formIndex(after: &index)
            }
            for id in closed { state.watchers.removeValue(forKey: id) }
        }
    }

    /// Removes watcher `id` and ends its stream (after what is queued), with `error` if given.
    public func cancel(_ id: Int, throwing error: (any Error)? = nil) {
        let watcher = state.withLock { $0.watchers.removeValue(forKey: id) }
        watcher?.queue.finish(throwing: error)
    }

    /// Ends every stream (with `error` if given) and refuses new watchers.
    public func close(throwing error: (any Error)? = nil) {
        let watchers = state.withLock { state in
            state.closed = true
            defer { state.watchers.removeAll() }
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.queue.finish(throwing: error) }
    }

    private func remove(_ id: Int) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }

    /// Whether `event` is news for `watcher` (in its prefix, after its last revision);
    /// if so, records it as the last revision.
    private static func advance(_ watcher: inout Watcher, past event: WatchEvent) -> Bool {
        guard event.revision > watcher.lastRevision, matches(event.key, watcher.prefix) else { return false }
        watcher.lastRevision = event.revision
        return true
    }

    /// Queues a live event for `watcher`; false if the watcher is closed (now or before).
    private static func deliver(_ event: WatchEvent, to watcher: inout Watcher) -> Bool {
        guard advance(&watcher, past: event) else { return true }
        return watcher.queue.push(event)
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
