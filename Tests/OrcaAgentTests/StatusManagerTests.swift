import Foundation
import OrcaClient
import OrcaCore
import Testing
@testable import OrcaAgent

/// The status manager against a fake writer and a manual clock: one write per change of
/// meaning, coalescing, back-off, resync against the API's copy, deletion and forgetting.
struct StatusManagerTests {
    static let pod = PodReference(namespace: "default", name: "web", uid: "uid-1")

    /// A pod status with a Ready condition and one container.
    static func status(ready: Bool, since time: String = "2024-01-01T00:00:00Z", restarts: Int64 = 0, phase: String = "Running") -> JSONValue {
        [
            "phase": .string(phase),
            "conditions": [["type": "Ready", "status": .string(ready ? "True" : "False"), "lastProbeTime": .null,
                            "lastTransitionTime": .string(time)]],
            "containerStatuses": [["name": "c", "restartCount": .int(restarts), "ready": .bool(ready), "lastState": [:]]],
        ]
    }

    func manager(_ writer: FakeStatusWriter, _ clock: ManualClock = ManualClock()) -> StatusManager {
        StatusManager(writer: writer, clock: clock)
    }

    @Test func setStatusOnlyStoresAndOneSyncWritesTheNewest() async {
        let writer = FakeStatusWriter()
        let m = manager(writer)
        await m.setStatus(Self.pod, Self.status(ready: false))
        await m.setStatus(Self.pod, Self.status(ready: false, restarts: 1))
        await m.setStatus(Self.pod, Self.status(ready: true, restarts: 1))
        #expect(await writer.writes.isEmpty, "the pod worker's call never writes")
        await m.syncOnce()
        let writes = await writer.writes
        #expect(writes.count == 1)
        #expect(writes.first?.1["containerStatuses"]?.arrayValue?.first?["restartCount"] == 1)
        #expect(writes.first?.1[path: ["conditions"]]?.arrayValue?.first?["status"] == "True")
        await m.syncOnce()
        #expect(await writer.writes.count == 1, "nothing left to write")
    }

    @Test func aStatusThatMeansTheSameIsNotWrittenAgain() async {
        let writer = FakeStatusWriter()
        let clock = ManualClock()
        let m = manager(writer, clock)
        await m.setStatus(Self.pod, Self.status(ready: true, since: "2024-01-01T00:00:00Z"))
        await m.syncOnce()
        clock.advance(by: .seconds(5))
        // Recomputed later: a new transition time for an unchanged condition is no change.
        await m.setStatus(Self.pod, Self.status(ready: true, since: "2024-01-01T00:00:05Z"))
        await m.syncOnce()
        #expect(await writer.writes.count == 1)
        // The condition changes: written, with the time of the change.
        await m.setStatus(Self.pod, Self.status(ready: false, since: "2024-01-01T00:00:05Z"))
        await m.syncOnce()
        let writes = await writer.writes
        #expect(writes.count == 2)
        let condition = writes.last?.1["conditions"]?.arrayValue?.first
        #expect(condition?["lastTransitionTime"]?.stringValue == KubernetesTime.string(clock.now))
    }

    @Test func afterARestartAStatusTheAPIAlreadyHasIsNotWritten() async {
        let writer = FakeStatusWriter()
        let m = manager(writer)
        await m.setStatus(Self.pod, Self.status(ready: true), apiStatus: Self.status(ready: true, since: "2023-12-31T00:00:00Z"))
        await m.syncOnce()
        #expect(await writer.writes.isEmpty)
        await m.setStatus(Self.pod, Self.status(ready: false))
        await m.syncOnce()
        #expect(await writer.writes.count == 1)
    }

    @Test func aChangeUndoneBeforeTheWriteIsNotWritten() async {
        let writer = FakeStatusWriter()
        let m = manager(writer)
        await m.setStatus(Self.pod, Self.status(ready: true))
        await m.syncOnce()
        await m.setStatus(Self.pod, Self.status(ready: true, restarts: 1))
        await m.setStatus(Self.pod, Self.status(ready: true, restarts: 0))
        await m.syncOnce()
        #expect(await writer.writes.count == 1)
    }

    @Test func aFailedWriteIsRetriedWithBackOff() async {
        let writer = FakeStatusWriter()
        let clock = ManualClock()
        let m = manager(writer, clock)
        await writer.failNext(2)
        await m.setStatus(Self.pod, Self.status(ready: true))
        await m.syncOnce()
        #expect(await writer.attempts == 1)
        await m.syncOnce()
        #expect(await writer.attempts == 1, "backing off for 1 s")
        clock.advance(by: .seconds(1))
        await m.syncOnce()
        #expect(await writer.attempts == 2)
        clock.advance(by: .seconds(1))
        await m.syncOnce()
        #expect(await writer.attempts == 2, "backing off for 2 s now")
        clock.advance(by: .seconds(1))
        await m.syncOnce()
        #expect(await writer.attempts == 3)
        #expect(await writer.writes.count == 1)
        #expect(await m.entry(Self.pod.uid)?.failures == 0)
    }

