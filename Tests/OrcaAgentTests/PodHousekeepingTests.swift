import Foundation
import OrcaClient
import Testing
@testable import OrcaAgent

/// The sync loop's decisions: which pods a tick syncs, and which known pods are orphans —
/// never because the pod cache could not be refreshed.
struct PodHousekeepingTests {
    typealias Listed = PodHousekeeping.Listed

    @Test func aTickSyncsChangedAndPendingPodsAndAFullResyncAll() {
        let listed = [Listed(uid: "steady", steady: true), Listed(uid: "pending", steady: false), Listed(uid: "changed", steady: true)]
        #expect(PodHousekeeping.podsToSync(listed, changed: ["changed", "elsewhere"], fullResync: false) == ["pending", "changed"])
        #expect(PodHousekeeping.podsToSync(listed, changed: [], fullResync: true) == ["steady", "pending", "changed"])
        #expect(PodHousekeeping.podsToSync([Listed(uid: "steady", steady: true)], changed: [], fullResync: false).isEmpty,
                "a steady pod costs nothing between full resyncs")
    }

    @Test func everyTenthTickIsAFullResync() {
        #expect((1...30).filter { PodHousekeeping.isFullResync(tick: $0) } == [10, 20, 30])
    }

    @Test func orphansAreKnownPodsMissingFromBothListings() {
        #expect(PodHousekeeping.orphans(known: ["a", "b", "c"], listed: ["a"], relisted: ["a", "b"], cacheSynced: true) == ["c"])
        #expect(PodHousekeeping.orphans(known: ["a"], listed: ["a"], relisted: ["a"], cacheSynced: true).isEmpty)
    }

    @Test func nothingIsAnOrphanBeforeTheCacheSynced() {
        // After a restart with the server unreachable: adopted pods, an empty cache.
        #expect(PodHousekeeping.orphans(known: ["a", "b"], listed: [], relisted: [], cacheSynced: false).isEmpty)
    }

    @Test func statusOnlyChangesAreRecordedNotSynced() throws {
        let old = try JSONValue.parse(#"{"metadata": {"name": "p", "resourceVersion": "5"}, "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Pending"}}"#)
        var echo = old
        echo[path: ["metadata", "resourceVersion"]] = "6"
        echo[path: ["status", "phase"]] = "Running"
        #expect(PodHousekeeping.isStatusOnlyChange(old, echo))
        var deleting = echo
        deleting[path: ["metadata", "deletionTimestamp"]] = "2024-01-01T00:00:00Z"
        #expect(!PodHousekeeping.isStatusOnlyChange(echo, deleting))
        var debugged = echo
        debugged[path: ["spec", "ephemeralContainers"]] = [["name": "debug"]]
        #expect(!PodHousekeeping.isStatusOnlyChange(echo, debugged))
        var failed = echo
        failed[path: ["status", "phase"]] = "Failed"
        #expect(!PodHousekeeping.isStatusOnlyChange(echo, failed), "a phase turning terminal is a lifecycle change")
    }
}

/// The agent's pod cache (an `Informer` with the agent's field selector) while the API server
/// cannot be reached: failed watches delete nothing, so no pod is removed and no container
/// stopped; when the server is back the pods come through as updates.
struct PodCacheOutageTests {
    @Test func failedWatchesDeleteNothingAndTheReturnUpdates() async throws {
        let pod = try JSONValue.parse(#"{"metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "7"}, "spec": {"nodeName": "n1"}}"#)
        let client = OutageClient(pods: [pod], revision: 7)
        let informer = Informer(client: client, resource: client.resource("pods"))
        let changes = ChangeLog()
        await informer.onChange { change in await changes.append(change) }
        let run = Task { await informer.run() }
        await informer.waitForSync()
        #expect(await client.waitForWatches(2), "the reflector kept retrying")
        #expect(await changes.deleted.isEmpty)
        #expect(await informer.list().count == 1, "the cached pod stays")
        // The server is back: the watch resumes from the last revision, no list replaces the cache.
        var modified = pod
        modified[path: ["metadata", "resourceVersion"]] = "9"
        modified[path: ["status", "phase"]] = "Running"
        await client.recover(with: [APIWatchEvent(type: "MODIFIED", object: modified)])
        #expect(await changes.waitForCount(2))
        #expect(await changes.deleted.isEmpty)
        #expect(await client.lists == 1)
        run.cancel()
        await run.value
    }
}

/// Changes an informer reported.
actor ChangeLog {
    private(set) var changes: [Informer.Change] = []
    func append(_ change: Informer.Change) { changes.append(change) }
    var deleted: [JSONValue] {
        changes.compactMap { if case .deleted(let p) = $0 { return p } else { return nil } }
    }
    func waitForCount(_ n: Int) async -> Bool {
        for _ in 0..<400 where changes.count < n { try? await Task.sleep(for: .milliseconds(10)) }
        return changes.count >= n
    }
}

/// An API server that answers one list, then fails every watch until `recover`, after which a
/// watch delivers the given events and stays open.
actor OutageClient: StubAPIClient {
    struct Unreachable: Error {}
    nonisolated let catalog = ResourceCatalog.standard
    let pods: [JSONValue]
    let revision: Int
    private(set) var lists = 0
    private(set) var watches = 0
    private var recovered: [APIWatchEvent]?
    /// Open watches stay open until the test ends.
    private var open: [AsyncThrowingStream<APIWatchEvent, any Error>.Continuation] = []

    init(pods: [JSONValue], revision: Int) {
        self.pods = pods
        self.revision = revision
    }

    func recover(with events: [APIWatchEvent]) { recovered = events }

    func waitForWatches(_ n: Int) async -> Bool {
        // The reflector backs off 0.2 s, then 0.4 s between attempts.
        for _ in 0..<300 where watches < n { try? await Task.sleep(for: .milliseconds(10)) }
        return watches >= n
    }

    func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue {
        lists += 1
        guard lists == 1 else { throw Unreachable() }
        return ["metadata": ["resourceVersion": .string("\(revision)")], "items": .array(pods)]
    }

    func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error> {
        watches += 1
        guard let events = recovered else { throw Unreachable() }
        let (stream, continuation) = AsyncThrowingStream<APIWatchEvent, any Error>.makeStream()
        for e in events { continuation.yield(e) }
        open.append(continuation)
        return stream
    }

}
