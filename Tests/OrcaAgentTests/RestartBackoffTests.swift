import Foundation
import Testing
@testable import OrcaAgent

/// The crash-loop back-off as a script of events and expected actions (no sleeping).
struct RestartBackoffTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)
    func at(_ s: TimeInterval) -> Date { t0.addingTimeInterval(s) }

    @Test func firstRestartIsImmediateThenDelaysDoubleToTheCap() {
        var b = RestartBackoff()
        #expect(b.event(.tick(at(0))) == .none)
        #expect(b.event(.exited(at: at(1), ranFor: 1)) == .restart)
        #expect(b.event(.exited(at: at(2), ranFor: 1)) == .wait(until: at(12), delay: 10))
        #expect(b.event(.exited(at: at(3), ranFor: 1)) == .wait(until: at(12), delay: 10), "a repeated report changes nothing")
        #expect(b.event(.tick(at(11))) == .wait(until: at(12), delay: 10))
        #expect(b.event(.tick(at(12))) == .restart)
        #expect(b.event(.tick(at(13))) == .none)
        var now: TimeInterval = 20
        for expected in [20.0, 40, 80, 160, 300, 300] {
            #expect(b.event(.exited(at: at(now), ranFor: 2)) == .wait(until: at(now + expected), delay: expected))
            #expect(b.event(.tick(at(now + expected))) == .restart)
            now += expected + 5
        }
    }

    @Test func tenMinutesOfRunningResetsTheBackoff() {
        var b = RestartBackoff()
        #expect(b.event(.exited(at: at(0), ranFor: 1)) == .restart)
        #expect(b.event(.exited(at: at(5), ranFor: 1)) == .wait(until: at(15), delay: 10))
        #expect(b.event(.tick(at(15))) == .restart)
        #expect(b.event(.exited(at: at(20), ranFor: 3)) == .wait(until: at(40), delay: 20))
        #expect(b.event(.tick(at(40))) == .restart)
        #expect(b.event(.exited(at: at(700), ranFor: 600)) == .restart)
        #expect(b.event(.exited(at: at(701), ranFor: 1)) == .wait(until: at(711), delay: 10))
    }

    @Test(arguments: [(10.0, "10s"), (20, "20s"), (80, "1m20s"), (160, "2m40s"), (300, "5m0s")])
    func messagesUseGoDurations(_ seconds: Double, _ text: String) {
        #expect(RestartBackoff.goDuration(seconds) == text)
    }
}
