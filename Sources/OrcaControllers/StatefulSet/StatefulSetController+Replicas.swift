import Foundation
import OrcaClient

/// Bringing a set's pods toward its spec (kube's `updateStatefulSet`, `processReplica`,
/// `processCondemned` and the rolling update after the invariants hold).
extension StatefulSetController {
    /// Creates, fixes and deletes pods for one sync and returns the status to write with the
    /// first error. Pods in `[start, end]` are replicas (missing ones are made from the
    /// revision their ordinal belongs to), the rest are condemned, deleted from the highest
    /// ordinal down; then pods not at the update revision are replaced.
    func updateReplicas(_ set: StatefulSet, current: ControllerRevision, update: ControllerRevision,
                        collisionCount: Int32, pods: [Pod]) async -> (StatefulSetStatus, (any Error)?) {
        let currentSet = set.applying(current), updateSet = set.applying(update)
        let currentName = current.metadata?.name ?? "", updateName = update.metadata?.name ?? ""
        var status = StatefulSetStatus(collisionCount: collisionCount, conditions: set.status?.conditions,
                                       currentRevision: currentName, observedGeneration: set.metadata?.generation,
                                       updateRevision: updateName)
        count(&status, set, pods)

        let start = set.startOrdinal
        var slots = [Pod?](repeating: nil, count: set.replicaCount)
        var outOfRange: [Pod] = []
        for pod in pods {
            let ordinal = StatefulSet.ordinal(of: pod)
            if set.inOrdinalRange(pod) {
                slots[ordinal - start] = pod
            } else if ordinal >= 0 {
                outOfRange.append(pod)
            }
        }
        let replicas: [Pod] = slots.enumerated().map { i, pod in
            pod ?? newVersionedPod(current: currentSet, update: updateSet, currentRevision: currentName,
                                   updateRevision: updateName, ordinal: start + i)
        }
        let condemned = outOfRange.sorted { StatefulSet.ordinal(of: $0) > StatefulSet.ordinal(of: $1) }

        // The first unavailable pod: among the replicas in order, else the lowest condemned.
        let now = clock.now
        let firstUnavailable = (replicas + condemned.reversed()).first { set.isUnavailable($0, now: now) }?.metadata?.name

        if set.metadata?.deletionTimestamp != nil { return (status, nil) }
        let monotonic = !set.allowsBurst
        let finished = { (status: StatefulSetStatus) -> StatefulSetStatus in
            var s = status
            self.count(&s, set, replicas + condemned)
            return s
        }
        do {
            if try await runForAll(replicas.count, monotonic: monotonic, { i in
                try await processReplica(set, updateSet, monotonic: monotonic, replicas[i])
            }) { return (finished(status), nil) }
            // Claims of condemned pods get the owners the scale-down policy wants before the pods go.
            if try await runForAll(condemned.count, monotonic: monotonic, { i in
                if await !podControl.claimsMatchRetentionPolicy(updateSet, condemned[i]) {
                    try await podControl.updateClaimsForRetentionPolicy(updateSet, condemned[i])
                }
                return false
            }) { return (finished(status), nil) }
            if try await runForAll(condemned.count, monotonic: monotonic, { i in
                try await processCondemned(set, firstUnavailable: firstUnavailable, monotonic: monotonic, condemned[i])
            }) { return (finished(status), nil) }
        } catch {
            return (finished(status), error)
        }
        status = finished(status)
        if set.isOnDelete { return (status, nil) }
        do {
            try await rollingUpdate(set, replicas: replicas, updateRevision: updateName, status: &status)
        } catch {
            return (status, error)
        }
        return (status, nil)
    }

    /// One replica (`processReplica`): replace it when it finished, create it when missing
    /// (monotonic sets stop there), create missing claims while pending, wait for it to be
    /// Running, Ready and available when monotonic, then fix its identity and claims.
    /// Returns whether the sync should stop.
    func processReplica(_ set: StatefulSet, _ updateSet: StatefulSet, monotonic: Bool, _ pod: Pod) async throws -> Bool {
        if StatefulSet.isFailed(pod) || StatefulSet.isSucceeded(pod) {
            if !StatefulSet.isTerminating(pod) { try await podControl.deletePod(set, pod) }
            // The replacement is made once this pod has left the cache.
            return true
        }
        if !StatefulSet.isCreated(pod) {
            // A claim still owned by the previous pod of this name is on its way out: wait.
            if await podControl.claimIsStale(set, pod) { return true }
            try await podControl.createPod(set, pod)
            if monotonic { return true }
        }
        if StatefulSet.isPending(pod) { try await podControl.createMissingClaims(set, pod) }
        if monotonic {
            if StatefulSet.isTerminating(pod) || !StatefulSet.isRunningAndReady(pod) { return true }
            if !set.isRunningAndAvailable(pod, now: clock.now) { return true }
        }
        guard StatefulSet.isCreated(pod) else { return false }
        let retentionMatches = await podControl.claimsMatchRetentionPolicy(updateSet, pod)
        if set.identityMatches(pod), set.storageMatches(pod), retentionMatches { return false }
        try await podControl.updatePod(updateSet, pod)
        return false
    }

    /// One condemned pod (`processCondemned`): wait while it terminates (monotonic); a
    /// monotonic set deletes only healthy pods or the first unavailable one, one per sync.
    func processCondemned(_ set: StatefulSet, firstUnavailable: String?, monotonic: Bool, _ pod: Pod) async throws -> Bool {
        if StatefulSet.isTerminating(pod) { return monotonic }
        if monotonic, pod.metadata?.name != firstUnavailable,
           !StatefulSet.isRunningAndReady(pod) || !set.isRunningAndAvailable(pod, now: clock.now) {
            return true
        }
        logger.debug("deleting \(pod.metadata?.name ?? "") of StatefulSet \(set.setName) for scale down")
        try await podControl.deletePod(set, pod)
        return true
    }

    /// The rolling update (`updateStatefulSetAfterInvariantEstablished`): while no more than
    /// maxUnavailable replicas are unavailable, deletes pods not at the update revision from
    /// the highest ordinal down to the partition, up to the allowance left; the replacements
    /// are made from the update revision by the next syncs.
    func rollingUpdate(_ set: StatefulSet, replicas: [Pod], updateRevision: String, status: inout StatefulSetStatus) async throws {
        let partition = Int(max(set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0, 0))
        let allowed = maxUnavailable(set)
        let now = clock.now
        let unavailable = replicas.filter { set.isUnavailable($0, now: now) }.count
        if unavailable > allowed { return }
        var remaining = allowed - unavailable
        var target = replicas.count - 1
        while target >= partition, remaining > 0 {
            let pod = replicas[target]
            if StatefulSet.revision(of: pod) != updateRevision, !StatefulSet.isTerminating(pod) {
                logger.debug("deleting \(pod.metadata?.name ?? "") of StatefulSet \(set.setName) for update")
                try await podControl.deletePod(set, pod)
                remaining -= 1
                status.currentReplicas = (status.currentReplicas ?? 0) - 1
            }
            target -= 1
        }
    }
}
