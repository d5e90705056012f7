import Foundation
import OrcaClient

/// The scheduler's VolumeBinding plugin, reduced to what Orca's volumes need, for the
/// scheduler to call: a pod whose claims cannot be used waits unschedulable; a pod is only
/// placed where its bound volumes' node affinity allows; and once a node is chosen, the
/// pod's unbound WaitForFirstConsumer claims are told so (`volume.kubernetes.io/selected-node`),
/// which starts their binding or provisioning on that node.
public struct PodVolumeBinding: Sendable {
    let claims: SharedInformer<PersistentVolumeClaim>
    let volumes: SharedInformer<PersistentVolume>
    let classes: SharedInformer<StorageClass>

    /// The informers it reads (the caller waits for their sync with its own).
    public init(informers: SharedInformerFactory) async {
        claims = await informers.informer(PersistentVolumeClaim.self)
        volumes = await informers.informer(PersistentVolume.self)
        classes = await informers.informer(StorageClass.self)
    }

    /// Waits until the claim, volume and class caches are loaded.
    public func waitForSync() async {
        await claims.waitForSync()
        await volumes.waitForSync()
        await classes.waitForSync()
    }

    /// The claims the pod's volumes name, in order; nil for one missing from the cache.
    func podClaims(_ pod: Pod) async -> [(name: String, claim: PersistentVolumeClaim?)] {
        var result: [(name: String, claim: PersistentVolumeClaim?)] = []
        for key in pod.persistentVolumeClaimKeys {
            result.append((ObjectKey(parsing: key).name, await claims.get(key)))
        }
        return result
    }

    /// PreFilter: why no node can take the pod now, or nil (`persistentvolumeclaim "x" not
    /// found`, `… is being deleted`, `pod has unbound immediate PersistentVolumeClaims`).
    public func preFilter(_ pod: Pod) async -> String? {
        for (name, claim) in await podClaims(pod) {
            guard let claim else { return "persistentvolumeclaim \"\(name)\" not found" }
            if claim.metadata?.deletionTimestamp != nil { return "persistentvolumeclaim \"\(name)\" is being deleted" }
            if (claim.spec?.volumeName ?? "").isEmpty, !(await waitsForFirstConsumer(claim)) {
                return "pod has unbound immediate PersistentVolumeClaims"
            }
        }
        return nil
    }

    /// Filter: why `node` cannot take the pod, or nil: a volume of a bound claim is pinned
    /// to other nodes (`node(s) had volume node affinity conflict`).
    public func filter(_ pod: Pod, node: Node) async -> String? {
        for (_, claim) in await podClaims(pod) {
            guard let volumeName = claim?.spec?.volumeName, !volumeName.isEmpty, let volume = await volumes.get(volumeName) else { continue }
            if !PersistentVolumeMatcher.nodeAffinityFits(volume, node: node) { return "node(s) had volume node affinity conflict" }
        }
        return nil
    }

    /// PreBind: records `node` on the pod's unbound WaitForFirstConsumer claims that have no
    /// node yet. Call it after choosing the node and before binding the pod.
    public func selectNode(_ node: String, for pod: Pod, client: any APIClient) async throws {
        for (_, claim) in await podClaims(pod) {
            guard let claim, (claim.spec?.volumeName ?? "").isEmpty, claim.annotation(StorageAnnotations.selectedNode) == nil,
                  await waitsForFirstConsumer(claim) else { continue }
            try await client.mergePatch(PersistentVolumeClaim.self, namespace: claim.metadata?.namespace, name: claim.metadata?.name ?? "",
                                        patch: ["metadata": ["annotations": [StorageAnnotations.selectedNode: .string(node)]]])
        }
    }

    /// The claim's class binds on first consumer. A claim without a class counts as one while
    /// the default class does (the binder will give it that class).
    func waitsForFirstConsumer(_ claim: PersistentVolumeClaim) async -> Bool {
        let className = claim.storageClass
        if className.isEmpty {
            guard claim.spec?.storageClassName == nil else { return false }
            return StorageClass.defaultClass(of: await classes.list())?.waitsForFirstConsumer ?? false
        }
        return await classes.get(className)?.waitsForFirstConsumer ?? false
    }
}
