import Foundation
import Logging
import OrcaClient

/// One serial worker per pod UID with a latest-wins pending spec (the kubelet's pod
/// workers): updates that arrive while a sync runs replace each other, and the worker
/// syncs again with the newest. A pod gone from the API is terminated and cleaned up.
actor PodWorkers {
    enum Work: Sendable { case sync(JSONValue), gone }

    var pending: [String: Work] = [:]
    var active: Set<String> = []
    var states: [String: PodRuntimeState] = [:]
    let wake: AsyncStream<String>.Continuation
    let stream: AsyncStream<String>

    init() {
        (stream, wake) = AsyncStream<String>.makeStream()
    }

    /// Queues the newest version of a pod (or its disappearance).
    func update(_ uid: String, _ work: Work) {
        pending[uid] = work
        if !active.contains(uid) {
            active.insert(uid)
            wake.yield(uid)
        }
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
        await withTaskGroup(of: Void.self) { group in
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
