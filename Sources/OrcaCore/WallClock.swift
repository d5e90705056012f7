import Foundation
import Synchronization

/// The time source of logic that waits or stamps times: back-off, deadlines, leases and
/// schedules. Production uses `SystemClock`; tests use `ManualClock` and move time by hand.
public protocol WallClock: Sendable {
    /// The current wall-clock time.
    var now: Date { get }
    /// Suspends for `duration` of this clock's time; throws `CancellationError` when cancelled.
    func sleep(for duration: Duration) async throws
    /// Suspends until `deadline` (returns at once if it has passed).
    func sleep(until deadline: Date) async throws
}

extension WallClock {
    /// Suspends until `deadline` (returns at once if it has passed).
    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSince(now)
        if seconds > 0 { try await sleep(for: .seconds(seconds)) }
    }
}

/// The real clock: `Date()` and `Task.sleep`.
public struct SystemClock: WallClock {
    public init() {}
    public var now: Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// A clock that moves only when told (`advance(by:)`): sleepers wake when their deadline
/// is reached, so back-off and deadlines are tested without sleeping.
public final class ManualClock: WallClock {
    struct Sleeper {
        var id: UInt64
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct State {
        var now: Date
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
    }

    private let state: Mutex<State>

    public init(now: Date = Date(timeIntervalSince1970: 1_700_000_000)) {
        state = Mutex(State(now: now))
    }

    public var now: Date { state.withLock { $0.now } }

    /// How many tasks are sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        try await sleep(deadline: { now in now.addingTimeInterval(duration.timeInterval) })
    }

    /// Suspends until `deadline`, read against the clock under its lock: time moved on between
    /// the caller's reading of `now` and this sleep does not push the deadline later.
    public func sleep(until deadline: Date) async throws {
        try await sleep(deadline: { _ in deadline })
    }

    private func sleep(deadline deadlineAfter: @escaping @Sendable (Date) -> Date) async throws {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { s in
                    if Task.isCancelled { return true }
                    let deadline = deadlineAfter(s.now)
                    if deadline <= s.now { return true }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: c))
                    return false
                }
                if resumeNow {
                    if Task.isCancelled { c.resume(throwing: CancellationError()) } else { c.resume() }
                }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i).continuation
            }
            c?.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.now = s.now.addingTimeInterval(duration.timeInterval)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            s.sleepers.removeAll { $0.deadline <= now }
            return due.map(\.continuation)
        }
        for c in due { c.resume() }
    }

    /// Waits (yielding, not sleeping) until at least `count` tasks sleep on this clock.
    public func waitForSleepers(_ count: Int) async {
        while sleeperCount < count { await Task.yield() }
    }
}

extension Duration {
    /// The duration in seconds as a `TimeInterval`.
    public var timeInterval: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}
