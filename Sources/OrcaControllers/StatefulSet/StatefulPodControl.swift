import Foundation
import OrcaClient

/// The StatefulSet controller's writes to pods and claims (`stateful_pod_control.go`): claims
/// are created before their pod; every create, update and delete is reported as an event on
/// the set with Kubernetes' wording ("create Pod web-0 in StatefulSet web successful").
/// Claims are read from the informer cache; one that already exists is left as it is.
struct StatefulPodControl: Sendable {
    let client: any APIClient
    let claims: SharedInformer<PersistentVolumeClaim>
    let recorder: EventRecorder

    // MARK: pods

    /// Creates the pod's claims, then the pod (`CreateStatefulPod`); an existing pod is an
    /// error without an event (the cache was stale).
    func createPod(_ set: StatefulSet, _ pod: Pod) async throws {
        do {
            try await createClaims(set, pod)
        } catch {
            await recordPod("create", set, pod, error)
            throw error
        }
        let created: Pod
        do {
            created = try await client.create(pod)
        } catch let e as APIError where e.isAlreadyExists {
            throw e
        } catch {
            await recordPod("create", set, pod, error)
            throw error
        }
        do {
            try await updateClaimsForRetentionPolicy(set, created)
        } catch {
            await recordPod("update", set, pod, error)
            throw error
        }
        await recordPod("create", set, pod, nil)
    }

    /// Deletes the pod (`DeleteStatefulPod`); one already gone is not an error.
    func deletePod(_ set: StatefulSet, _ pod: Pod) async throws {
        do {
            try await client.delete(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "", ignoreNotFound: false)
        } catch let e as APIError where e.isNotFound {
            return
        } catch {
            await recordPod("delete", set, pod, error)
            throw error
        }
        await recordPod("delete", set, pod, nil)
    }

    /// Restores the pod's identity labels, creates missing claims and fixes claim ownership
    /// (`UpdateStatefulPod`), retrying on conflicts. A pod's volumes are immutable, so a pod
    /// whose storage does not match is only given its claims.
    func updatePod(_ set: StatefulSet, _ pod: Pod) async throws {
        var current = pod
        for attempt in 0..<5 {
            var consistent = true
            if !set.identityMatches(current) {
                set.updateIdentity(&current)
                consistent = false
            }
            do {
                if !set.storageMatches(current) { try await createClaims(set, current) }
                if await !claimsMatchRetentionPolicy(set, current) { try await updateClaimsForRetentionPolicy(set, current) }
            } catch {
                await recordPod("update", set, current, error)
                throw error
            }
            if consistent { return }
            do {
                try await client.update(current)
                await recordPod("update", set, current, nil)
                return
            } catch let e as APIError where e.isConflict && attempt < 4 {
                current = try await client.get(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "")
            } catch {
                await recordPod("update", set, current, error)
                throw error
            }
        }
    }

    // MARK: claims

    /// Creates the claims of `pod` missing from the cache (`createPersistentVolumeClaims`);
    /// a claim being deleted is an error (the pod must wait for it to go).
    func createClaims(_ set: StatefulSet, _ pod: Pod) async throws {
        var firstError: (any Error)?
        for (_, claim) in set.claims(ordinal: StatefulSet.ordinal(of: pod)) {
            let name = claim.metadata?.name ?? ""
            if let existing = await claims.get(namespace: set.setNamespace, name: name) {
                if existing.metadata?.deletionTimestamp != nil {
                    firstError = firstError ?? OrcaError(.conflict, "pvc \(name) is being deleted")
                }
                continue
            }
            do {
                try await client.create(claim)
                await recordClaim(set, pod, name, nil)
            } catch let e as APIError where e.isAlreadyExists {
                // Created meanwhile (or by an earlier sync the cache has not shown yet).
            } catch {
                await recordClaim(set, pod, name, error)
                firstError = firstError ?? OrcaError(.internalError, "failed to create PVC \(name): \(Self.message(error))")
            }
        }
        if let firstError { throw firstError }
    }

    /// Creates missing claims of a pending pod and sets their ownership (`createMissingPersistentVolumeClaims`).
    func createMissingClaims(_ set: StatefulSet, _ pod: Pod) async throws {
        try await createClaims(set, pod)
        do {
            try await updateClaimsForRetentionPolicy(set, pod)
        } catch {
            await recordPod("update", set, pod, error)
            throw error
        }
    }

