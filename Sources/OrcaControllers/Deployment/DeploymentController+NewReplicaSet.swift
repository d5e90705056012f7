import Foundation
import OrcaClient

/// Finding, updating and creating the new replica set (`getAllReplicaSetsAndSyncRevision`,
/// `getNewReplicaSet`).
extension DeploymentController {
    /// The new replica set (created when `create` and missing) and the old ones, with the
    /// revision synced to the new one and the deployment. `rsList` gets what was written.
    func allReplicaSetsAndSyncRevision(_ d: inout Deployment, _ rsList: inout [ReplicaSet],
                                       create: Bool) async throws -> (newRS: ReplicaSet?, oldRSs: [ReplicaSet]) {
        let oldRSs = DeploymentReplicaSets.findOld(d, rsList)
        let newRS = try await newReplicaSet(&d, &rsList, oldRSs: oldRSs, create: create)
        return (newRS, oldRSs)
    }

    /// `getNewReplicaSet`: an existing new replica set gets revision max(old)+1 (recording the
    /// revision it had, when an old template comes back), the deployment's annotations and
    /// minReadySeconds; otherwise, if asked, `<deployment>-<hash>` is created. An existing one
    /// of that name with our controller reference and template is taken as created; another
    /// is a hash collision: `status.collisionCount` is bumped and the error thrown to retry.
    func newReplicaSet(_ d: inout Deployment, _ rsList: inout [ReplicaSet], oldRSs: [ReplicaSet],
                       create: Bool) async throws -> ReplicaSet? {
        let newRevision = String(DeploymentAnnotations.maxRevision(oldRSs).addingReportingOverflow(1).partialValue)
        if let existing = DeploymentReplicaSets.findNew(d, rsList) {
            return try await syncExisting(existing, &d, &rsList, newRevision: newRevision)
        }
        guard create else { return nil }

        let namespace = d.metadata?.namespace
        let hash = PodTemplateHash.compute(d.spec?.template, collisionCount: d.status?.collisionCount)
        let template = PodTemplateHash.labeled(d.spec?.template, hash: hash)
        let name = "\(d.metadata?.name ?? "")-\(hash)"
        var rs = ReplicaSet(
            metadata: ObjectMeta(labels: template.metadata?.labels, name: name, namespace: namespace,
                                 ownerReferences: [.controller(d)]),
            spec: ReplicaSetSpec(minReadySeconds: d.spec?.minReadySeconds, replicas: 0,
                                 selector: PodTemplateHash.labeled(d.spec?.selector, hash: hash), template: template))
        let replicas = RolloutMath.newRSNewReplicas(d, allRSs: oldRSs + [rs], newRS: rs)
        rs.spec?.replicas = replicas
        DeploymentAnnotations.setNewReplicaSetAnnotations(d, &rs, newRevision: newRevision, exists: false)

        let created: ReplicaSet
        var alreadyExists = false
        do {
            created = try await client.create(rs)
        } catch let error as APIError where error.isAlreadyExists {
            // A slow cache or a fast resync; or a hash collision.
            alreadyExists = true
            let found = try await client.get(ReplicaSet.self, namespace: namespace, name: name)
            guard found.metadata?.controllerRef?.uid == d.metadata?.uid,
                  PodTemplateHash.equalIgnoringHash(d.spec?.template, found.spec?.template) else {
                var status = d.status ?? DeploymentStatus()
                status.collisionCount = (status.collisionCount ?? 0) &+ 1
                d.status = status
                try? await updateStatus(&d)
                throw error
            }
            created = found
        } catch let error as APIError where error.code == 403 && error.message.contains("being terminated") {
            throw error
        } catch {
            let reason = (error as? APIError)?.message ?? "\(error)"
            let message = "Failed to create new replica set \"\(name)\": \(reason)"
            if DeploymentConditions.hasProgressDeadline(d) {
                var status = d.status ?? DeploymentStatus()
                DeploymentConditions.set(&status, DeploymentConditions.make(
                    DeploymentConditions.progressing, "False", DeploymentConditions.failedReplicaSetCreate, message, now: clock.now))
                d.status = status
                try? await updateStatus(&d)
            }
            await recorder.record(d, type: "Warning", reason: DeploymentConditions.failedReplicaSetCreate, message: message)
            throw error
        }
        rsList = DeploymentReplicaSets.replacing(rsList, with: created)
        if !alreadyExists && replicas > 0 {
            await recordScaling(d, created.metadata?.name ?? name, from: 0, to: replicas)
        }

        let revisionChanged = DeploymentAnnotations.setDeploymentRevision(&d, newRevision)
        if !alreadyExists && DeploymentConditions.hasProgressDeadline(d) {
            var status = d.status ?? DeploymentStatus()
            DeploymentConditions.set(&status, DeploymentConditions.make(
                DeploymentConditions.progressing, "True", DeploymentConditions.newReplicaSetCreated,
                "Created new replica set \"\(created.metadata?.name ?? name)\"", now: clock.now))
            d.status = status
            try await updateStatus(&d)
        }
        if revisionChanged { try await patchRevision(&d) }
        return created
    }

    /// The existing new replica set: its annotations (revision, history, copied deployment
    /// annotations) and minReadySeconds are brought up to date first; once they are, the
    /// deployment takes its revision, and a FoundNewReplicaSet condition if it has none.
    func syncExisting(_ existing: ReplicaSet, _ d: inout Deployment, _ rsList: inout [ReplicaSet],
                      newRevision: String) async throws -> ReplicaSet {
        var rs = existing
        let annotationsUpdated = DeploymentAnnotations.setNewReplicaSetAnnotations(d, &rs, newRevision: newRevision, exists: true)
        if annotationsUpdated || (rs.spec?.minReadySeconds ?? 0) != (d.spec?.minReadySeconds ?? 0) {
            if rs.spec == nil { rs.spec = ReplicaSetSpec() }
            rs.spec?.minReadySeconds = d.spec?.minReadySeconds
            let updated = try await client.update(rs)
            rsList = DeploymentReplicaSets.replacing(rsList, with: updated)
            return updated
        }
        let revisionChanged = DeploymentAnnotations.setDeploymentRevision(&d, rs.metadata?.annotations?[DeploymentAnnotations.revision] ?? "")
        if DeploymentConditions.hasProgressDeadline(d), DeploymentConditions.get(d.status, DeploymentConditions.progressing) == nil {
            var status = d.status ?? DeploymentStatus()
            DeploymentConditions.set(&status, DeploymentConditions.make(
                DeploymentConditions.progressing, "True", DeploymentConditions.foundNewReplicaSet,
                "Found new replica set \"\(rs.metadata?.name ?? "")\"", now: clock.now))
            d.status = status
            try await updateStatus(&d)
        }
        if revisionChanged { try await patchRevision(&d) }
        return rs
    }
}
