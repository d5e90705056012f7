import Foundation
import OrcaClient

/// kube-controller-manager's pvc-protection controller: every claim carries the
/// `kubernetes.io/pvc-protection` finalizer, and a deleted claim keeps it (and so stays
/// Terminating, its volume Bound and its data in place) while a scheduled pod still names it.
/// When the last such pod is gone the finalizer is removed and the claim goes; only then is
/// its volume Released and reclaimed.
public struct PersistentVolumeClaimProtection: Reconciler {
    /// The finalizer.
    public static let finalizer = "kubernetes.io/pvc-protection"

    let client: any APIClient
    let claims: SharedInformer<PersistentVolumeClaim>
    let pods: SharedInformer<Pod>

    /// Builds the controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<PersistentVolumeClaimProtection> {
        let claims = await informers.informer(PersistentVolumeClaim.self)
        let pods = await informers.informer(Pod.self)
        let queue = RateLimitingQueue(clock: clock)
        @Sendable func claimChanged(_ claim: PersistentVolumeClaim) async {
            let protected = claim.metadata?.finalizers?.contains(finalizer) == true
            // Unprotected claims get the finalizer; protected ones matter once being deleted.
            if !protected || claim.metadata?.deletionTimestamp != nil { await queue.add(ObjectKey(claim).description) }
        }
        @Sendable func podChanged(_ pod: Pod) async {
            for key in pod.persistentVolumeClaimKeys { await queue.add(key) }
        }
        await claims.addEventHandler(InformerEventHandler(onAdd: claimChanged, onUpdate: { await claimChanged($1) }))
        await pods.addEventHandler(InformerEventHandler(onAdd: podChanged, onUpdate: { await podChanged($1) }, onDelete: podChanged))
        return Controller(name: "pvc-protection", queue: queue, reconciler: PersistentVolumeClaimProtection(client: client, claims: claims, pods: pods),
                          workers: 1, waitForSync: [{ await claims.waitForSync() }, { await pods.waitForSync() }])
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let claim = await claims.get(key) else { return .done }
        let finalizers = claim.metadata?.finalizers ?? []
        let protected = finalizers.contains(Self.finalizer)
        if claim.metadata?.deletionTimestamp == nil {
            if !protected { try await setFinalizers(claim, finalizers + [Self.finalizer]) }
            return .done
        }
        guard protected else { return .done }
        if try await isInUse(claim) { return .done }
        try await setFinalizers(claim, finalizers.filter { $0 != Self.finalizer })
        return .done
    }

    /// Whether a scheduled pod names the claim (`podUsesPVC`). The cache may not show a pod
    /// created a moment ago, so a claim the cache calls unused is checked with a live list.
    func isInUse(_ claim: PersistentVolumeClaim) async throws -> Bool {
        let name = claim.metadata?.name ?? ""
        func uses(_ pod: Pod) -> Bool {
            !(pod.spec?.nodeName ?? "").isEmpty && (pod.spec?.volumes ?? []).contains { $0.persistentVolumeClaim?.claimName == name }
        }
        if await pods.list(namespace: claim.metadata?.namespace).contains(where: uses) { return true }
        return try await client.list(Pod.self, namespace: claim.metadata?.namespace).contains(where: uses)
    }

    /// Replaces the claim's finalizers, on the version the cache shows (a conflict retries).
    func setFinalizers(_ claim: PersistentVolumeClaim, _ finalizers: [String]) async throws {
        var updated = claim
        updated.metadata?.finalizers = finalizers
        do {
            try await client.update(updated)
        } catch let e as APIError where e.isNotFound {}
    }
}
