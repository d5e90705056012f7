import Foundation
import Testing
import OrcaAgent

/// The renewal deadline of node certificates (the kubelet's certificate manager), as tables and
/// a script of events and expected actions.
struct CertificateRotationTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    func at(_ s: TimeInterval) -> Date { t0.addingTimeInterval(s) }
    static let day: TimeInterval = 86_400

    /// lifetime (days), jitter → the deadline, in days after notBefore.
    @Test(arguments: [
        (365.0, 0.0, 255.5), (365, 0.5, 292), (365, 1.0, 328.5),
        (10, 0.0, 7), (10, 0.25, 7.5), (10, 0.999_999, 9),
        (1, 0.5, 0.8),
        // A jitter outside 0...1 is clamped; an empty lifetime renews at notBefore.
        (10, -1, 7), (10, 2, 9), (0, 0.5, 0),
    ])
    func theDeadlineIsSeventyToNinetyPercentIntoTheLifetime(lifetime: Double, jitter: Double, expected: Double) {
        let v = CertificateRotation.Validity(notBefore: t0, notAfter: at(lifetime * Self.day))
        let deadline = CertificateRotation.deadline(v, jitter: jitter)
        #expect(abs(deadline.timeIntervalSince(t0) - expected * Self.day) < 1)
    }

    /// lifetime (days), now (days after notBefore) → the first action (jitter 0.5: deadline at 80 %).
    @Test(arguments: [
        (10.0, 0.0, CertificateRotation.Action.wait(until: Date(timeIntervalSince1970: 1_700_000_000 + 8 * 86_400))),
        (10, 7.99, .wait(until: Date(timeIntervalSince1970: 1_700_000_000 + 8 * 86_400))),
        (10, 8, .rotate(expired: false)),
        (10, 9.9, .rotate(expired: false)),
        (10, 10, .rotate(expired: true)),
        (10, 400, .rotate(expired: true)),
        // Not valid yet (the node's clock is behind): wait for the deadline as usual.
        (10, -1, .wait(until: Date(timeIntervalSince1970: 1_700_000_000 + 8 * 86_400))),
    ])
    func aCertificateFoundAtStartIsRenewedAtItsDeadlineOrAtOnce(lifetime: Double, now: Double, expected: CertificateRotation.Action) {
        var r = CertificateRotation(random: { 0.5 })
        let v = CertificateRotation.Validity(notBefore: t0, notAfter: at(lifetime * Self.day))
        #expect(r.event(.issued(v, at: at(now * Self.day))) == expected)
    }

    @Test func waitsUntilTheDeadlineThenRenewsAndWaitsForTheNewOnesDeadline() {
        var r = CertificateRotation(random: { 0.5 })
        let first = CertificateRotation.Validity(notBefore: t0, notAfter: at(10 * Self.day))
        #expect(r.event(.issued(first, at: at(0))) == .wait(until: at(8 * Self.day)))
        #expect(r.event(.tick(at(3 * Self.day))) == .wait(until: at(8 * Self.day)), "woken early: keep waiting")
        #expect(r.event(.tick(at(8 * Self.day))) == .rotate(expired: false))
        #expect(r.state == .rotating(notAfter: at(10 * Self.day), failures: 0))
        let second = CertificateRotation.Validity(notBefore: at(8 * Self.day - 3600), notAfter: at(18 * Self.day))
        let next = CertificateRotation.deadline(second, jitter: 0.5)
        #expect(r.event(.issued(second, at: at(8 * Self.day + 5))) == .wait(until: next))
        #expect(next > at(10 * Self.day), "the new certificate is renewed after the old one would have expired")
    }

    @Test func aFailedRenewalIsRetriedWithBackoffAndTheBootstrapCredentialOnceExpired() {
        var r = CertificateRotation(random: { 0 })
        let v = CertificateRotation.Validity(notBefore: t0, notAfter: at(100))
        // 70 s in: due.
        #expect(r.event(.issued(v, at: at(70))) == .rotate(expired: false))
        var now: TimeInterval = 70
        for delay in [2.0, 4, 8, 16] {
            #expect(r.event(.failed(at: at(now))) == .wait(until: at(now + delay)))
            #expect(r.event(.failed(at: at(now))) == .wait(until: at(now + delay)), "a repeated report changes nothing")
            #expect(r.event(.tick(at(now + delay - 1))) == .wait(until: at(now + delay)))
            #expect(r.event(.tick(at(now + delay))) == .rotate(expired: now + delay >= 100))
            now += delay
        }
        // Past notAfter (100 s): the next attempt says so.
        #expect(now == 100)
        #expect(r.state == .rotating(notAfter: at(100), failures: 4))
    }

    @Test func theBackoffDoublesToFiveMinutesWithUpToTenPercentJitter() {
        #expect((0..<10).map { CertificateRotation.backoff(failures: $0) } == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300])
        #expect(CertificateRotation.backoff(failures: 1_000) == 300)
        var r = CertificateRotation(random: { 1 })
        let v = CertificateRotation.Validity(notBefore: t0, notAfter: at(100))
        #expect(r.event(.issued(v, at: at(95))) == .rotate(expired: false))
        guard case .wait(let until) = r.event(.failed(at: at(95))) else { Issue.record("no back-off"); return }
        #expect(abs(until.timeIntervalSince(at(95)) - 2.2) < 1e-6)
    }

    @Test func aNewCertificateAlreadyDueIsNotRenewedAtOnceAgain() {
        var r = CertificateRotation(random: { 0 })
        let old = CertificateRotation.Validity(notBefore: t0, notAfter: at(100))
        #expect(r.event(.issued(old, at: at(80))) == .rotate(expired: false))
        // The server signs for 10 s only (notBefore an hour back): due at once.
        let short = CertificateRotation.Validity(notBefore: at(80 - 3600), notAfter: at(90))
        #expect(r.event(.issued(short, at: at(81))) == .wait(until: at(83)))
        #expect(r.event(.tick(at(83))) == .rotate(expired: false))
        #expect(r.event(.issued(short, at: at(84))) == .wait(until: at(88)), "the back-off grows")
    }

    @Test func withoutACertificateTheFirstTickAsksForOneWithTheBootstrapCredential() {
        var r = CertificateRotation(random: { 0 })
        #expect(r.state == .idle)
        #expect(r.event(.tick(t0)) == .rotate(expired: true))
        #expect(r.event(.failed(at: t0)) == .wait(until: at(2)))
        #expect(r.event(.tick(at(2))) == .rotate(expired: true))
    }
}
