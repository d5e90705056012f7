import Foundation
import Logging
import OrcaClient

/// Keeps `spec.replicas` pods of each ReplicaSet or ReplicationController (kube-controller-manager's
/// ReplicaSet controller, which also serves ReplicationControllers): claims matching pods through ownerReferences, creates missing pods from
/// the template in slow-start batches, deletes surplus pods in `ActivePodsRanking` order,
/// and writes `status`. Expectations keep it from acting twice on a stale cache.
public struct ReplicaSetController<Owner: ReplicatedWorkload>: Reconciler {
    /// At most this many pods are created or deleted in one sync (`burstReplicas`).
    public static var burstReplicas: Int { 500 }

    let client: any APIClient
    let replicaSets: SharedInformer<Owner>
    let pods: SharedInformer<Pod>
    let expectations: ControllerExpectations
    let queue: RateLimitingQueue
    let clock: any WallClock
    let recorder: EventRecorder
    let logger = Logger(label: "orca.controller.replicaset")

    /// Builds the controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock(), workers: Int = 5) async -> Controller<ReplicaSetController<Owner>> {
        let replicaSets = await informers.informer(Owner.self)
        let pods = await informers.informer(Pod.self)
        let queue = RateLimitingQueue(clock: clock)
        let expectations = ControllerExpectations(clock: clock)
        let recorder = EventRecorder(client: client, component: Owner.controllerName, clock: { clock.now })
        let reconciler = ReplicaSetController(client: client, replicaSets: replicaSets, pods: pods, expectations: expectations,
                                              queue: queue, clock: clock, recorder: recorder)
        await replicaSets.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<Owner>.key($0)) },
            onUpdate: { old, rs in
                // Deleted and made again under the same name: the old one's expectations are void.
                if old.metadata?.uid != rs.metadata?.uid { expectations.delete(SharedInformer<Owner>.key(rs)) }
                await queue.add(SharedInformer<Owner>.key(rs))
            },
            onDelete: { rs in
                expectations.delete(SharedInformer<Owner>.key(rs))
                await queue.add(SharedInformer<Owner>.key(rs))
            }))
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.podAdded($0) },
            onUpdate: { await reconciler.podUpdated(old: $0, new: $1) },
            onDelete: { await reconciler.podDeleted($0) }))
        return Controller(name: Owner.controllerName, queue: queue, reconciler: reconciler, workers: workers,
                          waitForSync: [{ await replicaSets.waitForSync() }, { await pods.waitForSync() }])
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let rs = await replicaSets.get(key) else {
            expectations.delete(key)
            return .done
        }
        let selector: LabelMatcher
        do {
            guard let s = rs.replicaSetSpec.selector else { throw OrcaError(.invalid, "spec.selector is required") }
            selector = try LabelMatcher(s)
        } catch {
            await recorder.record(rs, type: "Warning", reason: "InvalidSelector", message: "invalid selector: \(error)")
            return .done
        }
        let needsSync = expectations.satisfied(key)
        let namespace = rs.metadata?.namespace ?? "default"
        // Its own pods and the namespace's orphans (the only ones it may adopt), from the indexes.
        let candidates = (await pods.byIndex(Indexers.controllerUID, rs.metadata?.uid ?? "")
            + pods.byIndex(Indexers.orphanNamespace, namespace)).filter(\.isActive)
        let manager = PodControllerRefManager(client: client, controllerRef: .controller(rs), selector: selector,
                                              ownerDeleting: rs.metadata?.deletionTimestamp != nil)
        let owned = try await manager.claim(candidates)
        var manageError: (any Error)?
        if needsSync, rs.metadata?.deletionTimestamp == nil {
            do { try await manageReplicas(owned, rs, key: key) } catch { manageError = error }
        }
        let status = ReplicaSetStatusCalculator(now: clock.now).status(of: rs, pods: owned, manageError: manageError)
        let written = try await updateStatus(rs, status)
        if let manageError { throw manageError }
        // Waiting for the cache to show its own creates and deletes: look again when the
        // expectation would expire, in case an event was lost.
        if !needsSync { return .requeue(after: .seconds(ControllerExpectations.timeout)) }
        let minReady = written.replicaSetSpec.minReadySeconds ?? 0
        let want = written.replicaSetSpec.replicas ?? 1
        if minReady > 0, written.replicaSetStatus.readyReplicas == want, written.replicaSetStatus.availableReplicas != want {
            return .requeue(after: .seconds(Int(minReady)))
        }
        return .done
    }

    /// Writes `status` when it differs from the stored one (one retry on a conflict, as
    /// `updateReplicaSetStatus` does).
    func updateStatus(_ rs: Owner, _ status: ReplicaSetStatus) async throws -> Owner {
        if rs.replicaSetStatus == status { return rs }
        var updated = rs
        updated.replicaSetStatus = status
        do {
            return try await client.update(updated, subresource: "status")
        } catch let e as APIError where e.isConflict {
            var fresh = try await client.get(Owner.self, namespace: rs.metadata?.namespace, name: rs.metadata?.name ?? "")
            var next = status
            next.observedGeneration = fresh.metadata?.generation
            fresh.replicaSetStatus = next
            return try await client.update(fresh, subresource: "status")
        }
    }
}
