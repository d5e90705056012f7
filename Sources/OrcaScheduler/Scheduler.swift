import Foundation
import Logging
import OrcaClient
import OrcaControllers
import Synchronization

/// The scheduler, a reconciler of unscheduled pods on the controller runtime: binds each to
/// a Ready node that fits its requests, `nodeSelector`, required node affinity and taints
/// (spreading by fewest pods). A pod that fits nowhere gets PodScheduled=False/Unschedulable
/// and a FailedScheduling event, and is tried again when nodes or pods change.
public struct Scheduler: Reconciler {
    public static let name = "default-scheduler"

    let client: any APIClient
    let pods: SharedInformer<Pod>
    let nodes: SharedInformer<Node>
    let clock: any WallClock
    let recorder: EventRecorder
    /// The VolumeBinding plugin: claims' node constraints and WaitForFirstConsumer node selection.
    let volumeBinding: PodVolumeBinding
    /// Pods bound but not yet seen bound in the cache (the scheduler cache's "assumed" pods).
    let assumed = AssumedPods()

    /// Builds the scheduler's controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<Scheduler> {
        let pods = await informers.informer(Pod.self)
        let nodes = await informers.informer(Node.self)
        let recorder = EventRecorder(client: client, component: name, clock: { clock.now })
        let volumeBinding = await PodVolumeBinding(informers: informers)
        let scheduler = Scheduler(client: client, pods: pods, nodes: nodes, clock: clock, recorder: recorder,
                                  volumeBinding: volumeBinding)
        let queue = RateLimitingQueue(clock: clock)
        let assumed = scheduler.assumed
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { pod in
                if Scheduler.isUnscheduled(pod) { await queue.add(SharedInformer<Pod>.key(pod)) } else { assumed.forget(pod) }
            },
            onUpdate: { _, pod in
                if Scheduler.isUnscheduled(pod) { await queue.add(SharedInformer<Pod>.key(pod)) } else { assumed.forget(pod) }
            },
            onDelete: { pod in
                assumed.forget(pod)
                // Freed room: every waiting pod may fit now.
                for waiting in await pods.list() where Scheduler.isUnscheduled(waiting) {
                    await queue.add(SharedInformer<Pod>.key(waiting))
                }
            }))
        await nodes.addEventHandler(InformerEventHandler(
            onAdd: { _ in await requeueWaiting(pods, queue) },
            onUpdate: { _, _ in await requeueWaiting(pods, queue) },
            onDelete: { _ in }))
        // A claim bound or provisioned can make a waiting pod schedulable.
        await informers.informer(PersistentVolumeClaim.self).addEventHandler(InformerEventHandler(
            onAdd: { _ in await requeueWaiting(pods, queue) },
            onUpdate: { _, _ in await requeueWaiting(pods, queue) },
            onDelete: { _ in }))
        return Controller(name: "scheduler", queue: queue, reconciler: scheduler, workers: 1,
                          waitForSync: [{ await pods.waitForSync() }, { await nodes.waitForSync() },
                                        { await volumeBinding.waitForSync() }])
    }

    static func requeueWaiting(_ pods: SharedInformer<Pod>, _ queue: RateLimitingQueue) async {
        for p in await pods.list() where isUnscheduled(p) { await queue.add(SharedInformer<Pod>.key(p)) }
    }

    static func isUnscheduled(_ pod: Pod) -> Bool {
        (pod.spec?.nodeName ?? "").isEmpty && pod.metadata?.deletionTimestamp == nil
            && (pod.spec?.schedulerName ?? Scheduler.name) == Scheduler.name
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let pod = await pods.get(key), Scheduler.isUnscheduled(pod), !assumed.contains(pod) else { return .done }
        let candidates = await nodes.list().sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
        if let reason = await volumeBinding.preFilter(pod) {
            try await markUnschedulable(pod, message: "0/\(candidates.count) nodes are available: \(reason).")
            return .done
        }
        var reasons: [String: Int] = [:]
        var feasible: [(name: String, load: Int)] = []
        for node in candidates {
            let nodeName = node.metadata?.name ?? ""
            var onNode = await pods.byIndex(Indexers.nodeName, nodeName).filter { !PodFit.isTerminal($0) }
            onNode += assumed.pods(on: nodeName)
            var unfit = PodFit.unfitReason(pod: pod, node: node, podsOnNode: onNode)
            if unfit == nil { unfit = await volumeBinding.filter(pod, node: node) }
            if let reason = unfit {
                reasons[reason, default: 0] += 1
            } else {
                feasible.append((nodeName, onNode.count))
            }
        }
        let ns = pod.metadata?.namespace ?? "default"
        let name = pod.metadata?.name ?? ""
        guard let best = feasible.min(by: { $0.load < $1.load }) else {
            let detail = reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            let message = "0/\(candidates.count) nodes are available\(detail.isEmpty ? "" : ": " + detail)."
            try await markUnschedulable(pod, message: message)
            return .done
        }
        try await volumeBinding.selectNode(best.name, for: pod, client: client)
        assumed.assume(pod, node: best.name)
        do {
            try await client.bind(namespace: ns, name: name, node: best.name)
        } catch {
            assumed.forget(pod)
            if let e = error as? APIError, e.isNotFound || e.code == 409 { return .done }
            throw error
        }
        await recorder.record(pod, type: "Normal", reason: "Scheduled", message: "Successfully assigned \(ns)/\(name) to \(best.name)")
        return .done
    }

    func markUnschedulable(_ pod: Pod, message: String) async throws {
        let existing = (pod.status?.conditions ?? []).first { $0.type == "PodScheduled" }
        if existing?.reason == "Unschedulable", existing?.message == message { return }
        var conditions = (pod.status?.conditions ?? []).filter { $0.type != "PodScheduled" }
        conditions.append(PodCondition(lastTransitionTime: KubernetesTime.string(clock.now), message: message,
                                       reason: "Unschedulable", status: "False", type: "PodScheduled"))
        try await client.mergePatch(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "",
                                    patch: ["status": ["conditions": JSONValue(encoding: conditions)]], subresource: "status")
        await recorder.record(pod, type: "Warning", reason: "FailedScheduling", message: message)
    }
}

/// Pods the scheduler bound whose binding the cache has not shown yet; counted on their node
/// so a burst of pods spreads instead of piling onto the node the stale cache calls emptiest.
final class AssumedPods: Sendable {
    private let state = Mutex<[String: (node: String, pod: Pod)]>([:])

    func assume(_ pod: Pod, node: String) {
        var bound = pod
        bound.spec?.nodeName = node
        state.withLock { $0[SharedInformer<Pod>.key(pod)] = (node, bound) }
    }

    func forget(_ pod: Pod) {
        state.withLock { _ = $0.removeValue(forKey: SharedInformer<Pod>.key(pod)) }
    }

    func contains(_ pod: Pod) -> Bool {
        state.withLock { $0[SharedInformer<Pod>.key(pod)] != nil }
    }

    func pods(on node: String) -> [Pod] {
        state.withLock { $0.values.filter { $0.node == node }.map(\.pod) }
    }
}
