import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// `--event-ttl`: events last written more than an hour ago are removed, newer ones and ones
/// written again stay.
struct EventExpiryTests {
    static func event(_ name: String, last: Date?, eventTime: Date? = nil) -> JSONValue {
        var e: JSONValue = ["apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name)],
                            "involvedObject": ["kind": "Pod", "name": "p", "namespace": "default"],
                            "reason": "Started", "message": "m", "type": "Normal"]
        if let last { e["lastTimestamp"] = .string(KubernetesTime.string(last)) }
        if let eventTime {
            e["eventTime"] = .string(KubernetesTime.microString(eventTime))
            e["reportingComponent"] = "kubelet"
            e["reportingInstance"] = "n1"
            e["action"] = "Started"
        }
        return e
    }

    @Test func expiredEventsAreRemovedAndNewerOnesKept() async throws {
        let c = try await TestCluster()
        let events = c.r("events", "")
        let start = TestCluster.start
        // Written at the start: one plain, one whose series was observed again 55 minutes later.
        _ = try await c.registry.create(events, namespace: "default", object: Self.event("old", last: start))
        var series = Self.event("series", last: nil, eventTime: start)
        series["series"] = ["count": 3, "lastObservedTime": .string(KubernetesTime.microString(start.addingTimeInterval(55 * 60)))]
        _ = try await c.registry.create(events, namespace: "default", object: series)
        c.clock.advance(by: .seconds(50 * 60))
        _ = try await c.registry.create(events, namespace: "default", object: Self.event("recent", last: c.clock.now))
        let expiry = EventExpiry(registry: c.registry)
        #expect(try await expiry.expire(now: start.addingTimeInterval(61 * 60)) == 1)
        let names = try await c.registry.list(events, namespace: "default", options: ListOptions())["items"]?.arrayValue?.compactMap(\.metadataName)
        #expect(names?.sorted() == ["recent", "series"])
        // An hour after the last of them, none is left.
        #expect(try await expiry.expire(now: start.addingTimeInterval(116 * 60)) == 2)
    }
}
