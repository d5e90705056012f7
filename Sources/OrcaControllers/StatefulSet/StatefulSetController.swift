import Foundation
import Logging
import OrcaClient

/// The StatefulSet controller (kube-controller-manager's `pkg/controller/statefulset`): pods
/// with stable names `<set>-<ordinal>`, hostnames and claims `<template>-<set>-<ordinal>` made
/// before their pod. OrderedReady sets create in ordinal order, each pod Running and Ready
/// before the next, and scale down from the highest ordinal one at a time; Parallel sets act
/// on all at once. Template changes become ControllerRevisions; RollingUpdate replaces pods
/// from the highest ordinal down to the partition, within maxUnavailable; OnDelete waits for
/// the user. Claims outlive their pods unless the retention policy says Delete.
public struct StatefulSetController: Reconciler {
    /// The component name on events.
    public static let name = "statefulset-controller"

    let client: any APIClient
    let statefulSets: SharedInformer<StatefulSet>
    let pods: SharedInformer<Pod>
    let history: ControllerRevisionHistory
    let podControl: StatefulPodControl
    let queue: RateLimitingQueue
    let clock: any WallClock
    let recorder: EventRecorder
    let logger = Logger(label: "orca.controller.statefulset")

    /// Builds the controller on `informers`: a set is queued when it changes and when a pod
    /// it owns (or could adopt) changes.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<StatefulSetController> {
        let statefulSets = await informers.informer(StatefulSet.self)
        let pods = await informers.informer(Pod.self)
        let revisions = await informers.informer(ControllerRevision.self)
        let claims = await informers.informer(PersistentVolumeClaim.self)
        let queue = RateLimitingQueue(clock: clock)
        let recorder = EventRecorder(client: client, component: name, clock: { clock.now })
        let reconciler = StatefulSetController(
            client: client, statefulSets: statefulSets, pods: pods,
            history: ControllerRevisionHistory(client: client, revisions: revisions),
            podControl: StatefulPodControl(client: client, claims: claims, recorder: recorder),
            queue: queue, clock: clock, recorder: recorder)
        await statefulSets.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<StatefulSet>.key($0)) },
            onUpdate: { _, set in await queue.add(SharedInformer<StatefulSet>.key(set)) },
            onDelete: { await queue.add(SharedInformer<StatefulSet>.key($0)) }))
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.podAdded($0) },
            onUpdate: { await reconciler.podUpdated(old: $0, new: $1) },
            onDelete: { await reconciler.podDeleted($0) }))
        return Controller(name: name, queue: queue, reconciler: reconciler, workers: 5,
                          waitForSync: [{ await statefulSets.waitForSync() }, { await pods.waitForSync() },
                                        { await revisions.waitForSync() }, { await claims.waitForSync() }])
    }

    /// Syncs one set (`sync`): adopt orphan revisions, claim pods, then bring pods, claims,
    /// revisions and status toward the spec.
    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let set = await statefulSets.get(key) else { return .done }
        let selector: LabelMatcher
        do {
            guard let s = set.spec?.selector else { throw OrcaError(.invalid, "spec.selector is required") }
            selector = try LabelMatcher(s)
        } catch {
            await recorder.record(set, type: "Warning", reason: "InvalidSelector", message: "invalid selector: \(error)")
            return .done
        }
        try await history.adoptOrphans(set, selector: selector)
        let owned = try await claimPods(set, selector: selector)
        let status = try await updateStatefulSet(set, pods: owned)
        let minReady = set.minReadySeconds
        if minReady > 0, (status.availableReplicas ?? 0) != Int32(set.replicaCount) {
            return .requeue(after: .seconds(Int(minReady)))
        }
        return .done
    }

    /// The pods this set owns after adopting orphans named like its pods and releasing pods
    /// that stopped matching (`getPodsForStatefulSet`).
    func claimPods(_ set: StatefulSet, selector: LabelMatcher) async throws -> [Pod] {
        let uid = set.metadata?.uid
        let candidates = await pods.list(namespace: set.setNamespace).filter { pod in
            if let ref = pod.metadata?.controllerRef { return ref.uid == uid }
            return set.isMember(pod)
        }
        let manager = PodControllerRefManager(client: client, controllerRef: .controller(set), selector: selector,
                                              ownerDeleting: set.metadata?.deletionTimestamp != nil)
        return try await manager.claim(candidates).filter { set.isMember($0) }
    }

    /// Writes `status` when it differs from the stored one, once more on a conflict.
    func writeStatus(_ set: StatefulSet, _ status: StatefulSetStatus) async throws {
        if set.status == status { return }
        var updated = set
        updated.status = status
        do {
            try await client.update(updated, subresource: "status")
        } catch let e as APIError where e.isConflict {
            var fresh = try await client.get(StatefulSet.self, namespace: set.metadata?.namespace, name: set.setName)
            guard fresh.metadata?.uid == set.metadata?.uid else { return }
            var next = status
            next.conditions = fresh.status?.conditions
            fresh.status = next
            try await client.update(fresh, subresource: "status")
        }
    }

    static func message(_ error: any Error) -> String { StatefulPodControl.message(error) }
}
