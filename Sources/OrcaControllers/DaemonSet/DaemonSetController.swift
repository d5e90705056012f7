import Foundation
import Logging
import OrcaClient

/// The DaemonSet controller (kube-controller-manager's `pkg/controller/daemon`): one pod per
/// eligible node — the template's nodeSelector and required node affinity fit and its taints
/// are tolerated (with the tolerations Kubernetes adds to daemon pods). Pods are placed by
/// the scheduler through a `metadata.name In [node]` affinity term, not `spec.nodeName`.
/// Pods on nodes no longer eligible are deleted, failed pods are replaced with a per-node
/// back-off, and template changes become ControllerRevisions rolled out within
/// maxUnavailable/maxSurge (RollingUpdate) or when the user deletes pods (OnDelete).
public struct DaemonSetController: Reconciler {
    /// The component name on events.
    public static let name = "daemonset-controller"
    /// At most this many pods are created or deleted in one sync (`BurstReplicas`).
    public static var burstReplicas: Int { 250 }

    let client: any APIClient
    let daemonSets: SharedInformer<DaemonSet>
    let pods: SharedInformer<Pod>
    let nodes: SharedInformer<Node>
    let history: ControllerRevisionHistory
    let expectations: ControllerExpectations
    let failedPodsBackoff = FailedPodsBackoff()
    let queue: RateLimitingQueue
    let clock: any WallClock
    let recorder: EventRecorder
    let logger = Logger(label: "orca.controller.daemonset")

