import Foundation
import Testing
@testable import OrcaAgent

/// Probe timing and thresholds as scripts of events and expected actions.
struct ProbeStateMachineTests {
    let t0 = Date(timeIntervalSince1970: 2_000_000)
    func at(_ s: TimeInterval) -> Date { t0.addingTimeInterval(s) }

    @Test func readinessWaitsForTheInitialDelayAndPublishesOnlyChanges() {
        let settings = ProbeSettings(initialDelay: 5, period: 2, timeout: 1, successThreshold: 2, failureThreshold: 3)
        var m = ProbeStateMachine(kind: .readiness, settings: settings, startedAt: at(0))
        #expect(m.event(.tick(at(1))) == .sleep(until: at(5)))
        #expect(m.event(.tick(at(5))) == .probe(timeout: 1))
        #expect(m.event(.result(.success, at: at(5))) == .sleep(until: at(7)), "one success of two")
        #expect(m.event(.tick(at(7))) == .probe(timeout: 1))
        #expect(m.event(.result(.success, at: at(7))) == .publish(.success))
        #expect(m.published == .success)
        #expect(m.event(.tick(at(7))) == .sleep(until: at(9)))
        #expect(m.event(.tick(at(9))) == .probe(timeout: 1))
        #expect(m.event(.result(.success, at: at(9))) == .sleep(until: at(11)), "no change, nothing published")
        for s in [11.0, 13] {
            #expect(m.event(.tick(at(s))) == .probe(timeout: 1))
            #expect(m.event(.result(.failure, at: at(s))) == .sleep(until: at(s + 2)))
        }
        #expect(m.event(.tick(at(15))) == .probe(timeout: 1))
        #expect(m.event(.result(.failure, at: at(15))) == .publish(.failure), "third failure crosses the threshold")
        #expect(m.event(.tick(at(15))) == .sleep(until: at(17)), "readiness keeps probing")
        #expect(m.event(.tick(at(17))) == .probe(timeout: 1))
        #expect(m.event(.result(.success, at: at(17))) == .sleep(until: at(19)))
        #expect(m.event(.tick(at(19))) == .probe(timeout: 1))
        #expect(m.event(.result(.success, at: at(19))) == .publish(.success))
    }

    @Test func livenessStopsAfterItFails() {
        var m = ProbeStateMachine(kind: .liveness, settings: ProbeSettings(period: 1, failureThreshold: 2), startedAt: at(0))
        #expect(m.event(.tick(at(0))) == .probe(timeout: 1))
        #expect(m.event(.result(.success, at: at(0))) == .publish(.success))
        #expect(m.event(.tick(at(0.5))) == .sleep(until: at(1)))
        #expect(m.event(.tick(at(1))) == .probe(timeout: 1))
        #expect(m.event(.result(.failure, at: at(1))) == .sleep(until: at(2)))
        #expect(m.event(.tick(at(2))) == .probe(timeout: 1))
        #expect(m.event(.result(.success, at: at(2))) == .sleep(until: at(3)), "a success resets the failure run")
        #expect(m.event(.tick(at(3))) == .probe(timeout: 1))
        #expect(m.event(.result(.failure, at: at(3))) == .sleep(until: at(4)))
        #expect(m.event(.tick(at(4))) == .probe(timeout: 1))
        #expect(m.event(.result(.failure, at: at(4))) == .publish(.failure))
        #expect(m.event(.tick(at(5))) == .stop)
    }

    @Test func startupStopsAfterSuccessAndOthersAreHeldUntilThen() {
        var startup = ProbeStateMachine(kind: .startup, settings: ProbeSettings(period: 1, failureThreshold: 30), startedAt: at(0))
        var liveness = ProbeStateMachine(kind: .liveness, settings: ProbeSettings(period: 3), startedAt: at(0))
        #expect(liveness.event(.tick(at(0))) == .probe(timeout: 1))
        #expect(liveness.event(.held(at(0))) == .sleep(until: at(3)))
        #expect(startup.event(.tick(at(0))) == .probe(timeout: 1))
        #expect(startup.event(.result(.failure, at: at(0))) == .sleep(until: at(1)))
        #expect(startup.event(.tick(at(1))) == .probe(timeout: 1))
        #expect(startup.event(.result(.success, at: at(1))) == .publish(.success))
        #expect(startup.event(.tick(at(1))) == .stop)
        #expect(liveness.event(.result(.success, at: at(2))) == .sleep(until: at(3)), "a stale result is ignored")
        #expect(liveness.event(.tick(at(3))) == .probe(timeout: 1))
        #expect(liveness.event(.result(.success, at: at(3))) == .publish(.success))
    }

    @Test func startupFailureAfterTheThresholdStops() {
        var m = ProbeStateMachine(kind: .startup, settings: ProbeSettings(period: 1, failureThreshold: 2), startedAt: at(0))
        #expect(m.event(.tick(at(0))) == .probe(timeout: 1))
        #expect(m.event(.result(.failure, at: at(0))) == .sleep(until: at(1)))
        #expect(m.event(.tick(at(1))) == .probe(timeout: 1))
        #expect(m.event(.result(.failure, at: at(1))) == .publish(.failure))
        #expect(m.event(.tick(at(1))) == .stop)
    }
}
