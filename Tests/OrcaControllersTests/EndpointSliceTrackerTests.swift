import Foundation
import OrcaClient
import OrcaCore
@testable import OrcaControllers
import Testing

/// The tracker forgets a Service with its last slice: Service churn leaves nothing behind.
@Suite struct EndpointSliceTrackerTests {
    func slice(_ uid: String, revision: Int) -> EndpointSlice {
        EndpointSlice(addressType: "IPv4", endpoints: [], metadata: ObjectMeta(name: uid, namespace: "default", resourceVersion: "\(revision)", uid: uid))
    }

    @Test func aDeletedServiceLeavesNoEntry() {
        let tracker = EndpointSliceTracker(clock: ManualClock())
        tracker.update(slice("a", revision: 5), service: "default/web")
        tracker.update(slice("b", revision: 6), service: "default/web")
        tracker.update(slice("c", revision: 7), service: "default/api")
        #expect(tracker.trackedServiceCount == 2)

        // The controller's own deletions: echoes, expected, and the entry goes with the last.
        tracker.expectDeletion(slice("a", revision: 5), service: "default/web")
        tracker.expectDeletion(slice("b", revision: 6), service: "default/web")
        #expect(!tracker.handleDeletion(slice("a", revision: 5), service: "default/web"))
        #expect(tracker.trackedServiceCount == 2)
        #expect(!tracker.handleDeletion(slice("b", revision: 6), service: "default/web"))
        #expect(tracker.trackedServiceCount == 1)

        tracker.forget(slice("c", revision: 7), service: "default/api")
        #expect(tracker.trackedServiceCount == 0)
    }

    @Test func expiredExpectationsLeaveNoEntry() {
        let clock = ManualClock()
        let tracker = EndpointSliceTracker(clock: clock)
        tracker.update(slice("a", revision: 5), service: "default/web")
        #expect(tracker.isStale("default/web", slices: []))
        clock.advance(by: .seconds(EndpointSliceTracker.timeout + 1))
        #expect(!tracker.isStale("default/web", slices: []))
        #expect(tracker.trackedServiceCount == 0)
    }
}
