import Foundation
import OrcaClient
import OrcaCore

/// The work queue of level-triggered controllers (client-go's rate-limited work queue):
/// - a key waiting in the queue is not added twice;
/// - a key being reconciled is never handed to a second worker; if it is added meanwhile
///   it is queued again when the first worker is `done`;
/// - `addRateLimited` re-adds a key after its per-key exponential back-off
///   (5 ms doubling to at most 1000 s), which `forget` resets;
/// - `add(_:after:)` delays on the injected clock, with one timer for all delayed keys.
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
    /// The earliest pending deadline of each delayed key (client-go's `waitingForQueue`).
    var waitingUntil: [String: Date] = [:]
    /// Delayed keys by deadline; an entry whose key now waits for an earlier deadline is
    /// skipped when it comes up.
    var delayed = MinHeap<(deadline: Date, key: String)> { $0.deadline < $1.deadline }
    /// The one timer, sleeping until the earliest deadline (client-go's delaying queue has one
    /// goroutine for all keys, not one per key), and which arming it is.
    var timer: Task<Void, Never>?
    var timerDeadline: Date?
    var timerGeneration: UInt64 = 0
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
        delayed.push((deadline, key))
        if timerDeadline.map({ deadline < $0 }) ?? true { armTimer(deadline) }
    }

    /// Sleeps until `deadline` (replacing the timer that slept longer), then queues what is due.
    func armTimer(_ deadline: Date) {
        timer?.cancel()
        timerGeneration += 1
        let generation = timerGeneration
        timerDeadline = deadline
        let clock = self.clock
        timer = Task {
            do { try await clock.sleep(until: deadline) } catch { return }
            await self.fireDue(generation)
        }
    }

    /// Queues every delayed key whose deadline has come, and arms the timer for the next one.
    func fireDue(_ generation: UInt64) {
        guard generation == timerGeneration, !isShutDown else { return }
        timer = nil
        timerDeadline = nil
        let now = clock.now
        while let next = delayed.min, next.deadline <= now {
            delayed.popMin()
            guard waitingUntil[next.key] == next.deadline else { continue }
            waitingUntil[next.key] = nil
            add(next.key)
        }
        if let next = delayed.min {
            armTimer(next.deadline)
        } else {
            // Give back what a burst of delayed keys took.
            delayed.removeAll()
            waitingUntil.shrinkIfSparse()
        }
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

    /// Keys waiting for a deadline (`add(_:after:)`, `addRateLimited`).
    public var delayedCount: Int { waitingUntil.count }

    /// Stops handing out keys: waiting workers get nil, timers are cancelled.
    public func shutDown() {
        isShutDown = true
        for w in waiters { w.resume(returning: nil) }
        waiters = []
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        delayed.removeAll()
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
