import Foundation
import OrcaClient

extension NodeLifecycleController {
    /// Marks the node's pods not ready when this look found it no longer Ready (and reports
    /// `NodeNotReady`), or when an earlier attempt left some unmarked.
    func markPodsNotReadyIfNeeded(_ node: Node, observedReady: NodeCondition?, now: Date) async throws {
        let name = node.metadata?.name ?? ""
        guard let currentReady = node.readyCondition else { return }
        let wasReady = observedReady?.status == "True"
        let becameNotReady = currentReady.status != "True" && wasReady
        let retry = await health.podsNeedMarking(name)
        guard becameNotReady || (retry && !wasReady) else {
            if retry { await health.setPodsNeedMarking(name, false) }
            return
        }
        if becameNotReady {
            await recorder.record(node, type: "Normal", reason: "NodeNotReady", message: "Node \(name) status is now: NodeNotReady")
        }
        do {
            try await markPodsNotReady(await pods.byIndex(Indexers.nodeName, name), nodeName: name, now: now)
            await health.setPodsNeedMarking(name, false)
        } catch {
            await health.setPodsNeedMarking(name, true)
            throw error
        }
    }

    /// A pod bound to a node (`processPod`): marked not ready if the node was last seen not Ready.
    func processPod(_ key: String) async throws {
        guard let pod = await pods.get(key), let nodeName = pod.spec?.nodeName, !nodeName.isEmpty,
              let entry = await health.entry(nodeName), await nodes.get(nodeName) != nil,
              let ready = entry.readyCondition, ready.status != "True" else { return }
        try await markPodsNotReady([pod], nodeName: nodeName, now: clock.now)
    }

    /// Sets the Ready condition of each pod on `nodeName` that has one to False
    /// (`MarkPodsNotReady`), with a `NodeNotReady` event per pod; throws the first failure
    /// after trying them all.
    func markPodsNotReady(_ pods: [Pod], nodeName: String, now: Date) async throws {
        var failure: (any Error)?
        for pod in pods where pod.spec?.nodeName == nodeName {
            guard var status = pod.status, var ready = status.conditions?.first(where: { $0.type == "Ready" }) else { continue }
            ready.status = "False"
            guard status.updateCondition(ready, now: now) else { continue }
            var updated = pod
            updated.status = status
            do {
                try await client.update(updated, subresource: "status")
            } catch let e as APIError where e.isNotFound {
                continue
            } catch {
                logger.info("marking pod \(SharedInformer<Pod>.key(pod)) not ready: \(error)")
                failure = failure ?? error
                continue
            }
            await recorder.record(pod, type: "Warning", reason: "NodeNotReady", message: "Node is not ready")
        }
        if let failure { throw failure }
    }
}
