import Foundation
import X509

/// When to renew one of the node's certificates, as the kubelet's certificate manager decides
/// it (sans IO).
///
/// A certificate is renewed at a random point between 70 % and 90 % of its lifetime
/// (`notBefore` → `notAfter`), so nodes that joined together do not all renew together; at
/// once if that point has already passed (the agent was off). A failed attempt is retried
/// after a back-off of 2 s doubling to 5 min (plus up to 10 % jitter). `rotate(expired:)`
/// says whether the certificate in use is past its `notAfter`: a client certificate can then
/// no longer authenticate the request, and the node falls back to its bootstrap credential.
///
/// `NodeCertificateManager` feeds it the certificates in use and the passing of time, from its
/// injected clock; the random source is injected too.
public struct CertificateRotation: Sendable {
    /// The first retry after a failed rotation waits this long; each further one twice as long.
    public static let initialBackoff: TimeInterval = 2
    public static let maxBackoff: TimeInterval = 300
    /// The renewal point lies in this fraction of the lifetime, uniformly at random.
    public static let window: ClosedRange<Double> = 0.7...0.9

    /// The validity period of a certificate.
    public struct Validity: Hashable, Sendable {
        public var notBefore: Date
        public var notAfter: Date

        public init(notBefore: Date, notAfter: Date) {
            self.notBefore = notBefore
            self.notAfter = notAfter
        }

        public init(_ certificate: Certificate) {
            self.init(notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter)
        }
    }

    public enum State: Hashable, Sendable {
        /// No certificate yet.
        case idle
        /// A certificate valid until `notAfter` is in use; it is renewed at `deadline`.
        case waiting(deadline: Date, notAfter: Date)
        /// A renewal is under way (after `failures` failed attempts).
        case rotating(notAfter: Date, failures: Int)
        /// The last attempt failed; the next one is at `until`.
        case backingOff(until: Date, notAfter: Date, failures: Int)
    }

    public enum Event: Hashable, Sendable {
        /// A certificate is in use: the one found at start, or the one a rotation brought.
        case issued(Validity, at: Date)
        /// Time passed: is a renewal due?
        case tick(Date)
        /// The renewal under way failed.
        case failed(at: Date)
    }

    public enum Action: Hashable, Sendable {
        /// Nothing to do before `until` (then tick).
        case wait(until: Date)
        /// Ask for a new certificate now; `expired`: the one in use is past its `notAfter`.
        case rotate(expired: Bool)
    }

    public private(set) var state: State = .idle
    /// A uniform random number in 0..<1 per call.
    let random: @Sendable () -> Double

    public init(random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.random = random
    }

    /// The renewal point of a certificate for a `jitter` in 0...1: `notBefore` plus 70 % (jitter
    /// 0) to 90 % (jitter 1) of the lifetime, to the second.
    public static func deadline(_ v: Validity, jitter: Double) -> Date {
        let lifetime = max(v.notAfter.timeIntervalSince(v.notBefore), 0)
        let fraction = window.lowerBound + (window.upperBound - window.lowerBound) * min(max(jitter, 0), 1)
        return v.notBefore.addingTimeInterval((lifetime * fraction).rounded())
    }

    /// The wait after the `failures`-th consecutive failure (0-based), before jitter.
    public static func backoff(failures: Int) -> TimeInterval {
        min(initialBackoff * pow(2, Double(min(failures, 16))), maxBackoff)
    }

    public mutating func event(_ event: Event) -> Action {
        switch (state, event) {
        case (.rotating(_, let failures), .issued(let validity, let now)):
            let deadline = Self.deadline(validity, jitter: random())
            guard now < deadline else {
                // The new certificate is already due (too short-lived, or the clocks disagree):
                // ask again after a back-off, not at once.
                return backOff(notAfter: validity.notAfter, failures: failures, now: now)
            }
            state = .waiting(deadline: deadline, notAfter: validity.notAfter)
            return .wait(until: deadline)
        case (.idle, .issued(let validity, let now)), (.waiting, .issued(let validity, let now)),
             (.backingOff, .issued(let validity, let now)):
            let deadline = Self.deadline(validity, jitter: random())
            guard now < deadline else {
                state = .rotating(notAfter: validity.notAfter, failures: 0)
                return .rotate(expired: now >= validity.notAfter)
            }
            state = .waiting(deadline: deadline, notAfter: validity.notAfter)
            return .wait(until: deadline)
        case (.idle, .tick):
            state = .rotating(notAfter: .distantPast, failures: 0)
            return .rotate(expired: true)
        case (.waiting(let deadline, let notAfter), .tick(let now)):
            guard now >= deadline else { return .wait(until: deadline) }
            state = .rotating(notAfter: notAfter, failures: 0)
            return .rotate(expired: now >= notAfter)
        case (.rotating(let notAfter, _), .tick(let now)):
            // Still due.
            return .rotate(expired: now >= notAfter)
        case (.backingOff(let until, let notAfter, let failures), .tick(let now)):
            guard now >= until else { return .wait(until: until) }
            state = .rotating(notAfter: notAfter, failures: failures)
            return .rotate(expired: now >= notAfter)
        case (.rotating(let notAfter, let failures), .failed(let now)):
            return backOff(notAfter: notAfter, failures: failures, now: now)
        case (.idle, .failed(let now)):
            return backOff(notAfter: .distantPast, failures: 0, now: now)
        case (.waiting(let deadline, _), .failed):
            // Nothing was under way: the deadline stands.
            return .wait(until: deadline)
        case (.backingOff(let until, _, _), .failed):
            // The same failure reported again.
            return .wait(until: until)
        }
    }

    /// Waits out the back-off after `failures` earlier failures and one more.
    mutating func backOff(notAfter: Date, failures: Int, now: Date) -> Action {
        let until = now.addingTimeInterval(Self.backoff(failures: failures) * (1 + 0.1 * random()))
        state = .backingOff(until: until, notAfter: notAfter, failures: failures + 1)
        return .wait(until: until)
    }
}
