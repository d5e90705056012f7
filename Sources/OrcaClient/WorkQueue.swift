import Foundation

/// A queue of keys for level-triggered reconcilers: a key queued while waiting is not
/// added twice, a key being processed is never handed out twice at once (it is re-queued
/// when done if it was added meanwhile), and retries back off exponentially per key.
public actor WorkQueue {
    var queue: [String] = []
    var queued: Set<String> = []
    var processing: Set<String> = []
    var dirtyWhileProcessing: Set<String> = []
    var failures: [String: Int] = [:]
    var waiters: [CheckedContinuation<String?, Never>] = []
    var shutDown = false

    public init() {}

    public func add(_ key: String) {
        guard !shutDown else { return }
        if processing.contains(key) { dirtyWhileProcessing.insert(key); return }
        guard queued.insert(key).inserted else { return }
        if !waiters.isEmpty {
            queued.remove(key)
            processing.insert(key)
            waiters.removeFirst().resume(returning: key)
        } else {
            queue.append(key)
        }
    }

    /// Adds `key` after `delay`.
    public nonisolated func add(_ key: String, after delay: Duration) {
        Task {
            try? await Task.sleep(for: delay)
            await self.add(key)
        }
    }

    /// Re-adds `key` with per-key exponential back-off (5 ms doubling, capped at 30 s).
    public func retry(_ key: String) {
        let n = failures[key, default: 0]
        failures[key] = n + 1
        let ms = min(5 * (1 << min(n, 13)), 30_000)
        add(key, after: .milliseconds(ms))
    }

    /// Clears the back-off of `key` after a success.
    public func forget(_ key: String) { failures[key] = nil }

    /// The next key, or nil once shut down.
    public func next() async -> String? {
        if shutDown { return nil }
        if !queue.isEmpty {
            let key = queue.removeFirst()
            queued.remove(key)
            processing.insert(key)
            return key
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Marks `key` processed; re-queues it if it was added meanwhile.
    public func done(_ key: String) {
        processing.remove(key)
        if dirtyWhileProcessing.remove(key) != nil { add(key) }
    }

    public func shutdown() {
        shutDown = true
        for w in waiters { w.resume(returning: nil) }
        waiters = []
    }
}
