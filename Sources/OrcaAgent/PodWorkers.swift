import Foundation
import Logging
import OrcaClient

/// One serial worker per pod UID with a latest-wins pending spec (the kubelet's pod
/// workers): updates that arrive while a sync runs replace each other, and the worker
/// syncs again with the newest. A pod gone from the API is terminated and cleaned up.
actor PodWorkers {
    /// The newest version of a pod, or its last version once it is gone from the API.
    enum Work: Sendable { case sync(JSONValue), gone(JSONValue?) }

    var pending: [String: Work] = [:]
    var active: Set<String> = []
    var states: [String: PodRuntimeState] = [:]
    /// The newest version of each pod seen, to sync again on a prober's change.
    var lastPods: [String: JSONValue] = [:]
    let wake: AsyncStream<String>.Continuation
    let stream: AsyncStream<String>

    init() {
        (stream, wake) = AsyncStream<String>.makeStream()
    }

    /// UIDs whose pods are gone from the API: no later sync may bring them back (a resync can
    /// race with the deletion and queue a stale version).
    var gone: Set<String> = []

    /// Queues the newest version of a pod (or its disappearance). A version older than the one
    /// already seen (by `resourceVersion`) is dropped; nothing follows a disappearance.
    func update(_ uid: String, _ work: Work) {
        switch work {
        case .sync(let pod):
            guard !gone.contains(uid) else { return }
            if let seen = lastPods[uid], Self.version(seen) > Self.version(pod) { return }
            lastPods[uid] = pod
        case .gone:
            gone.insert(uid)
            lastPods[uid] = nil
        }
        pending[uid] = work
        if !active.contains(uid) {
            active.insert(uid)
            wake.yield(uid)
        }
    }

    /// Syncs a pod again with its newest version (e.g. a probe result changed).
    func poke(_ uid: String) {
        if pending[uid] == nil, let pod = lastPods[uid] { update(uid, .sync(pod)) }
    }

    /// A pod's `resourceVersion` as a number (0 when absent or not numeric).
    static func version(_ pod: JSONValue) -> Int64 {
        Int64(pod[path: ["metadata", "resourceVersion"]]?.stringValue ?? "") ?? 0
    }

    func take(_ uid: String) -> Work? {
        let w = pending.removeValue(forKey: uid)
        if w == nil { active.remove(uid) }
        return w
    }

    func state(_ uid: String) -> PodRuntimeState { states[uid] ?? PodRuntimeState() }
    func setState(_ uid: String, _ s: PodRuntimeState?) { states[uid] = s }
    func knownUIDs() -> [String] { Array(states.keys) }

    /// Runs workers until cancelled: `sync` is called serially per UID.
    func run(sync: @escaping @Sendable (String, Work) async -> Void) async {
        // Discarding: a worker that went idle is started anew by the next update, and a
        // plain task group would keep every finished one until the agent stops.
        await withDiscardingTaskGroup { group in
            for await uid in stream {
                group.addTask {
                    while let work = await self.take(uid) {
                        await sync(uid, work)
                    }
                }
            }
            group.cancelAll()
        }
    }

    func shutdown() { wake.finish() }
}
