import Foundation
import OrcaClient

/// One daemon pod per eligible node (`manage`, `podsShouldBeOnNode`, `syncNodes`).
extension DaemonSetController {
    /// Creates daemon pods on eligible nodes without one and deletes pods that must go:
    /// on nodes no longer eligible, failed or finished ones, surplus ones, and unscheduled
    /// pods for nodes that no longer exist.
    func manage(_ ds: DaemonSet, nodes: [Node], byNode: [String: [Pod]], hash: String, key: String) async throws {
        var nodesNeedingPods: [String] = []
        var podsToDelete: [Pod] = []
        for node in nodes {
            let (create, delete) = await podsShouldBeOnNode(node, byNode: byNode, ds: ds, hash: hash, key: key)
            if create { nodesNeedingPods.append(node.metadata?.name ?? "") }
            podsToDelete += delete
        }
        let existing = Set(nodes.compactMap { $0.metadata?.name })
        for (node, pods) in byNode where !existing.contains(node) {
            podsToDelete += pods.filter { ($0.spec?.nodeName ?? "").isEmpty }
        }
        try await syncNodes(ds, delete: podsToDelete, create: nodesNeedingPods, hash: hash, key: key)
    }

    /// Whether `node` needs a daemon pod, and which of its daemon pods to delete.
    func podsShouldBeOnNode(_ node: Node, byNode: [String: [Pod]], ds: DaemonSet, hash: String,
                            key: String) async -> (create: Bool, delete: [Pod]) {
        let nodeName = node.metadata?.name ?? ""
        let (shouldRun, shouldContinueRunning) = DaemonPodTemplate.shouldRun(ds, on: node)
        guard let daemonPods = byNode[nodeName] else { return (shouldRun, []) }
        guard shouldContinueRunning else {
            return (false, daemonPods.filter { $0.metadata?.deletionTimestamp == nil })
        }
        var create = false
        var delete: [Pod] = []
        var running: [Pod] = []
        for pod in daemonPods where pod.metadata?.deletionTimestamp == nil {
            switch pod.status?.phase {
            case "Failed":
                // Kubelets that reject a pod would make this a hot loop: back off per node.
                let backoffKey = FailedPodsBackoff.key(ds, node: nodeName)
                let now = clock.now
                if failedPodsBackoff.isInBackOff(backoffKey, now: now) {
                    await queue.add(key, after: failedPodsBackoff.delay(backoffKey))
                    continue
                }
                failedPodsBackoff.next(backoffKey, now: now)
                let ns = pod.metadata?.namespace ?? "", name = pod.metadata?.name ?? ""
                await recorder.record(ds, type: "Warning", reason: "FailedDaemonPod",
                                      message: "Found failed daemon pod \(ns)/\(name) on node \(nodeName), will try to kill it")
                delete.append(pod)
            case "Succeeded":
                delete.append(pod)
            default:
                running.append(pod)
            }
        }
        running.sort(by: Self.olderFirst)
        if !allowsSurge(ds) {
            // Without surge, only the oldest pod stays.
            delete += running.dropFirst()
            return (create, delete)
        }
        if running.count <= 1 {
            // Surging: there must be at least one pod that is not being deleted.
            create = running.isEmpty && shouldRun
            return (create, delete)
        }
        // Surging: keep the oldest new pod and the oldest old pod; the old one goes once it
        // is not ready or the new one is available.
        var oldestNew: Pod?, oldestOld: Pod?
        for pod in running {
            if pod.metadata?.labels?[ControllerRevisionHistory.podRevisionLabel] == hash {
                if oldestNew == nil { oldestNew = pod; continue }
            } else if oldestOld == nil {
                oldestOld = pod
                continue
            }
            delete.append(pod)
        }
        if let oldestNew, let oldestOld {
            let minReady = ds.spec?.minReadySeconds ?? 0
            if !oldestOld.isReady || oldestNew.isAvailable(minReadySeconds: minReady, now: clock.now) {
                delete.append(oldestOld)
            }
        }
        return (create, delete)
    }

    /// Surge is configured (`AllowsSurge`).
    func allowsSurge(_ ds: DaemonSet) -> Bool {
        surgeCount(ds, desired: 1) != 0
    }

    /// Creates pods for `create` nodes in slow-start batches and deletes `delete`, at most
    /// `burstReplicas` of each, under expectations (`syncNodes`).
    func syncNodes(_ ds: DaemonSet, delete: [Pod], create: [String], hash: String, key: String) async throws {
        let nodesToCreate = Array(create.prefix(Self.burstReplicas))
        let victims = Array(delete.prefix(Self.burstReplicas))
        expectations.expect(key, adds: nodesToCreate.count, deletes: Set(victims.map { SharedInformer<Pod>.key($0) }))
        let namespace = ds.metadata?.namespace ?? "default"
        let template = DaemonPodTemplate.podTemplate(ds, hash: hash)
        let ref = OwnerReference.controller(ds)
        let prefix = "\(ds.metadata?.name ?? "")-"
        let (attempted, createError) = await SlowStart.run(nodesToCreate.count) { i in
            var podTemplate = template
            var spec = podTemplate.spec ?? PodSpec()
            spec.affinity = DaemonPodTemplate.replacingNodeNameAffinity(spec.affinity, node: nodesToCreate[i])
            podTemplate.spec = spec
            do {
                let made = try await client.create(podTemplate.pod(namespace: namespace, generateName: prefix, owner: ref))
                await recorder.record(ds, type: "Normal", reason: "SuccessfulCreate", message: "Created pod: \(made.metadata?.name ?? "")")
            } catch let e as APIError where e.code == 403 && e.message.contains("being terminated") {
                // The namespace is going away: nothing to create, nothing to report.
                expectations.creationObserved(key)
            } catch {
                expectations.creationObserved(key)
                await recorder.record(ds, type: "Warning", reason: "FailedCreate", message: "Error creating: \(Self.message(error))")
                throw error
            }
        }
        // Creates never attempted will never be observed.
        if attempted < nodesToCreate.count { expectations.lowerCreations(key, by: nodesToCreate.count - attempted) }
        let deleteErrors = await withTaskGroup(of: (any Error)?.self) { group in
            for pod in victims {
                group.addTask {
                    do {
                        try await client.delete(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "",
                                                ignoreNotFound: false)
                        await recorder.record(ds, type: "Normal", reason: "SuccessfulDelete", message: "Deleted pod: \(pod.metadata?.name ?? "")")
                        return nil
                    } catch {
                        // Not deleted: never observed as deleted either.
                        expectations.deletionObserved(key, podKey: SharedInformer<Pod>.key(pod))
                        if let e = error as? APIError, e.isNotFound { return nil }
                        await recorder.record(ds, type: "Warning", reason: "FailedDelete", message: "Error deleting: \(Self.message(error))")
                        return error
                    }
                }
            }
            var errors: [any Error] = []
            for await e in group { if let e { errors.append(e) } }
            return errors
        }
        if let error = createError ?? deleteErrors.first { throw error }
    }
}
