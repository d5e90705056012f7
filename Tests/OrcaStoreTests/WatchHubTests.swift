import OrcaCore
import OrcaStore
import Testing

/// The hub's replay/live hand-over, prefix filtering, and watcher clean-up.
@Suite struct WatchHubTests {
    static func put(_ key: String, _ revision: Int64) -> WatchEvent {
        .put(KeyValue(key: key, value: [], createRevision: revision, modRevision: revision), previous: nil)
    }

    static func take(_ count: Int, _ stream: AsyncThrowingStream<WatchEvent, any Error>) async throws -> [Int64] {
        var revisions: [Int64] = []
        for try await event in stream {
            revisions.append(event.revision)
            if revisions.count == count { break }
        }
        return revisions
    }

    @Test func liveEventsDuringReplayAreDeliveredOnceInOrder() async throws {
        let hub = WatchHub()
        let subscription = hub.subscribe(prefix: "/a/", afterRevision: 1)
        // Published while the backend reads history: 3 is also in the history, 4 is not.
        hub.publish(Self.put("/a/x", 3))
        hub.publish(Self.put("/b/x", 4))
        hub.publish(Self.put("/a/y", 5))
        hub.replay([Self.put("/a/x", 1), Self.put("/a/x", 2), Self.put("/a/x", 3)], to: subscription.id)
        hub.publish(Self.put("/a/z", 6))
        #expect(try await Self.take(4, subscription.stream) == [2, 3, 5, 6])
    }

    @Test func prefixIsMatchedByBytes() async throws {
        let hub = WatchHub()
        let subscription = hub.subscribe(prefix: "/pods/", afterRevision: 0)
        hub.replay([], to: subscription.id)
        hub.publish(Self.put("/pods", 1))
        hub.publish(Self.put("/podsx/a", 2))
        hub.publish(Self.put("/pods/a", 3))
        #expect(try await Self.take(1, subscription.stream) == [3])
    }

    @Test func cancelledConsumerIsRemoved() async throws {
        let hub = WatchHub()
        let subscription = hub.subscribe(prefix: "", afterRevision: 0)
        hub.replay([], to: subscription.id)
        #expect(hub.watcherCount == 1)
        let consumer = Task {
            for try await _ in subscription.stream {}
        }
        consumer.cancel()
        _ = await consumer.result
        #expect(hub.watcherCount == 0)
        hub.publish(Self.put("/a", 1))  // no watcher left; must not crash
    }

    @Test func droppedStreamIsRemoved() {
        let hub = WatchHub()
        do {
            let subscription = hub.subscribe(prefix: "", afterRevision: 0)
            hub.replay([], to: subscription.id)
            #expect(hub.watcherCount == 1)
        }
        #expect(hub.watcherCount == 0)
    }

    @Test func cancelEndsTheStreamWithTheError() async throws {
        let hub = WatchHub()
        let subscription = hub.subscribe(prefix: "", afterRevision: 0)
        hub.cancel(subscription.id, throwing: OrcaError(.compacted, "test"))
        #expect(hub.watcherCount == 0)
        await #expect(throws: OrcaError.self) {
            for try await _ in subscription.stream {}
        }
    }

    @Test func closeEndsStreamsAndRefusesNewWatchers() async throws {
        let hub = WatchHub()
        let first = hub.subscribe(prefix: "", afterRevision: 0)
        hub.replay([], to: first.id)
        hub.close()
        #expect(try await Self.take(1, first.stream) == [])
        let late = hub.subscribe(prefix: "", afterRevision: 0)
        #expect(hub.watcherCount == 0)
        #expect(try await Self.take(1, late.stream) == [])
    }
}
