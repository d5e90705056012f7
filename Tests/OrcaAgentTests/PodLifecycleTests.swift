import Foundation
import OrcaClient
import Testing
@testable import OrcaAgent

/// The pod lifecycle as linear scripts of events and the actions expected after each.
struct PodLifecycleTests {
    typealias E = PodLifecycle.Event
    typealias A = PodLifecycle.Action
    typealias T = PodLifecycle.Termination

    static let running = PodLifecycle.Facts()
    static func deleting(_ grace: Int) -> PodLifecycle.Facts { .init(deletionGracePeriod: grace) }
    static let succeeded = PodLifecycle.Facts(terminalPhase: true)

    /// Runs a script on a fresh machine, checking each step's actions; returns the machine.
    @discardableResult
    func run(_ script: [(E, [A])], _ start: PodLifecycle = PodLifecycle(), sourceLocation: SourceLocation = #_sourceLocation) -> PodLifecycle {
        var machine = start
        for (i, (event, expected)) in script.enumerated() {
            let actions = machine.event(event)
            #expect(actions == expected, "step \(i): \(event)", sourceLocation: sourceLocation)
        }
        return machine
    }

    @Test func syncsThenIsDeletedCleanedUpAndForgotten() {
        let m = run([
            (.updated(Self.running), [.sync]),
            (.synced(terminal: false), []),
            (.updated(Self.deleting(30)), [.kill(T(reason: .deleted, gracePeriod: 30))]),
            (.updated(Self.deleting(30)), []),
            (.killed, [.cleanUp(T(reason: .deleted, gracePeriod: 30))]),
            (.cleanedUp, [.finishDeletion]),
            (.updated(Self.deleting(30)), []),
            (.removed(gracePeriod: 1), [.forget]),
            (.updated(Self.running), []),
        ])
        #expect(m.phase == .cleanedUp(T(reason: .removed, gracePeriod: 1)))
        #expect(m.forgotten)
    }

    @Test func updatesDuringASyncAreCoalescedIntoOneMoreSync() {
        run([
            (.updated(Self.running), [.sync]),
            (.updated(Self.running), []),
            (.updated(Self.running), []),
            (.updated(Self.running), []),
            (.synced(terminal: false), [.sync]),
            (.synced(terminal: false), []),
            (.synced(terminal: false), []),
        ])
    }

    @Test func aDeletionDuringASyncKillsAfterItAndNeverSyncsAgain() {
        let m = run([
            (.updated(Self.running), [.sync]),
            (.updated(Self.deleting(10)), []),
            (.updated(Self.running), []),
            (.synced(terminal: false), [.kill(T(reason: .deleted, gracePeriod: 10))]),
            (.updated(Self.running), []),
            (.synced(terminal: false), []),
        ])
        #expect(m.phase == .terminating(T(reason: .deleted, gracePeriod: 10)))
    }

    @Test func aCompletedPodStopsAndRestsUntilItIsDeleted() {
        run([
            (.updated(Self.running), [.sync]),
            (.synced(terminal: true), [.kill(T(reason: .completed, gracePeriod: 30))]),
            (.updated(Self.succeeded), []),
            (.killed, []),
            (.updated(Self.succeeded), []),
            (.updated(PodLifecycle.Facts(deletionGracePeriod: 5, terminalPhase: true)), [.cleanUp(T(reason: .deleted, gracePeriod: 5))]),
            (.cleanedUp, [.finishDeletion]),
            (.removed(gracePeriod: 1), [.forget]),
        ])
    }

    @Test func aPodTheAPIHasInATerminalPhaseIsNotStarted() {
        run([
            (.updated(Self.succeeded), [.kill(T(reason: .completed, gracePeriod: 30))]),
            (.killed, []),
            (.removed(gracePeriod: 1), [.cleanUp(T(reason: .removed, gracePeriod: 1))]),
            (.cleanedUp, [.forget]),
        ])
    }

    @Test func anOrphanIsKilledCleanedUpAndForgottenWithoutAnAPIDeletion() {
        run([
            (.removed(gracePeriod: 1), [.kill(T(reason: .removed, gracePeriod: 1))]),
            (.updated(Self.running), []),
            (.killed, [.cleanUp(T(reason: .removed, gracePeriod: 1))]),
            (.cleanedUp, [.forget]),
            (.removed(gracePeriod: 1), []),
        ])
    }

    @Test func graceOnlyShrinksAndARemovalOvertakesADeletion() {
        let m = run([
            (.updated(Self.deleting(30)), [.kill(T(reason: .deleted, gracePeriod: 30))]),
            (.updated(Self.deleting(10)), []),
            (.updated(Self.deleting(60)), []),
        ])
        #expect(m.phase == .terminating(T(reason: .deleted, gracePeriod: 10)))
        let after = run([
            (.removed(gracePeriod: 0), []),
            (.killed, [.cleanUp(T(reason: .removed, gracePeriod: 0))]),
            (.cleanedUp, [.forget]),
        ], m)
        #expect(after.phase == .cleanedUp(T(reason: .removed, gracePeriod: 0)))
    }

    @Test func aCompletionDoesNotShortenADeletionsGracePeriod() {
        let m = run([
            (.updated(PodLifecycle.Facts(terminationGracePeriod: 30)), [.sync]),
            (.updated(PodLifecycle.Facts(deletionGracePeriod: 60, terminationGracePeriod: 30)), []),
            (.synced(terminal: true), [.kill(T(reason: .deleted, gracePeriod: 60))]),
        ])
        #expect(m.phase == .terminating(T(reason: .deleted, gracePeriod: 60)))
    }

    @Test func strayStepEventsChangeNothing() {
        let m = run([
            (.killed, []),
            (.cleanedUp, []),
            (.synced(terminal: true), []),
            (.updated(Self.running), [.sync]),
            (.killed, []),
            (.cleanedUp, []),
        ])
        #expect(m.phase == .syncing)
        #expect(m.running == .sync)
    }

    @Test(arguments: [
        (#"{"spec": {}}"#, PodLifecycle.Facts()),
        (#"{"spec": {"terminationGracePeriodSeconds": 5}}"#, PodLifecycle.Facts(terminationGracePeriod: 5)),
        (#"{"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}, "spec": {"terminationGracePeriodSeconds": 5}}"#,
         PodLifecycle.Facts(deletionGracePeriod: 5, terminationGracePeriod: 5)),
        (#"{"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z", "deletionGracePeriodSeconds": 2}}"#,
         PodLifecycle.Facts(deletionGracePeriod: 2)),
        (#"{"status": {"phase": "Failed"}}"#, PodLifecycle.Facts(terminalPhase: true)),
        (#"{"status": {"phase": "Running"}, "spec": {"terminationGracePeriodSeconds": -3}}"#, PodLifecycle.Facts(terminationGracePeriod: 0)),
    ])
    func factsFromAPod(json: String, expected: PodLifecycle.Facts) throws {
        #expect(PodLifecycle.Facts(pod: try JSONValue.parse(json)) == expected)
    }

    @Test func aRemovedPodGetsAtMostOneSecond() throws {
        #expect(PodLifecycle.Facts.removalGracePeriod(nil) == 1)
        #expect(PodLifecycle.Facts.removalGracePeriod(try JSONValue.parse(#"{"metadata": {"deletionGracePeriodSeconds": 30}}"#)) == 1)
        #expect(PodLifecycle.Facts.removalGracePeriod(try JSONValue.parse(#"{"metadata": {"deletionGracePeriodSeconds": 0}}"#)) == 0)
    }
}
