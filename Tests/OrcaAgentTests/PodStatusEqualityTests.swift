import Foundation
import OrcaClient
import Testing
@testable import OrcaAgent

/// When two statuses mean the same to the status manager.
struct PodStatusEqualityTests {
    @Test func nullsEmptyObjectsTimesAndOrderDoNotCount() throws {
        let ours = try JSONValue.parse(#"""
        {"phase": "Running", "podIP": "10.42.0.5",
         "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-01-01T00:00:00Z"},
                        {"type": "PodScheduled", "status": "True"}],
         "containerStatuses": [{"name": "a", "ready": true, "lastState": {}}, {"name": "b", "ready": true, "lastState": {}}]}
        """#)
        let api = try JSONValue.parse(#"""
        {"phase": "Running", "podIP": "10.42.0.5", "nominatedNodeName": "x",
         "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:05:00Z"}],
         "containerStatuses": [{"name": "b", "ready": true}, {"name": "a", "ready": true}]}
        """#)
        #expect(PodStatusEquality.matches(ours, api))
    }

    @Test(arguments: [
        #"{"phase": "Pending", "podIP": "10.42.0.5", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [{"name": "a", "ready": true}, {"name": "b", "ready": true}]}"#,
        #"{"phase": "Running", "podIP": "10.42.0.5", "conditions": [{"type": "Ready", "status": "False"}], "containerStatuses": [{"name": "a", "ready": true}, {"name": "b", "ready": true}]}"#,
        #"{"phase": "Running", "podIP": "10.42.0.5", "conditions": [{"type": "Ready", "status": "True", "reason": "X"}], "containerStatuses": [{"name": "a", "ready": true}, {"name": "b", "ready": true}]}"#,
        #"{"phase": "Running", "podIP": "10.42.0.5", "conditions": [], "containerStatuses": [{"name": "a", "ready": true}, {"name": "b", "ready": true}]}"#,
        #"{"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [{"name": "a", "ready": true}, {"name": "b", "ready": true}]}"#,
        #"{"phase": "Running", "podIP": "10.42.0.5", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [{"name": "a", "ready": false}, {"name": "b", "ready": true}]}"#,
    ])
    func aChangeOfMeaningCounts(api: String) throws {
        let ours = try JSONValue.parse(#"""
        {"phase": "Running", "podIP": "10.42.0.5", "conditions": [{"type": "Ready", "status": "True"}],
         "containerStatuses": [{"name": "a", "ready": true}, {"name": "b", "ready": true}]}
        """#)
        #expect(!PodStatusEquality.matches(ours, try JSONValue.parse(api)))
    }

    @Test func aConditionsTimeMovesOnlyWithItsStatus() throws {
        let previous = try JSONValue.parse(#"{"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "T0"}, {"type": "Initialized", "status": "False", "lastTransitionTime": "T0"}]}"#)
        let new = try JSONValue.parse(#"{"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "T5"}, {"type": "Initialized", "status": "True", "lastTransitionTime": "T4"}, {"type": "ContainersReady", "status": "True", "lastTransitionTime": "T3"}]}"#)
        let timed = PodStatusEquality.withTransitionTimes(new, previous: previous, now: "NOW")
        let times = (timed["conditions"]?.arrayValue ?? []).map { $0["lastTransitionTime"]?.stringValue ?? "" }
        #expect(times == ["T0", "NOW", "T3"])
    }
}
