import Foundation
import OrcaClient

/// Which owner references a StatefulSet claim needs under the set's
/// `persistentVolumeClaimRetentionPolicy` (`isClaimOwnerUpToDate`,
/// `updateClaimOwnerRefForSetAndPod`): the garbage collector then deletes the claim with its
/// owner. `whenDeleted: Delete` makes the set a controller of the claims of pods in range;
/// `whenScaled: Delete` makes a scaled-down pod the controller of its claims. Retain on both
/// leaves claims unowned. Claims whose references point at an older set or pod of the same
/// name, or at another controller, are left alone.
struct PersistentVolumeClaimRetention {
    let statefulSet: StatefulSet
    let pod: Pod

    var whenScaledDelete: Bool { statefulSet.whenScaled == "Delete" }
    var whenDeletedDelete: Bool { statefulSet.whenDeleted == "Delete" }

    /// Whether the claim's owner references already agree with the policy.
    func isOwnerUpToDate(_ claim: PersistentVolumeClaim) -> Bool {
        let refs = claim.metadata?.ownerReferences ?? []
        if hasStaleRef(refs, StatefulSet.self, statefulSet) || hasStaleRef(refs, Pod.self, pod) { return true }
        if hasUnexpectedController(refs) {
            return !(hasRef(refs, statefulSet) || hasRef(refs, pod))
        }
        if refs.contains(where: { isOurs($0) && $0.controller != true }) { return false }
        let scaledDown = !statefulSet.inOrdinalRange(pod)
        let wantSet = whenDeletedDelete && !(whenScaledDelete && scaledDown)
        let wantPod = whenScaledDelete && scaledDown
        return hasRef(refs, statefulSet) == wantSet && hasRef(refs, pod) == wantPod
    }

    /// The claim's owner references rewritten for the policy: references to the set and pod
    /// dropped, then the ones the policy wants added as controller references.
    func updatedOwnerReferences(_ claim: PersistentVolumeClaim) -> [OwnerReference]? {
        let existing = claim.metadata?.ownerReferences ?? []
        var refs = existing.filter { !matches($0, StatefulSet.self, statefulSet) && !matches($0, Pod.self, pod) }
        if !hasUnexpectedController(existing) {
            let scaledDown = !statefulSet.inOrdinalRange(pod)
            if whenScaledDelete && scaledDown {
                refs.append(.controller(pod))
            } else if whenDeletedDelete {
                refs.append(.controller(statefulSet))
            }
        }
        return refs.isEmpty ? nil : refs
    }

    /// A claim owned by an earlier pod of this name blocks creating the pod while claims
    /// are deleted on scale-down (`PodClaimIsStale`).
    static func isStale(_ claim: PersistentVolumeClaim, for pod: Pod, set: StatefulSet) -> Bool {
        guard set.whenScaled == "Delete" else { return false }
        return PersistentVolumeClaimRetention(statefulSet: set, pod: pod).hasStaleRef(claim.metadata?.ownerReferences ?? [], Pod.self, pod)
    }

    // MARK: references

    /// `ref` names `owner`'s kind and name (`matchesRef`; the UID is not compared).
    func matches<Owner: KubernetesObject>(_ ref: OwnerReference, _ type: Owner.Type, _ owner: Owner) -> Bool {
        ref.apiVersion == Owner.apiVersion && ref.kind == Owner.kind && ref.name == owner.metadata?.name
    }

    func isOurs(_ ref: OwnerReference) -> Bool {
        let uid = ref.uid ?? ""
        return !uid.isEmpty && (uid == statefulSet.metadata?.uid || uid == pod.metadata?.uid)
    }

    func hasRef<Owner: KubernetesObject>(_ refs: [OwnerReference], _ owner: Owner) -> Bool {
        guard let uid = owner.metadata?.uid, !uid.isEmpty else { return false }
        return refs.contains { $0.uid == uid }
    }

    /// A reference to an owner of this kind and name but another UID (`hasStaleOwnerRef`).
    func hasStaleRef<Owner: KubernetesObject>(_ refs: [OwnerReference], _ type: Owner.Type, _ owner: Owner) -> Bool {
        refs.contains { matches($0, type, owner) && $0.uid != owner.metadata?.uid }
    }

    /// A controller other than this set or pod, under a deleting policy (`hasUnexpectedController`).
    func hasUnexpectedController(_ refs: [OwnerReference]) -> Bool {
        if !whenScaledDelete && !whenDeletedDelete { return false }
        for ref in refs {
            if matches(ref, StatefulSet.self, statefulSet) {
                if ref.uid != statefulSet.metadata?.uid { return true }
                continue
            }
            if matches(ref, Pod.self, pod) {
                if ref.uid != pod.metadata?.uid { return true }
                continue
            }
            if ref.controller == true { return true }
        }
        return false
    }
}
