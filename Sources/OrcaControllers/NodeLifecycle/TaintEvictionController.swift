import Foundation
import Logging
import OrcaClient

/// Evicts pods from nodes with `NoExecute` taints they do not tolerate (kube-controller-manager's
/// taint-eviction-controller): a pod that does not tolerate one of its node's `NoExecute` taints
/// is deleted at once; one that tolerates them all is deleted when the smallest
/// `tolerationSeconds` of the tolerations used has run out, and never when none has
/// `tolerationSeconds`. If the taint goes (or the pod's tolerations change) before, nothing
/// happens.
///
/// A toleration's time runs from when the taint was added (`timeAdded`, else when this
/// controller first saw it) or when the pod was bound to the node, whichever is later, so a
/// pod bound to an already tainted node gets its whole toleration, and a restart of the
/// controller does not restart the clocks. The deletion is an ordinary one (the pod's grace
/// period), after a `DisruptionTarget` condition and a `TaintManagerEviction` event.
public struct TaintEvictionController: Reconciler {
    /// When a pod is to be evicted.
    enum EvictionTime: Equatable {
        case now
        case at(Date)
        case never
    }

    /// The component name in events.
    static let component = "taint-eviction-controller"

    let client: any APIClient
    let pods: SharedInformer<Pod>
    let nodes: SharedInformer<Node>
    let tracker: TaintEvictionTracker
    let recorder: EventRecorder
    let clock: any WallClock
    let logger = Logger(label: "orca.controller.taint-eviction")

    /// Builds the taint eviction controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<TaintEvictionController> {
        let pods = await informers.informer(Pod.self)
        let nodes = await informers.informer(Node.self)
        let queue = RateLimitingQueue(clock: clock)
        let tracker = TaintEvictionTracker()
        let recorder = EventRecorder(client: client, component: component, clock: { clock.now })
        let reconciler = TaintEvictionController(client: client, pods: pods, nodes: nodes, tracker: tracker,
                                                 recorder: recorder, clock: clock)
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { pod in
                if !(pod.spec?.nodeName ?? "").isEmpty { await queue.add(SharedInformer<Pod>.key(pod)) }
            },
            onUpdate: { old, pod in
                // An unchanged pod is the informer's resync (a new term): its scheduled eviction is looked at again.
                if old == pod || old.spec?.nodeName != pod.spec?.nodeName || old.spec?.tolerations != pod.spec?.tolerations {
                    await queue.add(SharedInformer<Pod>.key(pod))
                }
            },
            onDelete: { pod in await queue.add(SharedInformer<Pod>.key(pod)) }))
        await nodes.addEventHandler(InformerEventHandler(
            onAdd: { node in
                if !node.noExecuteTaints.isEmpty { await reconciler.enqueuePods(on: node, queue) }
            },
            onUpdate: { old, node in
                if old.noExecuteTaints != node.noExecuteTaints { await reconciler.enqueuePods(on: node, queue) }
            },
            onDelete: { node in await tracker.forget(node: node.metadata?.name ?? "") }))
        return Controller(name: "taint-eviction", queue: queue, reconciler: reconciler, workers: 4,
                          waitForSync: [{ await pods.waitForSync() }, { await nodes.waitForSync() }])
    }

    /// Queues every pod bound to `node`.
    func enqueuePods(on node: Node, _ queue: RateLimitingQueue) async {
        for pod in await pods.byIndex(Indexers.nodeName, node.metadata?.name ?? "") {
            await queue.add(SharedInformer<Pod>.key(pod))
        }
    }

    // MARK: reconcile

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let pod = await pods.get(key), pod.metadata?.deletionTimestamp == nil,
              let nodeName = pod.spec?.nodeName, !nodeName.isEmpty, let node = await nodes.get(nodeName) else {
            _ = await tracker.cancel(key)
            return .done
        }
        let taints = node.noExecuteTaints
        let now = clock.now
        let added = await tracker.addedTimes(node: nodeName, taints: taints, now: now)
        let bound = Self.boundTime(pod)
        let starts = added.map { taintAdded in bound.map { max($0, taintAdded) } ?? taintAdded }
        switch Self.evictionTime(tolerations: pod.spec?.tolerations ?? [], taints: taints, starts: starts) {
        case .never:
            await cancelWithEvent(pod)
            return .done
        case .at(let deadline) where deadline > now:
            await tracker.schedule(key)
            return .requeue(after: .seconds(clamping: deadline.timeIntervalSince(now)))
        case .at, .now:
            _ = await tracker.cancel(key)
            try await evict(pod)
            return .done
        }
    }

    /// When `taints` (started at `starts`) evict a pod with `tolerations` (`processPodOnNode`
    /// with `GetMatchingTolerations` and `getMinTolerationTime`): now if one is not tolerated
    /// or a used toleration has `tolerationSeconds` ≤ 0; else at the earliest start plus
    /// `tolerationSeconds` of the first toleration matching each taint; never when none has
    /// `tolerationSeconds` or there are no taints.
    static func evictionTime(tolerations: [Toleration], taints: [Taint], starts: [Date]) -> EvictionTime {
        guard !taints.isEmpty else { return .never }
        guard let used = Toleration.matching(taints, by: tolerations) else { return .now }
        var earliest: Date?
        for (toleration, start) in zip(used, starts) {
            guard let seconds = toleration.tolerationSeconds else { continue }
            if seconds <= 0 { return .now }
            let at = start.addingTimeInterval(TimeInterval(seconds))
            earliest = min(earliest ?? at, at)
        }
        return earliest.map { .at($0) } ?? .never
    }

    /// When the pod was bound to its node: its `PodScheduled` condition's transition time.
    static func boundTime(_ pod: Pod) -> Date? {
        let scheduled = pod.status?.conditions?.first { $0.type == "PodScheduled" && $0.status == "True" }
        return KubernetesTime.date(scheduled?.lastTransitionTime)
    }

    /// Drops a scheduled eviction, reporting it as cancelled.
    func cancelWithEvent(_ pod: Pod) async {
        guard await tracker.cancel(SharedInformer<Pod>.key(pod)) else { return }
        await recorder.record(pod, type: "Normal", reason: "TaintManagerEviction",
                              message: "Cancelling deletion of Pod \(SharedInformer<Pod>.key(pod))")
    }

    /// Deletes the pod as the API server has it now (`addConditionAndDeletePod`): a
    /// `DisruptionTarget` condition first, then an ordinary deletion.
    func evict(_ pod: Pod) async throws {
        let namespace = pod.metadata?.namespace ?? "default"
        let name = pod.metadata?.name ?? ""
        logger.info("evicting pod \(namespace)/\(name) from node \(pod.spec?.nodeName ?? "")")
        await recorder.record(pod, type: "Normal", reason: "TaintManagerEviction", message: "Marking for deletion Pod \(namespace)/\(name)")
        var fresh: Pod
        do {
            fresh = try await client.get(Pod.self, namespace: namespace, name: name)
        } catch let e as APIError where e.isNotFound {
            return
        }
        var status = fresh.status ?? PodStatus()
        if status.updateCondition(PodCondition(message: "Taint manager: deleting due to NoExecute taint", reason: "DeletionByTaintManager",
                                               status: "True", type: "DisruptionTarget"), now: clock.now) {
            fresh.status = status
            fresh = try await client.update(fresh, subresource: "status")
        }
        var options = DeletionOptions()
        options.preconditionUID = fresh.metadata?.uid
        do {
            try await client.delete(Pod.self, namespace: namespace, name: name, options: options)
        } catch let e as APIError where e.code == 409 {
            // A new pod of that name: its own events bring it here.
        }
    }
}
