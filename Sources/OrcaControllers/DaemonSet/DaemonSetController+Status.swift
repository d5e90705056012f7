import Foundation
import OrcaClient

/// The DaemonSet's status (`updateDaemonSetStatus`, `storeDaemonSetStatus`).
extension DaemonSetController {
    /// Counts nodes that should run the daemon pod and what runs there — the oldest daemon
    /// pod of each node decides ready, available and updated — and writes the status when it
    /// changed (once more on a conflict). Returns the status.
    func updateStatus(_ ds: DaemonSet, nodes: [Node], byNode: [String: [Pod]], hash: String, collisionCount: Int32,
                      observeGeneration: Bool) async throws -> DaemonSetStatus {
        let now = clock.now
        let minReady = ds.spec?.minReadySeconds ?? 0
        let generation = DaemonPodTemplate.templateGeneration(ds)
        var desired: Int32 = 0, current: Int32 = 0, misscheduled: Int32 = 0, ready: Int32 = 0, updated: Int32 = 0, available: Int32 = 0
        for node in nodes {
            let shouldRun = DaemonPodTemplate.shouldRun(ds, on: node).shouldRun
            let daemonPods = byNode[node.metadata?.name ?? ""] ?? []
            guard shouldRun else {
                if !daemonPods.isEmpty { misscheduled += 1 }
                continue
            }
            desired += 1
            guard let pod = daemonPods.sorted(by: Self.olderFirst).first else { continue }
            current += 1
            if pod.isReady {
                ready += 1
                if pod.isAvailable(minReadySeconds: minReady, now: now) { available += 1 }
            }
            if DaemonPodTemplate.isUpdated(pod, hash: hash, generation: generation) { updated += 1 }
        }
        var status = ds.status ?? DaemonSetStatus()
        status.desiredNumberScheduled = desired
        status.currentNumberScheduled = current
        status.numberMisscheduled = misscheduled
        status.numberReady = ready
        status.updatedNumberScheduled = updated
        status.numberAvailable = available
        status.numberUnavailable = desired - available
        status.collisionCount = collisionCount == 0 && ds.status?.collisionCount == nil ? nil : collisionCount
        if observeGeneration { status.observedGeneration = ds.metadata?.generation }
        if status == ds.status { return status }
        var updatedDS = ds
        updatedDS.status = status
        do {
            try await client.update(updatedDS, subresource: "status")
        } catch let e as APIError where e.isConflict {
            var fresh = try await client.get(DaemonSet.self, namespace: ds.metadata?.namespace, name: ds.metadata?.name ?? "")
            guard fresh.metadata?.uid == ds.metadata?.uid else { return status }
            var next = status
            next.conditions = fresh.status?.conditions
            if !observeGeneration { next.observedGeneration = fresh.status?.observedGeneration }
            fresh.status = next
            try await client.update(fresh, subresource: "status")
        }
        return status
    }
}