    /// Whether a claim of `pod` belongs to an earlier pod of the same name (`PodClaimIsStale`).
    func claimIsStale(_ set: StatefulSet, _ pod: Pod) async -> Bool {
        for (_, claim) in set.claims(ordinal: StatefulSet.ordinal(of: pod)) {
            if let existing = await claims.get(namespace: set.setNamespace, name: claim.metadata?.name ?? ""),
               PersistentVolumeClaimRetention.isStale(existing, for: pod, set: set) { return true }
        }
        return false
    }

    /// Whether every existing claim of `pod` has the owners the policy wants (`ClaimsMatchRetentionPolicy`).
    func claimsMatchRetentionPolicy(_ set: StatefulSet, _ pod: Pod) async -> Bool {
        let retention = PersistentVolumeClaimRetention(statefulSet: set, pod: pod)
        for (_, claim) in set.claims(ordinal: StatefulSet.ordinal(of: pod)) {
            guard let existing = await claims.get(namespace: set.setNamespace, name: claim.metadata?.name ?? "") else { continue }
            if !retention.isOwnerUpToDate(existing) { return false }
        }
        return true
    }

    /// Rewrites the owner references of the claims of `pod` for the policy (`UpdatePodClaimForRetentionPolicy`).
    func updateClaimsForRetentionPolicy(_ set: StatefulSet, _ pod: Pod) async throws {
        let retention = PersistentVolumeClaimRetention(statefulSet: set, pod: pod)
        for (_, claim) in set.claims(ordinal: StatefulSet.ordinal(of: pod)) {
            let name = claim.metadata?.name ?? ""
            guard var existing = await claims.get(namespace: set.setNamespace, name: name) else { continue }
            if retention.hasUnexpectedController(existing.metadata?.ownerReferences ?? []) {
                await recorder.record(set, type: "Warning", reason: "ConflictingController",
                                      message: "PersistentVolumeClaim \(name) has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim")
            }
            guard !retention.isOwnerUpToDate(existing) else { continue }
            let refs = retention.updatedOwnerReferences(existing)
            existing.metadata?.ownerReferences = refs
            do {
                try await client.update(existing)
            } catch let e as APIError where e.isNotFound {
            } catch {
                throw OrcaError(.internalError, "could not update claim \(name) for delete policy ownerRefs: \(Self.message(error))")
            }
        }
    }

    // MARK: events

    /// `recordPodEvent`: SuccessfulCreate "create Pod web-0 in StatefulSet web successful", or
    /// FailedCreate "create Pod web-0 in StatefulSet web failed error: …".
    func recordPod(_ verb: String, _ set: StatefulSet, _ pod: Pod, _ error: (any Error)?) async {
        let name = pod.metadata?.name ?? ""
        let title = verb.prefix(1).uppercased() + verb.dropFirst()
        if let error {
            await recorder.record(set, type: "Warning", reason: "Failed\(title)",
                                  message: "\(verb) Pod \(name) in StatefulSet \(set.setName) failed error: \(Self.message(error))")
        } else {
            await recorder.record(set, type: "Normal", reason: "Successful\(title)",
                                  message: "\(verb) Pod \(name) in StatefulSet \(set.setName) successful")
        }
    }

    /// `recordClaimEvent` for creates: "create Claim data-web-0 Pod web-0 in StatefulSet web success".
    func recordClaim(_ set: StatefulSet, _ pod: Pod, _ claim: String, _ error: (any Error)?) async {
        let name = pod.metadata?.name ?? ""
        if let error {
            await recorder.record(set, type: "Warning", reason: "FailedCreate",
                                  message: "create Claim \(claim) for Pod \(name) in StatefulSet \(set.setName) failed error: \(Self.message(error))")
        } else {
            await recorder.record(set, type: "Normal", reason: "SuccessfulCreate",
                                  message: "create Claim \(claim) Pod \(name) in StatefulSet \(set.setName) success")
        }
    }

    static func message(_ error: any Error) -> String {
        (error as? APIError)?.message ?? (error as? OrcaError)?.message ?? String(describing: error)
    }
}
