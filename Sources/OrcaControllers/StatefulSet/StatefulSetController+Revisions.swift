import Foundation
import OrcaClient

/// Revisions and status around one sync (`UpdateStatefulSet`, `performUpdate`,
/// `getStatefulSetRevisions`, `truncateHistory`, `updateStatus`, `completeRollingUpdate`).
extension StatefulSetController {
    /// Finds or makes the update revision, brings the pods toward it, writes the status and
    /// trims the revision history. Returns the status written.
    func updateStatefulSet(_ set: StatefulSet, pods: [Pod]) async throws -> StatefulSetStatus {
        let revisions = await history.list(of: set)
        var collisionCount = set.status?.collisionCount ?? 0
        let data = try ControllerRevisionHistory.templatePatch(set.spec?.template)
        let update = try await history.revision(for: set, data: data, labels: set.spec?.template?.metadata?.labels ?? [:],
                                                hashLabel: ControllerRevisionHistory.hashLabel, existing: revisions,
                                                collisionCount: &collisionCount)
        let current = revisions.first { $0.metadata?.name == set.status?.currentRevision } ?? update
        var (status, manageError) = await updateReplicas(set, current: current, update: update,
                                                         collisionCount: collisionCount, pods: pods)
        completeRollingUpdate(set, &status)
        var firstError = manageError
        do { try await writeStatus(set, status) } catch { firstError = firstError ?? error }
        var live = Set(pods.map(StatefulSet.revision(of:)))
        live.insert(current.metadata?.name ?? "")
        live.insert(update.metadata?.name ?? "")
        let limit = Int(set.spec?.revisionHistoryLimit ?? Int32(ControllerRevisionHistory.defaultLimit))
        do { try await history.truncate(revisions, live: live, limit: limit) } catch { firstError = firstError ?? error }
        if let firstError { throw firstError }
        return status
    }

    /// Counts replicas (created pods), ready, available, current and updated pods of
    /// `pods` into `status` (`updateStatus`/`computeReplicaStatus`).
    func count(_ status: inout StatefulSetStatus, _ set: StatefulSet, _ pods: [Pod]) {
        let now = clock.now
        var replicas: Int32 = 0, ready: Int32 = 0, available: Int32 = 0, current: Int32 = 0, updated: Int32 = 0
        for pod in pods {
            let created = StatefulSet.isCreated(pod)
            if created { replicas += 1 }
            if StatefulSet.isRunningAndReady(pod) {
                ready += 1
                if set.isRunningAndAvailable(pod, now: now) { available += 1 }
            }
            if created, !StatefulSet.isTerminating(pod) {
                let revision = StatefulSet.revision(of: pod)
                if revision == status.currentRevision { current += 1 }
                if revision == status.updateRevision { updated += 1 }
            }
        }
        status.replicas = replicas
        status.readyReplicas = ready
        status.availableReplicas = available
        status.currentReplicas = current
        status.updatedReplicas = updated
    }

    /// Once every replica is updated and ready, the update revision becomes current
    /// (`completeRollingUpdate`).
    func completeRollingUpdate(_ set: StatefulSet, _ status: inout StatefulSetStatus) {
        guard !set.isOnDelete, status.updatedReplicas == status.replicas, status.readyReplicas == status.replicas else { return }
        status.currentReplicas = status.updatedReplicas
        status.currentRevision = status.updateRevision
    }

    /// A pod for an empty ordinal (`newVersionedStatefulSetPod`): from the current revision
    /// below the partition (or, without one, below the current replicas), else from the update revision.
    func newVersionedPod(current currentSet: StatefulSet, update updateSet: StatefulSet, currentRevision: String,
                         updateRevision: String, ordinal: Int) -> Pod {
        let start = currentSet.startOrdinal
        let useCurrent: Bool
        if let rolling = currentSet.spec?.updateStrategy?.rollingUpdate {
            useCurrent = ordinal < start + Int(rolling.partition ?? 0)
        } else {
            useCurrent = !currentSet.isOnDelete && ordinal < start + Int(currentSet.status?.currentReplicas ?? 0)
        }
        var pod = (useCurrent ? currentSet : updateSet).newPod(ordinal: ordinal)
        pod.metadata?.labels?[ControllerRevisionHistory.podRevisionLabel] = useCurrent ? currentRevision : updateRevision
        return pod
    }

    /// maxUnavailable of a rolling update: int or percent of replicas rounded down, at least 1
    /// (`getStatefulSetMaxUnavailable`).
    func maxUnavailable(_ set: StatefulSet) -> Int {
        let value = set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? .int(1)
        return max(value.scaledValue(total: set.replicaCount, roundUp: false) ?? 1, 1)
    }

    /// Runs `body` over `0..<count` (`runForAll`): in order, stopping at the first that asks
    /// to stop, when monotonic; otherwise all at once in slow-start batches. Returns whether
    /// the sync should stop here.
    func runForAll(_ count: Int, monotonic: Bool, _ body: @escaping @Sendable (Int) async throws -> Bool) async throws -> Bool {
        if monotonic {
            for i in 0..<count {
                if try await body(i) { return true }
            }
            return false
        }
        let (_, error) = await SlowStart.run(count) { i in _ = try await body(i) }
        if let error { throw error }
        return false
    }
}
