import Foundation
@testable import OrcaClient
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

    /// A queued event keeps only its object's reference (not the whole pod), and the event
    /// written from it names the object as fully as one written at once.
    @Test func aQueuedEventKeepsTheObjectsReference() async throws {
        let c = try await ControllerTestCluster()
        let broadcaster = EventBroadcaster()
        let queued = EventRecorder(client: c.client, component: "kubelet", host: "n1", clock: { c.clock.now }, broadcaster: broadcaster)
        let direct = EventRecorder(client: c.client, component: "kubelet", host: "n1", clock: { c.clock.now })
        var pod = try JSONValue(encoding: try await c.client.create(c.pod("p")))
        pod["kind"] = "Pod"
        pod["apiVersion"] = "v1"
        let reference = EventRecorder.reference(to: pod)
        #expect(reference["spec"] == nil && reference["status"] == nil)
        #expect(reference["metadata"]?.objectValue?.keys.sorted() == ["name", "namespace", "resourceVersion", "uid"])
        await queued.record(pod, type: "Warning", reason: "Queued", message: "m")
        await direct.record(pod, type: "Warning", reason: "Direct", message: "m")
        let task = Task { await broadcaster.run() }
        defer { task.cancel() }
        let events = c.client.resource("events")
        func involved(_ reason: String) async throws -> JSONValue? {
            let items = try await c.client.list(events, namespace: "default", options: ListOptions())["items"]?.arrayValue ?? []
            return items.first { $0["reason"]?.stringValue == reason }?["involvedObject"]
        }
        #expect(try await eventually { try await involved("Queued") != nil })
        let fromQueue = try #require(try await involved("Queued"))
        #expect(fromQueue == (try await involved("Direct")))
        #expect(fromQueue["uid"]?.stringValue == pod.metadataUID && fromQueue["kind"]?.stringValue == "Pod"
                && fromQueue["resourceVersion"]?.stringValue == pod.resourceVersion && fromQueue["namespace"]?.stringValue == "default")
    }
}
