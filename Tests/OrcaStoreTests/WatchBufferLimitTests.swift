import OrcaCore
import OrcaStore
import Testing

/// Nothing buffers without bound: a watcher that cannot keep up is closed after
/// `bufferLimit` waiting events (as kube-apiserver's cacher does), and the others are
/// unaffected.
@Suite struct WatchBufferLimitTests {
    static func put(_ key: String, _ revision: Int64) -> WatchEvent {
        .put(KeyValue(key: key, value: [], createRevision: revision, modRevision: revision), previous: nil)
    }

    /// Drains `stream`: the number of events it yielded and the error it ended with.
    static func drain(_ stream: AsyncThrowingStream<WatchEvent, any Error>) async -> (count: Int, error: (any Error)?) {
        var count = 0
        do {
            for try await _ in stream { count += 1 }
            return (count, nil)
        } catch {
            return (count, error)
        }
    }

    @Test func stalledWatcherIsClosedWhileAReadingWatcherSeesEveryEvent() async throws {
        let store = MemoryKVStore()
        let limit = WatchHub.defaultBufferLimit
        let total = 10 * limit
        let stalled = try await store.watch(prefix: "/k/", afterRevision: 0)
        let reading = try await store.watch(prefix: "/k/", afterRevision: 0)
        #expect(store.watcherCount == 2)

        // The reader reports how many events it has seen; the writer lets it catch up every
        // half buffer, so only the stalled watcher can fall a whole buffer behind.
        let (progress, progressContinuation) = AsyncStream<Int>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let reader = Task {
            defer { progressContinuation.finish() }
            var revisions: [Int64] = []
            // Ends when the test cancels the task.
            for try await event in reading {
                revisions.append(event.revision)
                progressContinuation.yield(revisions.count)
            }
            return revisions
        }
        var progressIterator = progress.makeAsyncIterator()
        var seen = 0
        for i in 1...total {
            _ = try await store.create("/k/\(i)", value: [])
            if i % (limit / 2) == 0 {
                while seen < i, let count = await progressIterator.next() { seen = count }
            }
        }
        #expect(seen == total)
        #expect(store.watcherCount == 1, "the stalled watcher is no longer held; the reader is")
        reader.cancel()
        let revisions = try await reader.value
        #expect(revisions == Array(1...Int64(total)))
        #expect(store.watcherCount == 0)

        let (count, error) = await Self.drain(stalled)
        #expect(count <= limit)
        #expect((error as? OrcaError)?.code == .watcherTooSlow)
    }

    @Test func overflowDropsTheQueueAndRemovesOnlyThatWatcher() async throws {
        let hub = WatchHub(bufferLimit: 4)
        let slow = hub.subscribe(prefix: "/a/", afterRevision: 0)
        hub.replay([], to: slow.id)
        let other = hub.subscribe(prefix: "/b/", afterRevision: 0)
        hub.replay([], to: other.id)
        for revision in Int64(1)...5 { hub.publish(Self.put("/a/x", revision)) }
        #expect(hub.watcherCount == 1)
        hub.publish(Self.put("/b/x", 6))
        hub.close()

        let (count, error) = await Self.drain(slow.stream)
        #expect(count == 0, "the queue of a closed watcher is dropped at once")
        #expect((error as? OrcaError)?.code == .watcherTooSlow)
        let (otherCount, otherError) = await Self.drain(other.stream)
        #expect(otherCount == 1)
        #expect(otherError.map { "\($0)" } == nil)
    }

    @Test func eventsHeldDuringReplayAreBoundedToo() async throws {
        let hub = WatchHub(bufferLimit: 4)
        let subscription = hub.subscribe(prefix: "", afterRevision: 0)
        for revision in Int64(1)...5 { hub.publish(Self.put("/a", revision)) }
        #expect(hub.watcherCount == 0)
        hub.replay([], to: subscription.id)  // already gone: no effect
        let (_, error) = await Self.drain(subscription.stream)
        #expect((error as? OrcaError)?.code == .watcherTooSlow)
    }

    @Test func replayedHistoryDoesNotCountAgainstTheLimit() async throws {
        let hub = WatchHub(bufferLimit: 4)
        let subscription = hub.subscribe(prefix: "", afterRevision: 0)
        hub.replay((Int64(1)...20).map { Self.put("/a", $0) }, to: subscription.id)
        for revision in Int64(21)...24 { hub.publish(Self.put("/a", revision)) }
        #expect(hub.watcherCount == 1)

        var revisions: [Int64] = []
        for try await event in subscription.stream {
            revisions.append(event.revision)
            if revisions.count == 24 { break }
        }
        #expect(revisions == Array(1...24))
    }
}