    @Test func theResyncRewritesAPodWhoseAPICopyDiffers() async throws {
        let writer = FakeStatusWriter()
        let clock = ManualClock()
        let m = manager(writer, clock)
        await m.setStatus(Self.pod, Self.status(ready: true))
        await m.syncOnce()
        // The API's copy as stored: nulls gone, the scheduler's condition and other fields added.
        var api: JSONValue = ["metadata": ["uid": "uid-1", "name": "web"], "status": Self.status(ready: true)]
        api[path: ["status", "conditions"]] = [["type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"],
                                                ["type": "PodScheduled", "status": "True"]]
        api[path: ["status", "nominatedNodeName"]] = "n1"
        await m.reconcile(with: [api])
        await m.syncOnce()
        #expect(await writer.writes.count == 1, "the API's copy says the same")
        // The node lifecycle controller marked the pod not ready while the node was unreachable.
        api[path: ["status", "conditions"]] = [["type": "Ready", "status": "False", "reason": "NodeNotReady",
                                                "lastTransitionTime": "2024-01-01T00:10:00Z"]]
        clock.advance(by: .seconds(60))
        await m.reconcile(with: [api])
        await m.syncOnce()
        let writes = await writer.writes
        #expect(writes.count == 2)
        let ready = writes.last?.1["conditions"]?.arrayValue?.first
        #expect(ready?["status"] == "True")
        #expect(ready?["lastTransitionTime"]?.stringValue == KubernetesTime.string(clock.now))
        // Pods the cache does not list are left alone.
        await m.reconcile(with: [])
        await m.syncOnce()
        #expect(await writer.writes.count == 2)
    }

    @Test func aTerminatedPodIsDeletedOnceAndNotWrittenAfterwards() async {
        let writer = FakeStatusWriter()
        let m = manager(writer)
        await m.setStatus(Self.pod, Self.status(ready: true))
        await m.finishDeletion(Self.pod)
        await m.finishDeletion(Self.pod)
        await m.syncOnce()
        await m.setStatus(Self.pod, Self.status(ready: false))
        await m.syncOnce()
        #expect(await writer.deletes == [Self.pod])
        #expect(await writer.writes.isEmpty)
    }

    @Test func aDeletionThatFailsIsRetriedAndNotFoundCountsAsDone() async {
        let writer = FakeStatusWriter()
        let clock = ManualClock()
        let m = manager(writer, clock)
        await writer.failNext(1)
        await m.finishDeletion(Self.pod)
        await m.syncOnce()
        clock.advance(by: .seconds(1))
        await writer.answerNotFound()
        await m.syncOnce()
        #expect(await m.entry(Self.pod.uid)?.deleted == true)
        clock.advance(by: .seconds(60))
        await m.syncOnce()
        #expect(await writer.attempts == 2)
    }

    @Test func aPodGoneFromTheAPIIsNotWrittenAgain() async {
        let writer = FakeStatusWriter()
        let clock = ManualClock()
        let m = manager(writer, clock)
        await writer.answerNotFound()
        await m.setStatus(Self.pod, Self.status(ready: true))
        await m.syncOnce()
        clock.advance(by: .seconds(60))
        await m.setStatus(Self.pod, Self.status(ready: false))
        await m.syncOnce()
        #expect(await writer.attempts == 1)
    }

    @Test func aForgottenPodIsDropped() async {
        let writer = FakeStatusWriter()
        let m = manager(writer)
        await m.setStatus(Self.pod, Self.status(ready: true))
        await m.forget(Self.pod.uid)
        await m.syncOnce()
        #expect(await writer.attempts == 0)
        #expect(await m.entry(Self.pod.uid) == nil)
    }

    @Test func aTerminalPhaseIsNeverLeft() async {
        let writer = FakeStatusWriter()
        let m = manager(writer)
        await m.setStatus(Self.pod, Self.status(ready: false, phase: "Succeeded"))
        await m.syncOnce()
        await m.setStatus(Self.pod, Self.status(ready: false, phase: "Running"))
        await m.syncOnce()
        #expect(await writer.writes.count == 1)
    }

    @Test func theRunLoopWritesWhenSignalledAndRetriesOnTheClock() async {
        let writer = FakeStatusWriter()
        let clock = ManualClock()
        let m = manager(writer, clock)
        await writer.failNext(1)
        let loop = Task { await m.run(listPods: { [] }) }
        await m.setStatus(Self.pod, Self.status(ready: true))
        #expect(await writer.waitForAttempts(1))
        // The failure is recorded (back-off until 1 s later) and the retry ticker sleeps.
        var spins = 0
        while await m.entry(Self.pod.uid)?.retryAt == nil, spins < 100_000 {
            spins += 1
            await Task.yield()
        }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        #expect(await writer.waitForAttempts(2))
        #expect(await writer.writes.count == 1)
        m.shutdown()
        loop.cancel()
        await loop.value
    }
}

/// A status writer that records writes and deletes, and fails or answers 404 when told.
actor FakeStatusWriter: PodStatusWriter {
    private(set) var writes: [(PodReference, JSONValue)] = []
    private(set) var deletes: [PodReference] = []
    private(set) var attempts = 0
    private var failures = 0
    private var notFound = false

    struct Unreachable: Error {}

    func failNext(_ n: Int) { failures = n }
    func answerNotFound() { notFound = true }

    private func attempt() throws {
        attempts += 1
        if failures > 0 {
            failures -= 1
            throw Unreachable()
        }
        if notFound { throw APIError(code: 404, reason: "NotFound", message: "pods \"web\" not found") }
    }

    func writeStatus(_ pod: PodReference, _ status: JSONValue) async throws {
        try attempt()
        writes.append((pod, status))
    }

    func deletePod(_ pod: PodReference) async throws {
        try attempt()
        deletes.append(pod)
    }

    /// Waits (yielding, bounded) until `n` attempts were made; false if they never were.
    func waitForAttempts(_ n: Int) async -> Bool {
        var spins = 0
        while attempts < n, spins < 100_000 {
            spins += 1
            await Task.yield()
        }
        return attempts >= n
    }
}
