import Foundation
import OrcaClient
import Testing
@testable import OrcaAgent

/// The pod workers running their lifecycles' steps against fake steps.
struct PodWorkersTests {
    static func pod(_ rv: Int, deleting: Bool = false) -> JSONValue {
        var p: JSONValue = ["metadata": ["name": "web", "namespace": "default", "uid": "u1", "resourceVersion": .string("\(rv)")],
                            "spec": ["terminationGracePeriodSeconds": 3]]
        if deleting { p[path: ["metadata", "deletionTimestamp"]] = "2024-01-01T00:00:00Z" }
        return p
    }

    @Test func aPodIsSyncedThenKilledCleanedUpDeletedAndForgotten() async {
        let steps = FakeSteps()
        let workers = PodWorkers()
        let run = Task { await workers.run(steps: steps) }
        await workers.update("u1", Self.pod(1))
        #expect(await steps.waitFor(["sync 1"]))
        await workers.update("u1", Self.pod(2, deleting: true))
        #expect(await steps.waitFor(["sync 1", "kill deleted 3", "cleanUp", "finishDeletion"]))
        // A stale version is dropped; the removal drops the worker.
        await workers.update("u1", Self.pod(1))
        await workers.remove("u1", lastKnown: Self.pod(3, deleting: true))
        #expect(await steps.waitFor(["sync 1", "kill deleted 3", "cleanUp", "finishDeletion", "forget"]))
        #expect(await workers.knownUIDs().isEmpty)
        // Nothing brings a forgotten pod back.
        await workers.update("u1", Self.pod(4))
        #expect(await workers.knownUIDs().isEmpty)
        await workers.shutdown()
        await run.value
    }

    @Test func updatesDuringASyncBecomeOneSyncOfTheNewestVersion() async {
        let gate = Gate()
        let steps = FakeSteps(gate: gate)
        let workers = PodWorkers()
        let run = Task { await workers.run(steps: steps) }
        await workers.update("u1", Self.pod(1))
        #expect(await steps.waitFor(["sync 1"]))
        for rv in 2...4 { await workers.update("u1", Self.pod(rv)) }
        await gate.open()
        #expect(await steps.waitFor(["sync 1", "sync 4"]))
        try? await Task.sleep(for: .milliseconds(50))
        #expect(await steps.log.entries == ["sync 1", "sync 4"])
        await workers.shutdown()
        await run.value
    }

    @Test func anAdoptedOrphanIsKilledWithoutItsSpecAndCleanedUp() async {
        let steps = FakeSteps()
        let workers = PodWorkers()
        let run = Task { await workers.run(steps: steps) }
        var adopted = PodRuntimeState()
        adopted.initialized = true
        await workers.adopt("u9", adopted)
        await workers.remove("u9", lastKnown: nil)
        #expect(await steps.waitFor(["kill removed 1 (no pod)", "cleanUp", "forget"]))
        await workers.shutdown()
        await run.value
    }
}

/// Steps that only record what was asked of them.
actor FakeStepLog {
    private(set) var entries: [String] = []
    func add(_ entry: String) { entries.append(entry) }
}

/// Holds syncs until opened.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
    func open() {
        isOpen = true
        for w in waiters { w.resume() }
        waiters = []
    }
}

struct FakeSteps: PodWorkerSteps {
    let log = FakeStepLog()
    var gate: Gate?

    func sync(_ pod: JSONValue, state: PodRuntimeState) async -> (state: PodRuntimeState, terminal: Bool) {
        await log.add("sync \(pod.resourceVersion ?? "")")
        await gate?.wait()
        return (state, false)
    }

    func kill(_ pod: JSONValue?, uid: String, state: PodRuntimeState, termination: PodLifecycle.Termination) async -> PodRuntimeState {
        await log.add("kill \(termination.reason) \(termination.gracePeriod)\(pod == nil ? " (no pod)" : "")")
        return state
    }

    func cleanUp(_ pod: JSONValue?, uid: String, state: PodRuntimeState, termination: PodLifecycle.Termination) async {
        await log.add("cleanUp")
    }

    func finishDeletion(_ pod: JSONValue?, uid: String) async { await log.add("finishDeletion") }

    func forget(uid: String) async { await log.add("forget") }

    /// Waits (bounded) until the log is `expected`; true if it got there.
    func waitFor(_ expected: [String]) async -> Bool {
        for _ in 0..<500 {
            if await log.entries == expected { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await log.entries == expected
    }
}
