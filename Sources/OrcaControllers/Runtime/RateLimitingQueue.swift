import Foundation
import OrcaClient

/// The work queue of level-triggered controllers (client-go's rate-limited work queue):
/// - a key waiting in the queue is not added twice;
/// - a key being reconciled is never handed to a second worker; if it is added meanwhile
///   it is queued again when the first worker is `done`;
/// - `addRateLimited` re-adds a key after its per-key exponential back-off
///   (5 ms doubling to at most 1000 s), which `forget` resets;
/// - `add(_:after:)` delays on the injected clock.
public actor RateLimitingQueue {
    /// Per-key exponential back-off, as client-go's `ItemExponentialFailureRateLimiter`.
    public struct Backoff: Sendable {
        public var base: Duration
        public var maximum: Duration

        public init(base: Duration = .milliseconds(5), maximum: Duration = .seconds(1000)) {
            self.base = base
            self.maximum = maximum
        }

        /// The delay after `failures` earlier failures: base·2^failures, capped.
        public func delay(afterFailures failures: Int) -> Duration {
            let exponent = min(failures, 62)
            let seconds = base.timeInterval * pow(2, Double(exponent))
            return seconds >= maximum.timeInterval ? maximum : .seconds(seconds)
        }
    }

    let clock: any WallClock
    let backoff: Backoff
    var queue: [String] = []
    var head = 0
    var queued: Set<String> = []
    var processing: Set<String> = []
    var dirtyWhileProcessing: Set<String> = []
    var failures: [String: Int] = [:]
    var waiters: [CheckedContinuation<String?, Never>] = []
    var timers: [UInt64: Task<Void, Never>] = [:]
    /// The earliest pending deadline of each delayed key (client-go's `waitingForQueue`).
    var waitingUntil: [String: Date] = [:]
    var nextTimer: UInt64 = 0
    var isShutDown = false

    public init(clock: any WallClock = SystemClock(), backoff: Backoff = Backoff()) {
        self.clock = clock
        self.backoff = backoff
    }

    /// Queues `key` (once).
    public func add(_ key: String) {
        guard !isShutDown else { return }
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

    /// Queues `key` once `delay` has passed on the clock. A key already waiting for an earlier
    /// or equal deadline is not given a second timer.
    public func add(_ key: String, after delay: Duration) {
        guard !isShutDown else { return }
        if delay <= .zero { add(key); return }
        let deadline = clock.now.addingTimeInterval(delay.timeInterval)
        if let pending = waitingUntil[key], pending <= deadline { return }
        waitingUntil[key] = deadline
        nextTimer += 1
        let id = nextTimer
        let clock = self.clock
        timers[id] = Task {
            do { try await clock.sleep(until: deadline) } catch { return }
            await self.fire(id, key, deadline)
        }
    }

    func fire(_ id: UInt64, _ key: String, _ deadline: Date) {
        timers[id] = nil
        if waitingUntil[key] == deadline { waitingUntil[key] = nil }
        add(key)
    }

    /// Queues `key` after its back-off and counts one more failure.
    public func addRateLimited(_ key: String) {
        let n = failures[key, default: 0]
        failures[key] = n + 1
        add(key, after: backoff.delay(afterFailures: n))
    }

    /// How many times `key` failed since it last succeeded.
    public func numRequeues(_ key: String) -> Int { failures[key, default: 0] }

    /// Clears the back-off of `key` after a success.
    public func forget(_ key: String) { failures[key] = nil }

    /// The next key to reconcile, or nil once shut down.
    public func next() async -> String? {
        if isShutDown { return nil }
        if head < queue.count {
            let key = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count { queue.removeFirst(head); head = 0 }
            queued.remove(key)
            processing.insert(key)
            return key
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Marks `key` reconciled; queues it again if it was added meanwhile.
    public func done(_ key: String) {
        processing.remove(key)
        if dirtyWhileProcessing.remove(key) != nil { add(key) }
    }

    /// Keys waiting (not counting delayed ones).
    public var count: Int { queue.count - head }

    /// Stops handing out keys: waiting workers get nil, timers are cancelled.
    public func shutDown() {
        isShutDown = true
        for w in waiters { w.resume(returning: nil) }
        waiters = []
        for t in timers.values { t.cancel() }
        timers = [:]
        waitingUntil = [:]
    }

    /// Opens the queue again for a new run (after `shutDown`): a controller that stopped when
    /// its leader lost the lease starts again when it leads again. Keys still queued stay (a
    /// reconcile reads the cache, so a stale key costs one look); the informers' resync queues
    /// every object anyway.
    public func start() {
        isShutDown = false
    }
}
