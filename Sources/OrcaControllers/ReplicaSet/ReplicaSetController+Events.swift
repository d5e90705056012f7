import Foundation
import OrcaClient

/// Pod events → ReplicaSet keys, settling expectations on the way (the controller's
/// `addPod`/`updatePod`/`deletePod`).
extension ReplicaSetController {
    /// The ReplicaSet controlling `pod`, if it is one this informer knows (uid checked).
    func owner(of pod: Pod) async -> Owner? {
        guard let ref = pod.metadata?.controllerRef, ref.kind == Owner.kind, let name = ref.name,
              let rs = await replicaSets.get(namespace: pod.metadata?.namespace, name: name),
              rs.metadata?.uid == ref.uid else { return nil }
        return rs
    }

    /// ReplicaSets in the pod's namespace whose selector matches it (candidates to adopt an orphan).
    func matchingReplicaSets(_ pod: Pod) async -> [Owner] {
        let labels = pod.metadata?.labels ?? [:]
        return await replicaSets.list(namespace: pod.metadata?.namespace ?? "default").filter { rs in
            guard let s = rs.replicaSetSpec.selector, let m = try? LabelMatcher(s), !m.isEmpty else { return false }
            return m.matches(labels)
        }
    }

    func podAdded(_ pod: Pod) async {
        if pod.metadata?.deletionTimestamp != nil {
            await podDeleted(pod)
            return
        }
        if pod.metadata?.controllerRef != nil {
            guard let rs = await owner(of: pod) else { return }
            let key = SharedInformer<Owner>.key(rs)
            expectations.creationObserved(key)
            await queue.add(key)
            return
        }
        for rs in await matchingReplicaSets(pod) { await queue.add(SharedInformer<Owner>.key(rs)) }
    }

    func podUpdated(old: Pod, new: Pod) async {
        if old.metadata?.resourceVersion == new.metadata?.resourceVersion { return }
        let labelsChanged = old.metadata?.labels != new.metadata?.labels
        if new.metadata?.deletionTimestamp != nil {
            // Graceful deletion began: count it as deleted now, so a replacement starts at once.
            await podDeleted(new)
            if labelsChanged { await podDeleted(old) }
            return
        }
        let oldRef = old.metadata?.controllerRef, newRef = new.metadata?.controllerRef
        if oldRef != newRef, oldRef != nil, let previous = await owner(of: old) {
            await queue.add(SharedInformer<Owner>.key(previous))
        }
        if newRef != nil {
            guard let rs = await owner(of: new) else { return }
            let key = SharedInformer<Owner>.key(rs)
            await queue.add(key)
            // Ready → available takes minReadySeconds: look again then.
            let minReady = rs.replicaSetSpec.minReadySeconds ?? 0
            if minReady > 0, !old.isReady, new.isReady {
                await queue.add(key, after: .seconds(Int(minReady) + 1))
            }
            return
        }
        if labelsChanged || oldRef != newRef {
            for rs in await matchingReplicaSets(new) { await queue.add(SharedInformer<Owner>.key(rs)) }
        }
    }

    func podDeleted(_ pod: Pod) async {
        guard let rs = await owner(of: pod) else { return }
        let key = SharedInformer<Owner>.key(rs)
        expectations.deletionObserved(key, podKey: SharedInformer<Pod>.key(pod))
        await queue.add(key)
    }
}
