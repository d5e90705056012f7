import Foundation
import OrcaClient

/// The Deployment controller (kube-controller-manager's `pkg/controller/deployment`): each
/// deployment owns replica sets, one per pod template, named `<deployment>-<pod-template-hash>`.
/// A template change creates (or brings back) the new replica set and moves replicas to it,
/// with a rolling update bounded by maxSurge/maxUnavailable or by recreating; a resize during
/// a rollout is shared out proportionally; `spec.paused` stops the rollout but not resizes.
/// Revisions, the desired/max replicas annotations, the Available/Progressing conditions,
/// the progress deadline and the revision history limit behave as in Kubernetes.
public struct DeploymentController: Reconciler {
    /// The component name on events.
    public static let name = "deployment-controller"

    let client: any APIClient
    let deployments: SharedInformer<Deployment>
    let replicaSets: SharedInformer<ReplicaSet>
    let pods: SharedInformer<Pod>
    let clock: any WallClock
    let recorder: EventRecorder

    /// Builds the deployment controller on `informers`: deployments are queued on any change,
    /// and when a replica set they own (or could adopt) changes, or, for Recreate, when one of
    /// their pods is deleted.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<DeploymentController> {
        let deployments = await informers.informer(Deployment.self)
        let replicaSets = await informers.informer(ReplicaSet.self)
        let pods = await informers.informer(Pod.self)
        let recorder = EventRecorder(client: client, component: name, clock: { clock.now })
        let reconciler = DeploymentController(client: client, deployments: deployments, replicaSets: replicaSets, pods: pods,
                                              clock: clock, recorder: recorder)
        let queue = RateLimitingQueue(clock: clock)
        let enqueue: @Sendable (Deployment?) async -> Void = { d in
            if let d { await queue.add(SharedInformer<Deployment>.key(d)) }
        }
        await deployments.addEventHandler(InformerEventHandler(
            onAdd: { await enqueue($0) },
            onUpdate: { _, d in await enqueue(d) },
            onDelete: { await enqueue($0) }))
        await replicaSets.addEventHandler(InformerEventHandler(
            onAdd: { rs in
                if let ref = rs.metadata?.controllerRef {
                    await enqueue(await DeploymentController.resolveControllerRef(ref, namespace: rs.metadata?.namespace, deployments))
                } else if rs.metadata?.deletionTimestamp == nil {
                    for d in await DeploymentController.deploymentsSelecting(rs, deployments) { await enqueue(d) }
                }
            },
            onUpdate: { old, rs in
                if old.metadata?.resourceVersion == rs.metadata?.resourceVersion { return }
                let oldRef = old.metadata?.controllerRef
                let ref = rs.metadata?.controllerRef
                if oldRef != ref, let oldRef {
                    await enqueue(await DeploymentController.resolveControllerRef(oldRef, namespace: old.metadata?.namespace, deployments))
                }
                if let ref {
                    await enqueue(await DeploymentController.resolveControllerRef(ref, namespace: rs.metadata?.namespace, deployments))
                } else if oldRef != ref || old.metadata?.labels != rs.metadata?.labels {
                    for d in await DeploymentController.deploymentsSelecting(rs, deployments) { await enqueue(d) }
                }
            },
            onDelete: { rs in
                guard let ref = rs.metadata?.controllerRef else { return }
                await enqueue(await DeploymentController.resolveControllerRef(ref, namespace: rs.metadata?.namespace, deployments))
            }))
        await pods.addEventHandler(InformerEventHandler(
            onDelete: { pod in
                guard let d = await DeploymentController.deploymentOwning(pod, replicaSets, deployments), d.spec?.strategy?.type == "Recreate" else { return }
                await enqueue(d)
            }))
        return Controller(name: "deployment", queue: queue, reconciler: reconciler, workers: 2,
                          waitForSync: [{ await deployments.waitForSync() }, { await replicaSets.waitForSync() },
                                        { await pods.waitForSync() }])
    }

    // MARK: event routing

    /// The deployment a controller reference points at, if it exists with that UID.
    static func resolveControllerRef(_ ref: OwnerReference, namespace: String?,
                                     _ deployments: SharedInformer<Deployment>) async -> Deployment? {
        guard ref.kind == Deployment.kind, let name = ref.name,
              let d = await deployments.get(namespace: namespace, name: name), d.metadata?.uid == ref.uid else { return nil }
        return d
    }

    /// Deployments whose (valid, non-empty) selector matches an orphan replica set's labels
    /// (`GetDeploymentsForReplicaSet`).
    static func deploymentsSelecting(_ rs: ReplicaSet, _ deployments: SharedInformer<Deployment>) async -> [Deployment] {
        guard let labels = rs.metadata?.labels, !labels.isEmpty else { return [] }
        return await deployments.list(namespace: rs.metadata?.namespace ?? "").filter { d in
            guard let selector = d.spec?.selector, let matcher = try? LabelMatcher(selector) else { return false }
            return !matcher.isEmpty && matcher.matches(labels)
        }
    }

    /// The deployment that owns the replica set that owns `pod` (`getDeploymentForPod`).
    static func deploymentOwning(_ pod: Pod, _ replicaSets: SharedInformer<ReplicaSet>,
                                 _ deployments: SharedInformer<Deployment>) async -> Deployment? {
        guard let ref = pod.metadata?.controllerRef, ref.kind == ReplicaSet.kind, let name = ref.name,
              let rs = await replicaSets.get(namespace: pod.metadata?.namespace, name: name), rs.metadata?.uid == ref.uid,
              let dRef = rs.metadata?.controllerRef else { return nil }
        return await resolveControllerRef(dRef, namespace: rs.metadata?.namespace, deployments)
    }

    // MARK: reconcile

    /// `syncDeployment`: claims the replica sets, then only updates status while deleting,
    /// resizes while paused or on a scaling event, and otherwise rolls out by the strategy.
    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let cached = await deployments.get(key) else { return .done }
        var d = cached
        let matcher: LabelMatcher
        do {
            matcher = try LabelMatcher(d.spec?.selector ?? LabelSelector())
        } catch {
            let reason = (error as? OrcaError)?.message ?? "\(error)"
            await recorder.record(d, type: "Warning", reason: "InvalidSelector",
                                  message: "Deployment \(key) has invalid label selector: \(reason)")
            return .done
        }
        if matcher.isEmpty {
            await recorder.record(d, type: "Warning", reason: "SelectingAll",
                                  message: "This deployment is selecting all pods. A non-empty selector is required.")
            if let generation = d.metadata?.generation, (d.status?.observedGeneration ?? 0) < generation {
                var status = d.status ?? DeploymentStatus()
                status.observedGeneration = generation
                d.status = status
                try await updateStatus(&d)
            }
            return .done
        }
        var rsList = try await claimReplicaSets(d, selector: matcher)
        if d.metadata?.deletionTimestamp != nil {
            return try await syncStatusOnly(&d, &rsList)
        }
        try await checkPausedConditions(&d)
        if d.spec?.paused == true {
            return try await sync(&d, &rsList)
        }
        if try await isScalingEvent(&d, &rsList) {
            return try await sync(&d, &rsList)
        }
        switch d.spec?.strategy?.type ?? "" {
        case "Recreate":
            let podMap = await podMap(d, rsList, selector: matcher)
            return try await rolloutRecreate(&d, &rsList, podMap: podMap)
        case "RollingUpdate", "":
            return try await rolloutRolling(&d, &rsList)
        case let other:
            await recorder.record(d, type: "Warning", reason: "InvalidStrategy",
                                  message: "unexpected deployment strategy type: \(other)")
            return .done
        }
    }

    // MARK: writes of the deployment

    /// Writes `d.status` (optimistically, on `d`'s resourceVersion, so a stale read is a 409
    /// that retries) and keeps `d`'s resourceVersion current.
    func updateStatus(_ d: inout Deployment) async throws {
        let updated = try await client.update(d, subresource: "status")
        d.metadata?.resourceVersion = updated.metadata?.resourceVersion
    }

    /// Writes the deployment's revision annotation. (Kubernetes' status update also carries
    /// metadata; here the status subresource carries status only, so it is a patch of its own.)
    func patchRevision(_ d: inout Deployment) async throws {
        guard let revision = d.metadata?.annotations?[DeploymentAnnotations.revision] else { return }
        let patch: JSONValue = ["metadata": ["annotations": [DeploymentAnnotations.revision: .string(revision)]]]
        let updated = try await client.mergePatch(Deployment.self, namespace: d.metadata?.namespace, name: d.metadata?.name ?? "",
                                                  patch: patch)
        d.metadata?.resourceVersion = updated.metadata?.resourceVersion
    }

    /// Records a `ScalingReplicaSet` event on the deployment (1.32 wording).
    func recordScaling(_ d: Deployment, _ rsName: String, from old: Int32, to new: Int32) async {
        let direction = old < new ? "up" : "down"
        await recorder.record(d, type: "Normal", reason: "ScalingReplicaSet",
                              message: "Scaled \(direction) replica set \(rsName) from \(old) to \(new)")
    }

    /// `.requeue` after the shortest of the given delays, `.done` when none.
    static func result(_ delays: Duration?...) -> ReconcileResult {
        guard let shortest = delays.compactMap({ $0 }).min() else { return .done }
        return .requeue(after: shortest)
    }
}
