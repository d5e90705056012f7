import Foundation
import Logging
import OrcaClient

/// What a pod worker runs for its lifecycle's steps: `PodSyncer` in the agent, a fake in tests.
protocol PodWorkerSteps: Sendable {
    /// Brings the pod toward its spec; returns its new runtime state and whether its status is
    /// Succeeded or Failed now.
    func sync(_ pod: JSONValue, state: PodRuntimeState) async -> (state: PodRuntimeState, terminal: Bool)
    /// Stops the pod's containers within the termination's grace period (`pod`: its newest
    /// version, nil when it was never seen — an orphan adopted after a restart).
    func kill(_ pod: JSONValue?, uid: String, state: PodRuntimeState, termination: PodLifecycle.Termination) async -> PodRuntimeState
    /// Removes what the pod has on the node: containers, network, volumes, directories, logs.
    func cleanUp(_ pod: JSONValue?, uid: String, state: PodRuntimeState, termination: PodLifecycle.Termination) async
    /// Has the pod's API object deleted for good (grace period 0); must not wait for the API.
    func finishDeletion(_ pod: JSONValue?, uid: String) async
    /// Drops what is cached about the pod (status, volume sources).
    func forget(uid: String) async
}

/// One serial worker per pod UID (the kubelet's pod workers), each driven by its pod's
/// `PodLifecycle`: updates and removals go into the machine at once; the steps it returns run
/// one at a time on a task of their own, each with the newest version of the pod (updates that
/// arrive meanwhile are coalesced into one more sync). A worker is dropped when its pod is gone
/// from the API and cleaned up; its UID is then ignored, so a stale update cannot bring it back.
actor PodWorkers {
    /// One pod's worker.
    struct Worker: Sendable {
        var lifecycle = PodLifecycle()
        var state = PodRuntimeState()
        /// The newest version of the pod seen (its last one once it is gone from the API).
        var pod: JSONValue?
    }

    typealias Job = (uid: String, actions: [PodLifecycle.Action])

    private var workers: [String: Worker] = [:]
    /// UIDs whose workers were dropped; kept until the pod cache no longer lists them.
    private var forgotten: Set<String> = []
    private let jobs: AsyncStream<Job>
    private let wake: AsyncStream<Job>.Continuation

    init() {
        (jobs, wake) = AsyncStream<Job>.makeStream()
    }

    /// Takes a version of the pod (from the API, or the newest one again for a resync). A
    /// version older than one already seen (by `resourceVersion`) is dropped.
    func update(_ uid: String, _ pod: JSONValue) {
        guard !forgotten.contains(uid) else { return }
        var w = workers[uid] ?? Worker()
        if let seen = w.pod, Self.version(seen) > Self.version(pod) { return }
        w.pod = pod
        let actions = w.lifecycle.event(.updated(PodLifecycle.Facts(pod: pod)))
        workers[uid] = w
        start(uid, actions)
    }

    /// Keeps a newer version of a known pod without syncing it (its status alone changed); an
    /// unknown pod is taken as an update.
    func record(_ uid: String, _ pod: JSONValue) {
        guard !forgotten.contains(uid) else { return }
        guard var w = workers[uid], w.pod != nil else { return update(uid, pod) }
        if let seen = w.pod, Self.version(seen) > Self.version(pod) { return }
        w.pod = pod
        workers[uid] = w
    }

    /// The pod is gone from the API (`lastKnown`: its last version, if the removal carried one).
    func remove(_ uid: String, lastKnown: JSONValue?) {
        guard !forgotten.contains(uid) else { return }
        var w = workers[uid] ?? Worker()
        if let lastKnown, w.pod.map({ Self.version($0) <= Self.version(lastKnown) }) ?? true { w.pod = lastKnown }
        let actions = w.lifecycle.event(.removed(gracePeriod: PodLifecycle.Facts.removalGracePeriod(w.pod)))
        workers[uid] = w
        start(uid, actions)
    }

    /// Syncs a pod again with its newest version (e.g. a probe result changed).
    func poke(_ uid: String) {
        if let pod = workers[uid]?.pod { update(uid, pod) }
    }

    /// Gives a pod the runtime state found after an agent restart (before its first update).
    func adopt(_ uid: String, _ state: PodRuntimeState) {
        workers[uid, default: Worker()].state = state
    }

    /// A pod's runtime state (empty if unknown).
    func state(_ uid: String) -> PodRuntimeState { workers[uid]?.state ?? PodRuntimeState() }

    /// A pod's lifecycle, if it has a worker.
    func lifecycle(_ uid: String) -> PodLifecycle? { workers[uid]?.lifecycle }

    /// The UIDs of every pod with a worker.
    func knownUIDs() -> [String] { Array(workers.keys) }

    /// Every pod with a worker and a known version, with its runtime state.
    func pods() -> [(pod: JSONValue, state: PodRuntimeState)] {
        workers.values.compactMap { w in w.pod.map { ($0, w.state) } }
    }

    /// Forgets dropped UIDs that the pod cache (`listed`) no longer has: no update can name them.
    func pruneForgotten(keeping listed: Set<String>) {
        forgotten.formIntersection(listed)
    }

    /// A pod's `resourceVersion` as a number (0 when absent or not numeric).
    static func version(_ pod: JSONValue) -> Int64 {
        Int64(pod[path: ["metadata", "resourceVersion"]]?.stringValue ?? "") ?? 0
    }

    private func start(_ uid: String, _ actions: [PodLifecycle.Action]) {
        guard !actions.isEmpty else { return }
        if actions.contains(.forget) { drop(uid) }
        wake.yield((uid, actions))
    }

    private func drop(_ uid: String) {
        workers[uid] = nil
        forgotten.insert(uid)
    }

    /// What a step starts from: the newest version of the pod and its runtime state.
    private func context(_ uid: String) -> (pod: JSONValue?, state: PodRuntimeState) {
        (workers[uid]?.pod, workers[uid]?.state ?? PodRuntimeState())
    }

    /// Records a finished step (its new runtime state) and returns what follows.
    private func completed(_ uid: String, _ event: PodLifecycle.Event, state: PodRuntimeState) -> [PodLifecycle.Action] {
        guard var w = workers[uid] else { return [] }
        w.state = state
        let actions = w.lifecycle.event(event)
        workers[uid] = w
        if actions.contains(.forget) { drop(uid) }
        return actions
    }

    /// Runs workers until cancelled or shut down.
    func run(steps: any PodWorkerSteps) async {
        // Discarding: a worker that went idle is started anew by the next update, and a
        // plain task group would keep every finished one until the agent stops.
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await self.perform(job.uid, job.actions, steps: steps) }
            }
            group.cancelAll()
        }
    }

    /// Runs a pod's actions, and those that follow from each finished step, in order.
    private nonisolated func perform(_ uid: String, _ actions: [PodLifecycle.Action], steps: any PodWorkerSteps) async {
        var queue = actions[...]
        while let action = queue.popFirst() {
            let (pod, state) = await context(uid)
            let next: [PodLifecycle.Action]
            switch action {
            case .sync:
                guard let pod else {
                    next = await completed(uid, .synced(terminal: false), state: state)
                    break
                }
                let result = await steps.sync(pod, state: state)
                next = await completed(uid, .synced(terminal: result.terminal), state: result.state)
            case .kill(let termination):
                let after = await steps.kill(pod, uid: uid, state: state, termination: termination)
                next = await completed(uid, .killed, state: after)
            case .cleanUp(let termination):
                await steps.cleanUp(pod, uid: uid, state: state, termination: termination)
                next = await completed(uid, .cleanedUp, state: PodRuntimeState())
            case .finishDeletion:
                await steps.finishDeletion(pod, uid: uid)
                next = []
            case .forget:
                await steps.forget(uid: uid)
                next = []
            }
            queue.append(contentsOf: next)
        }
    }

    /// Ends `run` (workers under way finish their step).
    func shutdown() { wake.finish() }
}
