import Foundation

/// The crash-loop back-off of one container (the kubelet's `CrashLoopBackOff`), sans IO.
///
/// The first restart after a crash is immediate; each further one waits 10 s, doubling up to
/// 5 min. An instance that ran for 10 min before exiting resets the back-off. The pod syncer
/// feeds it the exits it observes and the passing of time (from its injected clock) and
/// restarts the container when told to.
struct RestartBackoff: Codable, Hashable, Sendable {
    static let initialDelay: TimeInterval = 10
    static let maxDelay: TimeInterval = 300
    /// Running this long before exiting resets the back-off.
    static let resetAfter: TimeInterval = 600

    enum State: Codable, Hashable, Sendable {
        /// Nothing waits for a restart (the instance runs, or none exited yet).
        case idle
        /// An exited instance waits until `until` (a `delay`-long back-off) before its restart.
        case backingOff(until: Date, delay: TimeInterval)
    }

    enum Event: Hashable, Sendable {
        /// An instance the restart policy wants restarted exited (observed at `at`, after running `ranFor`).
        case exited(at: Date, ranFor: TimeInterval)
        /// Time passed: is a pending restart due?
        case tick(Date)
    }

    enum Action: Hashable, Sendable {
        /// Nothing pending.
        case none
        /// Restart the container now.
        case restart
        /// Keep the container waiting (`CrashLoopBackOff`) until `until`.
        case wait(until: Date, delay: TimeInterval)
    }

    private(set) var state: State = .idle
    /// The back-off the next exit waits; nil while the next restart is immediate.
    private(set) var nextDelay: TimeInterval?

    mutating func event(_ event: Event) -> Action {
        switch (state, event) {
        case (.idle, .exited(let at, let ranFor)):
            if ranFor >= Self.resetAfter { nextDelay = nil }
            guard let delay = nextDelay else {
                nextDelay = Self.initialDelay
                return .restart
            }
            nextDelay = min(delay * 2, Self.maxDelay)
            state = .backingOff(until: at.addingTimeInterval(delay), delay: delay)
            return .wait(until: at.addingTimeInterval(delay), delay: delay)
        case (.backingOff(let until, let delay), .exited):
            // The same exit reported again: still waiting.
            return .wait(until: until, delay: delay)
        case (.idle, .tick):
            return .none
        case (.backingOff(let until, let delay), .tick(let now)):
            guard now >= until else { return .wait(until: until, delay: delay) }
            state = .idle
            return .restart
        }
    }

    /// The back-off in Go's duration format, as the kubelet's messages show it (`10s`, `1m20s`, `5m0s`).
    static func goDuration(_ seconds: TimeInterval) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        return "\(s / 3600)h\(s % 3600 / 60)m\(s % 60)s"
    }
}
