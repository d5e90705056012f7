import Foundation
import OrcaClient

/// Pod, node and revision events → DaemonSet keys, settling expectations on the way (the
/// controller's `addPod`/`updatePod`/`deletePod`, `addNode`/`updateNode`, `addHistory`…).
extension DaemonSetController {
    /// The DaemonSet controlling an object, if this informer knows it (uid checked).
    func owner(_ ref: OwnerReference?, namespace: String?) async -> DaemonSet? {
        guard let ref, ref.kind == DaemonSet.kind, let name = ref.name,
              let ds = await daemonSets.get(namespace: namespace, name: name), ds.metadata?.uid == ref.uid else { return nil }
        return ds
    }

    /// DaemonSets in the namespace whose selector matches `labels` (candidates to adopt an orphan).
    func matchingDaemonSets(namespace: String?, labels: [String: String]) async -> [DaemonSet] {
        await daemonSets.list(namespace: namespace ?? "default").filter { ds in
            guard let s = ds.spec?.selector, let m = try? LabelMatcher(s), !m.isEmpty else { return false }
            return m.matches(labels)
        }
    }

    func enqueue(_ ds: DaemonSet) async {
        await queue.add(SharedInformer<DaemonSet>.key(ds))
    }

    func enqueueAll() async {
        for ds in await daemonSets.list() { await enqueue(ds) }
    }

    func podAdded(_ pod: Pod) async {
        if pod.metadata?.deletionTimestamp != nil {
            // Already being deleted (seen after a restart): not a creation to observe.
            await podDeleted(pod)
            return
        }
        if let ref = pod.metadata?.controllerRef {
            guard let ds = await owner(ref, namespace: pod.metadata?.namespace) else { return }
            let key = SharedInformer<DaemonSet>.key(ds)
            expectations.creationObserved(key)
            await queue.add(key)
            return
        }
        for ds in await matchingDaemonSets(namespace: pod.metadata?.namespace, labels: pod.metadata?.labels ?? [:]) {
            await enqueue(ds)
        }
    }

    func podUpdated(old: Pod, new: Pod) async {
        if old.metadata?.resourceVersion == new.metadata?.resourceVersion { return }
        if new.metadata?.deletionTimestamp != nil {
            // Graceful deletion began: count it as deleted now, so a replacement starts at once.
            await podDeleted(new)
            return
        }
        let oldRef = old.metadata?.controllerRef, newRef = new.metadata?.controllerRef
        if oldRef != newRef, let previous = await owner(oldRef, namespace: old.metadata?.namespace) {
            await enqueue(previous)
        }
        if let newRef {
            guard let ds = await owner(newRef, namespace: new.metadata?.namespace) else { return }
            await enqueue(ds)
            // Ready → available takes minReadySeconds: look again then.
            let minReady = ds.spec?.minReadySeconds ?? 0
            if minReady > 0, !old.isReady, new.isReady {
                await queue.add(SharedInformer<DaemonSet>.key(ds), after: .seconds(Int(minReady) + 1))
            }
            return
        }
        if old.metadata?.labels != new.metadata?.labels || oldRef != newRef {
            for ds in await matchingDaemonSets(namespace: new.metadata?.namespace, labels: new.metadata?.labels ?? [:]) {
                await enqueue(ds)
            }
        }
    }

    func podDeleted(_ pod: Pod) async {
        guard let ds = await owner(pod.metadata?.controllerRef, namespace: pod.metadata?.namespace) else { return }
        let key = SharedInformer<DaemonSet>.key(ds)
        expectations.deletionObserved(key, podKey: SharedInformer<Pod>.key(pod))
        await queue.add(key)
    }

    /// A new node: every DaemonSet that should run there.
    func nodeAdded(_ node: Node) async {
        for ds in await daemonSets.list() where DaemonPodTemplate.shouldRun(ds, on: node).shouldRun {
            await enqueue(ds)
        }
    }

    /// A changed node: every DaemonSet whose verdict on it changed (labels, taints, name…).
    func nodeUpdated(old: Node, new: Node) async {
        if old.metadata?.labels == new.metadata?.labels, old.spec == new.spec { return }
        for ds in await daemonSets.list() {
            let before = DaemonPodTemplate.shouldRun(ds, on: old), after = DaemonPodTemplate.shouldRun(ds, on: new)
            if before != after { await enqueue(ds) }
        }
    }

    /// A revision changed: its DaemonSet, or for an orphan every DaemonSet that could adopt it.
    func revisionChanged(_ revision: ControllerRevision) async {
        if let ref = revision.metadata?.controllerRef {
            if let ds = await owner(ref, namespace: revision.metadata?.namespace) { await enqueue(ds) }
            return
        }
        for ds in await matchingDaemonSets(namespace: revision.metadata?.namespace, labels: revision.metadata?.labels ?? [:]) {
            await enqueue(ds)
        }
    }
}
