import Foundation
import OrcaClient

/// Binding a claim and a volume to each other (`bind`), in Kubernetes' order so that a
/// crash between steps leaves a state the next sync finishes: the volume's `claimRef`, the
/// volume's phase, the claim's `volumeName` and annotations, the claim's status.
extension PersistentVolumeBinder {
    func bind(_ volume: PersistentVolume, _ claim: PersistentVolumeClaim) async throws {
        var volume = volume
        var claim = claim
        let volumeName = volume.metadata?.name ?? ""
        // 1. The volume points at the claim (`bindVolumeToClaim`).
        let ref = volume.spec?.claimRef
        if ref == nil || ref?.name != claim.metadata?.name || (ref?.namespace ?? "") != (claim.metadata?.namespace ?? "")
            || ref?.uid != claim.metadata?.uid {
            let boundByUser = PersistentVolumeMatcher.isVolume(volume, boundTo: claim)
            volume.spec?.claimRef = claim.reference
            if !boundByUser {
                var annotations = volume.metadata?.annotations ?? [:]
                annotations[StorageAnnotations.boundByController] = "yes"
                volume.metadata?.annotations = annotations
            }
            volume = try await client.update(volume)
        }
        // 2. The volume is Bound.
        volume = try await setPhase(volume, "Bound")
        // 3. The claim points at the volume (`bindClaimToVolume`).
        if claim.spec?.volumeName != volumeName || claim.annotation(StorageAnnotations.bindCompleted) == nil {
            var annotations = claim.metadata?.annotations ?? [:]
            if claim.spec?.volumeName != volumeName {
                claim.spec?.volumeName = volumeName
                if annotations[StorageAnnotations.boundByController] == nil { annotations[StorageAnnotations.boundByController] = "yes" }
            }
            if annotations[StorageAnnotations.bindCompleted] == nil { annotations[StorageAnnotations.bindCompleted] = "yes" }
            claim.metadata?.annotations = annotations
            claim = try await client.update(claim)
        }
        // 4. The claim is Bound, with the volume's capacity and access modes.
        let capacity = volume.spec?.capacity?["storage"]
        let modes = volume.spec?.accessModes ?? []
        if claim.status?.phase != "Bound" || (claim.status?.accessModes ?? []) != modes || claim.status?.capacity?["storage"] != capacity {
            var status: JSONValue = ["phase": "Bound", "accessModes": .array(modes.map(JSONValue.string))]
            if let capacity { status["capacity"] = ["storage": .string(capacity.description)] }
            try await client.mergePatch(PersistentVolumeClaim.self, namespace: claim.metadata?.namespace, name: claim.metadata?.name ?? "",
                                        patch: ["status": status], subresource: "status")
        }
    }

    /// `unbindVolume`: a volume the binder bound is freed entirely; one the user pre-bound
    /// keeps its `claimRef` without the UID. Either way it is Available again.
    func unbind(_ volume: PersistentVolume) async throws {
        var volume = volume
        if volume.annotation(StorageAnnotations.boundByController) != nil {
            volume.spec?.claimRef = nil
            volume.metadata?.annotations?[StorageAnnotations.boundByController] = nil
        } else {
            volume.spec?.claimRef?.uid = nil
        }
        volume = try await client.update(volume)
        try await setPhase(volume, "Available")
    }
}
