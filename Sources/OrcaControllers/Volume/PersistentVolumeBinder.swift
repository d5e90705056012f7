import Foundation
import OrcaClient

/// The persistent-volume controller of kube-controller-manager: binds claims to volumes and
/// releases volumes whose claims are gone.
///
/// - A Pending claim without a class gets the default StorageClass (Kubernetes does this in
///   the DefaultStorageClass admission plugin and, for claims made before a default existed,
///   retroactively here; Orca's registry has no admission step that can read StorageClasses,
///   so the binder does both, by patching `spec.storageClassName`).
/// - A claim binds to the best matching volume (`PersistentVolumeMatcher`): the volume's
///   `claimRef`, then its phase Bound, then the claim's `volumeName` with the
///   `bind-completed`/`bound-by-controller` annotations, then the claim's phase Bound with the
///   volume's capacity and access modes.
/// - A claim of a WaitForFirstConsumer class waits (event `WaitForFirstConsumer`) until a pod
///   using it is scheduled; the node is recorded as `volume.kubernetes.io/selected-node` (in
///   Kubernetes the scheduler sets it; the binder sets it when it sees the scheduled pod).
/// - A claim with no matching volume and a class (Immediate, or with a selected node) is
///   handed to the class's provisioner through the `storage-provisioner` annotations.
/// - A volume whose claim is gone is Released; reclaim policy Retain keeps it, Delete leaves
///   it to the provisioner that made it, Recycle is not supported (Failed).
public struct PersistentVolumeBinder: Reconciler {
    /// The component name on events.
    public static let name = "persistentvolume-controller"
    /// The pod and volume index of the claims they use (`namespace/claimName`).
    static let claimIndex = "persistentVolumeClaim"

    let client: any APIClient
    let claims: SharedInformer<PersistentVolumeClaim>
    let volumes: SharedInformer<PersistentVolume>
    let classes: SharedInformer<StorageClass>
    let pods: SharedInformer<Pod>
    let nodes: SharedInformer<Node>
    let queue: RateLimitingQueue
    let clock: any WallClock
    let recorder: EventRecorder

    /// Builds the binder's controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<PersistentVolumeBinder> {
        let claims = await informers.informer(PersistentVolumeClaim.self)
        let volumes = await informers.informer(PersistentVolume.self)
        let classes = await informers.informer(StorageClass.self)
        let pods = await informers.informer(Pod.self)
        let nodes = await informers.informer(Node.self)
        await volumes.addIndexer(claimIndex) { volume in volume.claimKey.map { [$0] } ?? [] }
        await pods.addIndexer(claimIndex) { pod in pod.persistentVolumeClaimKeys }
        let queue = RateLimitingQueue(clock: clock)
        let binder = PersistentVolumeBinder(client: client, claims: claims, volumes: volumes, classes: classes, pods: pods,
                                            nodes: nodes, queue: queue, clock: clock,
                                            recorder: EventRecorder(client: client, component: name, clock: { clock.now }))
        @Sendable func add(_ key: VolumeQueueKey) async { await queue.add(key.description) }
        @Sendable func pendingClaims() async {
            for claim in await claims.list() where (claim.spec?.volumeName ?? "").isEmpty { await add(.of(claim)) }
        }
        await claims.addEventHandler(InformerEventHandler(
            onAdd: { await add(.of($0)) },
            onUpdate: { _, claim in await add(.of(claim)) },
            onDelete: { claim in
                // Its volume is released.
                for volume in await volumes.byIndex(claimIndex, ObjectKey(claim).description) { await add(.of(volume)) }
                if let name = claim.spec?.volumeName, !name.isEmpty { await add(.volume(name)) }
            }))
        await volumes.addEventHandler(InformerEventHandler(
            onAdd: { volume in
                await add(.of(volume))
                if let key = volume.claimKey { await add(.claim(key)) } else { await pendingClaims() }
            },
            onUpdate: { old, volume in
                await add(.of(volume))
                if let key = volume.claimKey { await add(.claim(key)) }
                // A volume that became Available may serve a waiting claim.
                if volume.status?.phase == "Available", old.status?.phase != "Available" { await pendingClaims() }
            },
            onDelete: { volume in if let key = volume.claimKey { await add(.claim(key)) } }))
        await classes.addEventHandler(InformerEventHandler(
            onAdd: { _ in await pendingClaims() },
            onUpdate: { _, _ in await pendingClaims() }))
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { pod in for key in pod.persistentVolumeClaimKeys { await add(.claim(key)) } },
            onUpdate: { old, pod in
                // Scheduling a pod can pick its claims' node.
                guard old.spec?.nodeName != pod.spec?.nodeName else { return }
                for key in pod.persistentVolumeClaimKeys { await add(.claim(key)) }
            }))
        return Controller(name: "persistentvolume-binder", queue: queue, reconciler: binder, workers: 2,
                          waitForSync: [{ await claims.waitForSync() }, { await volumes.waitForSync() }, { await classes.waitForSync() },
                                        { await pods.waitForSync() }, { await nodes.waitForSync() }])
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        switch VolumeQueueKey(parsing: key) {
        case .claim(let claimKey)?: return try await syncClaim(claimKey)
        case .volume(let name)?: return try await syncVolume(name)
        case nil: return .done
        }
    }

    // MARK: writes shared by the claim and volume syncs

    /// Sets a volume's phase (and message), as `updateVolumePhase`; a no-op when unchanged.
    @discardableResult
    func setPhase(_ volume: PersistentVolume, _ phase: String, message: String? = nil) async throws -> PersistentVolume {
        if volume.status?.phase == phase && volume.status?.message == message { return volume }
        var status: JSONValue = ["phase": .string(phase), "message": message.map(JSONValue.string) ?? .null]
        if volume.status?.phase != phase { status["lastPhaseTransitionTime"] = .string(KubernetesTime.string(clock.now)) }
        return try await client.mergePatch(PersistentVolume.self, namespace: nil, name: volume.metadata?.name ?? "",
                                           patch: ["status": status], subresource: "status")
    }

    /// Sets a claim's phase, as `updateClaimStatus` without a volume; a no-op when unchanged.
    func setPhase(_ claim: PersistentVolumeClaim, _ phase: String) async throws {
        if claim.status?.phase == phase { return }
        try await client.mergePatch(PersistentVolumeClaim.self, namespace: claim.metadata?.namespace, name: claim.metadata?.name ?? "",
                                    patch: ["status": ["phase": .string(phase)]], subresource: "status")
    }

    /// Merges `annotations` into a claim's (a `nil` value removes one).
    func annotate(_ claim: PersistentVolumeClaim, _ annotations: [String: String?]) async throws {
        let values = annotations.mapValues { $0.map(JSONValue.string) ?? .null }
        try await client.mergePatch(PersistentVolumeClaim.self, namespace: claim.metadata?.namespace, name: claim.metadata?.name ?? "",
                                    patch: ["metadata": ["annotations": .object(values)]])
    }
}
