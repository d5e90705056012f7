import Foundation

/// The image pull back-off of one container (the kubelet's `ImagePullBackOff`), sans IO.
///
/// A failed pull (`ErrImagePull`) makes the next attempt wait 10 s, doubling up to 5 min; while
/// it waits the container shows `ImagePullBackOff`. A successful pull resets it.
struct ImagePullBackoff: Codable, Hashable, Sendable {
    static let initialDelay: TimeInterval = 10
    static let maxDelay: TimeInterval = 300

    /// When the next pull may start (nil: now).
    private(set) var until: Date?
    /// The delay the last failure set.
    private(set) var delay: TimeInterval?

    /// Whether a pull must wait at `now`.
    func isBackingOff(at now: Date) -> Bool { until.map { now < $0 } ?? false }

    /// A pull failed at `now`: back off for longer than last time.
    mutating func failed(at now: Date) {
        let next = delay.map { min($0 * 2, Self.maxDelay) } ?? Self.initialDelay
        delay = next
        until = now.addingTimeInterval(next)
    }

    /// A pull succeeded: the next failure starts from the initial delay again.
    mutating func succeeded() {
        delay = nil
        until = nil
    }
}
