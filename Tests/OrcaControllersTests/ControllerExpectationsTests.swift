import Foundation
import OrcaControllers
import OrcaCore
import Testing

@Suite struct ControllerExpectationsTests {
    @Test func satisfiedOnlyOnceEveryCreateAndDeleteWasObserved() {
        let clock = ManualClock()
        let e = ControllerExpectations(clock: clock)
        #expect(e.satisfied("default/rs"))
        e.expect("default/rs", adds: 2, deletes: ["default/p1"])
        #expect(!e.satisfied("default/rs"))
        e.creationObserved("default/rs")
        e.creationObserved("default/rs")
        #expect(!e.satisfied("default/rs"))
        e.deletionObserved("default/rs", podKey: "default/other")
        #expect(!e.satisfied("default/rs"))
        e.deletionObserved("default/rs", podKey: "default/p1")
        #expect(e.satisfied("default/rs"))
    }

    @Test func expectationsExpireAfterFiveMinutes() {
        let clock = ManualClock()
        let e = ControllerExpectations(clock: clock)
        e.expect("k", adds: 3)
        clock.advance(by: .seconds(299))
        #expect(!e.satisfied("k"))
        clock.advance(by: .seconds(2))
        #expect(e.satisfied("k"))
        e.expect("k", adds: 1)
        e.lowerCreations("k", by: 1)
        #expect(e.satisfied("k"))
        e.expect("k", adds: 1)
        e.delete("k")
        #expect(e.satisfied("k"))
    }
}
