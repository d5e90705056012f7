import Foundation
import OrcaClient

/// Pod events → StatefulSet keys (the controller's `addPod`/`updatePod`/`deletePod`).
extension StatefulSetController {
    /// The set controlling `pod`, if this informer knows it (uid checked).
    func owner(of pod: Pod) async -> StatefulSet? {
        guard let ref = pod.metadata?.controllerRef, ref.kind == StatefulSet.kind, let name = ref.name,
              let set = await statefulSets.get(namespace: pod.metadata?.namespace, name: name),
              set.metadata?.uid == ref.uid else { return nil }
        return set
    }

    /// Sets in the pod's namespace whose selector matches it (candidates to adopt an orphan).
    func matchingSets(_ pod: Pod) async -> [StatefulSet] {
        let labels = pod.metadata?.labels ?? [:]
        return await statefulSets.list(namespace: pod.metadata?.namespace ?? "default").filter { set in
            guard let s = set.spec?.selector, let m = try? LabelMatcher(s), !m.isEmpty else { return false }
            return m.matches(labels)
        }
    }

    func enqueue(_ set: StatefulSet) async {
        await queue.add(SharedInformer<StatefulSet>.key(set))
    }

    func podAdded(_ pod: Pod) async {
        if pod.metadata?.deletionTimestamp != nil {
            await podDeleted(pod)
            return
        }
        if pod.metadata?.controllerRef != nil {
            if let set = await owner(of: pod) { await enqueue(set) }
            return
        }
        for set in await matchingSets(pod) { await enqueue(set) }
    }

    func podUpdated(old: Pod, new: Pod) async {
        if old.metadata?.resourceVersion == new.metadata?.resourceVersion { return }
        let labelsChanged = old.metadata?.labels != new.metadata?.labels
        let oldRef = old.metadata?.controllerRef, newRef = new.metadata?.controllerRef
        if oldRef != newRef, oldRef != nil, let previous = await owner(of: old) {
            await enqueue(previous)
        }
        if newRef != nil {
            guard let set = await owner(of: new) else { return }
            await enqueue(set)
            // Ready → available takes minReadySeconds: look again then.
            let minReady = set.minReadySeconds
            if minReady > 0, !old.isReady, new.isReady {
                await queue.add(SharedInformer<StatefulSet>.key(set), after: .seconds(Int(minReady)))
            }
            return
        }
        if labelsChanged || oldRef != newRef {
            for set in await matchingSets(new) { await enqueue(set) }
        }
    }

    func podDeleted(_ pod: Pod) async {
        if let set = await owner(of: pod) { await enqueue(set) }
    }
}