    /// Builds the controller on `informers`: a DaemonSet is queued when it, a pod it owns (or
    /// could adopt), one of its revisions, or a node it may run on changes.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<DaemonSetController> {
        let daemonSets = await informers.informer(DaemonSet.self)
        let pods = await informers.informer(Pod.self)
        let nodes = await informers.informer(Node.self)
        let revisions = await informers.informer(ControllerRevision.self)
        let queue = RateLimitingQueue(clock: clock)
        let expectations = ControllerExpectations(clock: clock)
        let recorder = EventRecorder(client: client, component: name, clock: { clock.now })
        let reconciler = DaemonSetController(client: client, daemonSets: daemonSets, pods: pods, nodes: nodes,
                                             history: ControllerRevisionHistory(client: client, revisions: revisions),
                                             expectations: expectations, queue: queue, clock: clock, recorder: recorder)
        await daemonSets.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<DaemonSet>.key($0)) },
            onUpdate: { _, ds in await queue.add(SharedInformer<DaemonSet>.key(ds)) },
            onDelete: { ds in
                expectations.delete(SharedInformer<DaemonSet>.key(ds))
                await queue.add(SharedInformer<DaemonSet>.key(ds))
            }))
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.podAdded($0) },
            onUpdate: { await reconciler.podUpdated(old: $0, new: $1) },
            onDelete: { await reconciler.podDeleted($0) }))
        await nodes.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.nodeAdded($0) },
            onUpdate: { await reconciler.nodeUpdated(old: $0, new: $1) },
            onDelete: { _ in await reconciler.enqueueAll() }))
        await revisions.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.revisionChanged($0) },
            onUpdate: { _, revision in await reconciler.revisionChanged(revision) },
            onDelete: { await reconciler.revisionChanged($0) }))
        return Controller(name: name, queue: queue, reconciler: reconciler, workers: 2,
                          waitForSync: [{ await daemonSets.waitForSync() }, { await pods.waitForSync() },
                                        { await nodes.waitForSync() }, { await revisions.waitForSync() }])
    }

    /// Syncs one DaemonSet (`syncDaemonSet`): history, then pods (while expectations are
    /// met), then the rolling update, the history limit and status.
    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let ds = await daemonSets.get(key) else {
            expectations.delete(key)
            return .done
        }
        let selector: LabelMatcher
        do {
            guard let s = ds.spec?.selector else { throw OrcaError(.invalid, "spec.selector is required") }
            selector = try LabelMatcher(s)
        } catch {
            await recorder.record(ds, type: "Warning", reason: "InvalidSelector", message: "invalid selector: \(error)")
            return .done
        }
        if selector.isEmpty {
            await recorder.record(ds, type: "Warning", reason: "SelectingAll",
                                  message: "This daemon set is selecting all pods. A non-empty selector is required.")
            return .done
        }
        // Pods and history of a DaemonSet being deleted belong to the garbage collector now.
        if ds.metadata?.deletionTimestamp != nil { return .done }
        let nodeList = await nodes.list().sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
        try await history.adoptOrphans(ds, selector: selector)
        let (current, old, collisionCount) = try await constructHistory(ds)
        let hash = current.metadata?.labels?[ControllerRevisionHistory.podRevisionLabel] ?? current.metadata?.name ?? ""
        let owned = try await claimPods(ds, selector: selector)
        let byNode = Self.nodeToDaemonPods(owned, includeDeletedTerminal: false)

        guard expectations.satisfied(key) else {
            // Only status; observedGeneration waits until this generation was acted on.
            let status = try await updateStatus(ds, nodes: nodeList, byNode: byNode, hash: hash, collisionCount: collisionCount,
                                                observeGeneration: false)
            return requeue(ds, status)
        }
        var firstError: (any Error)?
        do {
            try await manage(ds, nodes: nodeList, byNode: byNode, hash: hash, key: key)
            if expectations.satisfied(key), ds.spec?.updateStrategy?.type ?? "RollingUpdate" == "RollingUpdate" {
                try await rollingUpdate(ds, nodes: nodeList, byNode: byNode, hash: hash, key: key)
            }
            try await cleanupHistory(ds, old: old, owned: owned)
        } catch {
            firstError = error
        }
        let status: DaemonSetStatus
        do {
            status = try await updateStatus(ds, nodes: nodeList, byNode: byNode, hash: hash, collisionCount: collisionCount,
                                            observeGeneration: true)
        } catch {
            throw firstError ?? error
        }
        if let firstError { throw firstError }
        return requeue(ds, status)
    }

    /// Look again after minReadySeconds while ready pods are not yet available.
    func requeue(_ ds: DaemonSet, _ status: DaemonSetStatus) -> ReconcileResult {
        let minReady = ds.spec?.minReadySeconds ?? 0
        if minReady > 0, status.numberReady != status.numberAvailable { return .requeue(after: .seconds(Int(minReady))) }
        return .done
    }

    /// The pods this DaemonSet owns after adopting matching orphans and releasing pods that
    /// stopped matching (`getDaemonPods`).
    func claimPods(_ ds: DaemonSet, selector: LabelMatcher) async throws -> [Pod] {
        let candidates = await pods.list(namespace: ds.metadata?.namespace ?? "default")
        let manager = PodControllerRefManager(client: client, controllerRef: .controller(ds), selector: selector,
                                              ownerDeleting: ds.metadata?.deletionTimestamp != nil)
        return try await manager.claim(candidates)
    }

    /// Owned pods by the node they are for (`getNodesToDaemonPods`); finished pods already
    /// being deleted are left out unless asked for.
    static func nodeToDaemonPods(_ pods: [Pod], includeDeletedTerminal: Bool) -> [String: [Pod]] {
        var byNode: [String: [Pod]] = [:]
        for pod in pods {
            if !includeDeletedTerminal, pod.isTerminal, pod.metadata?.deletionTimestamp != nil { continue }
            guard let node = DaemonPodTemplate.targetNodeName(pod) else { continue }
            byNode[node, default: []].append(pod)
        }
        return byNode
    }

    /// Scheduled first, then oldest, then by name (`podByCreationTimestampAndPhase`).
    static func olderFirst(_ a: Pod, _ b: Pod) -> Bool {
        let scheduledA = !(a.spec?.nodeName ?? "").isEmpty, scheduledB = !(b.spec?.nodeName ?? "").isEmpty
        if scheduledA != scheduledB { return scheduledA }
        let ta = KubernetesTime.date(a.metadata?.creationTimestamp) ?? .distantPast
        let tb = KubernetesTime.date(b.metadata?.creationTimestamp) ?? .distantPast
        if ta == tb { return (a.metadata?.name ?? "") < (b.metadata?.name ?? "") }
        return ta < tb
    }

    static func message(_ error: any Error) -> String {
        (error as? APIError)?.message ?? (error as? OrcaError)?.message ?? String(describing: error)
    }
}
