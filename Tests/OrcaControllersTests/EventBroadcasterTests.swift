import Foundation
import OrcaClient
import Testing

/// With a broadcaster, recording an event only queues it: the broadcaster's task writes it.
@Suite struct EventBroadcasterTests {
    @Test func recordingQueuesAndTheBroadcasterSends() async throws {
        let c = try await ControllerTestCluster()
        let broadcaster = EventBroadcaster()
        let recorder = EventRecorder(client: c.client, component: "kubelet", host: "n1", clock: { c.clock.now }, broadcaster: broadcaster)
        let pod = try await c.client.create(c.pod("p"))
        await recorder.record(pod, type: "Normal", reason: "Pulled", message: "queued")
        let events = c.client.resource("events")
        func count() async throws -> Int {
            try await c.client.list(events, namespace: "default", options: ListOptions())["items"]?.arrayValue?.count ?? 0
        }
        #expect(try await count() == 0, "nothing is written before the broadcaster runs")
        let task = Task { await broadcaster.run() }
        defer { task.cancel() }
        #expect(try await eventually { try await count() == 1 })
        let event = try #require(try await c.client.list(events, namespace: "default", options: ListOptions())["items"]?.arrayValue?.first)
        #expect(event["message"]?.stringValue == "queued")
        #expect(event[path: ["involvedObject", "name"]]?.stringValue == "p")
    }
}
