import Foundation
import OrcaClient

/// Which replica sets and pods belong to a deployment (`getReplicaSetsForDeployment` with
/// the `ReplicaSetControllerRefManager`, and `getPodMapForDeployment`).
extension DeploymentController {
    /// The replica sets the deployment controls, after adopting orphans its selector matches
    /// and releasing owned ones it no longer matches (`ClaimReplicaSets`). Errors are collected
    /// and the first is thrown after every replica set was tried.
    func claimReplicaSets(_ d: Deployment, selector: LabelMatcher) async throws -> [ReplicaSet] {
        let uid = d.metadata?.uid
        let deleting = d.metadata?.deletionTimestamp != nil
        let candidates = await replicaSets.list(namespace: d.metadata?.namespace ?? "")
            .sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
        var claimed: [ReplicaSet] = []
        var firstError: (any Error)?
        var mayAdopt: Bool?
        for rs in candidates {
            let labels = rs.metadata?.labels ?? [:]
            if let ref = rs.metadata?.controllerRef {
                guard ref.uid == uid else { continue }
                if selector.matches(labels) {
                    claimed.append(rs)
                } else if !deleting {
                    do { try await release(rs, from: d) } catch { firstError = firstError ?? error }
                }
                continue
            }
            // An orphan: adopt it if it matches, neither side is being deleted, and a fresh
            // read confirms the deployment still exists and is not being deleted.
            guard !deleting, selector.matches(labels), rs.metadata?.deletionTimestamp == nil else { continue }
            do {
                if mayAdopt == nil { mayAdopt = try await recheckCanAdopt(d) }
                guard mayAdopt == true else { continue }
                if let adopted = try await adopt(rs, by: d) { claimed.append(adopted) }
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return claimed
    }

    /// `RecheckDeletionTimestamp`: the deployment, read fresh, is the same object and not
    /// being deleted. Throws if it is gone or replaced.
    func recheckCanAdopt(_ d: Deployment) async throws -> Bool {
        let fresh = try await client.get(Deployment.self, namespace: d.metadata?.namespace, name: d.metadata?.name ?? "")
        guard fresh.metadata?.uid == d.metadata?.uid else {
            throw OrcaError(.conflict, "original Deployment \(d.metadata?.namespace ?? "")/\(d.metadata?.name ?? "") is gone: got uid \(fresh.metadata?.uid ?? ""), wanted \(d.metadata?.uid ?? "")")
        }
        return fresh.metadata?.deletionTimestamp == nil
    }

    /// Adds the deployment's controller reference to an orphan (a merge patch of its owner
    /// references); nil if the replica set is gone.
    func adopt(_ rs: ReplicaSet, by d: Deployment) async throws -> ReplicaSet? {
        var references = (rs.metadata?.ownerReferences ?? []).filter { $0.uid != d.metadata?.uid }
        references.append(.controller(d))
        let encoded = try JSONValue(encoding: references)
        let patch: JSONValue = ["metadata": ["ownerReferences": encoded]]
        do {
            return try await client.mergePatch(ReplicaSet.self, namespace: rs.metadata?.namespace, name: rs.metadata?.name ?? "",
                                               patch: patch)
        } catch let e as APIError where e.isNotFound {
            return nil
        }
    }

    /// Removes the deployment's reference from a replica set it no longer selects; a missing
    /// or invalid replica set is not an error (`ReleaseReplicaSet`).
    func release(_ rs: ReplicaSet, from d: Deployment) async throws {
        let references = (rs.metadata?.ownerReferences ?? []).filter { $0.uid != d.metadata?.uid }
        let value: JSONValue = try references.isEmpty ? .null : JSONValue(encoding: references)
        do {
            try await client.mergePatch(ReplicaSet.self, namespace: rs.metadata?.namespace, name: rs.metadata?.name ?? "",
                                        patch: ["metadata": ["ownerReferences": value]])
        } catch let e as APIError where e.isNotFound || e.code == 422 {}
    }

    /// The deployment's pods (by its selector) grouped by the UID of the claimed replica set
    /// that controls them; every claimed replica set has an entry (`getPodMapForDeployment`).
    func podMap(_ d: Deployment, _ rsList: [ReplicaSet], selector: LabelMatcher) async -> [String: [Pod]] {
        var map: [String: [Pod]] = [:]
        for rs in rsList {
            if let uid = rs.metadata?.uid { map[uid] = [] }
        }
        for pod in await pods.list(namespace: d.metadata?.namespace ?? "", selector: selector) {
            guard let uid = pod.metadata?.controllerRef?.uid, map[uid] != nil else { continue }
            map[uid]?.append(pod)
        }
        return map
    }
}
