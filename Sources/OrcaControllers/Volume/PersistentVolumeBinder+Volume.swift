import Foundation
import OrcaClient

/// The volume side of the binder (`syncVolume`, `reclaimVolume`).
extension PersistentVolumeBinder {
    func syncVolume(_ name: String) async throws -> ReconcileResult {
        guard let volume = await volumes.get(name), volume.metadata?.deletionTimestamp == nil else { return .done }
        guard let ref = volume.spec?.claimRef, let claimKey = volume.claimKey else {
            // Unused.
            try await setPhase(volume, "Available")
            return .done
        }
        if (ref.uid ?? "").isEmpty {
            // Pre-bound by the user to a claim that has not bound it yet; the claim's sync will.
            try await setPhase(volume, "Available")
            return .done
        }
        let phase = volume.status?.phase
        var found = await claims.get(claimKey)
        if found == nil, phase != "Released", phase != "Failed" {
            // The cache may not show a claim made a moment ago: ask the API server before
            // releasing the volume.
            do {
                found = try await client.get(PersistentVolumeClaim.self, namespace: ref.namespace, name: ref.name ?? "")
            } catch let e as APIError where e.isNotFound {}
        }
        // A claim of the same name made after the volume's claim was deleted is another claim.
        guard let claim = found, claim.metadata?.uid == ref.uid else {
            // The claim is gone: the volume is Released, then reclaimed by its policy.
            var released = volume
            if phase != "Released", phase != "Failed" { released = try await setPhase(volume, "Released") }
            try await reclaim(released)
            return .done
        }
        let claimVolume = claim.spec?.volumeName ?? ""
        if claimVolume.isEmpty {
            if PersistentVolumeMatcher.volumeModeMismatches(claim, volume) {
                await recorder.record(volume, type: "Warning", reason: "VolumeMismatch",
                                      message: "Cannot bind PersistentVolume to requested PersistentVolumeClaim due to incompatible volumeMode.")
                return .done
            }
            // Provisioned for (or bound by the binder to) the claim, which has not bound it
            // yet: the claim's sync finishes it.
            await queue.add(VolumeQueueKey.of(claim).description)
            return .done
        }
        if claimVolume == name {
            try await setPhase(volume, "Bound")
            return .done
        }
        // The claim is bound to another volume.
        if volume.annotation(StorageAnnotations.provisionedBy) != nil, volume.spec?.persistentVolumeReclaimPolicy == "Delete" {
            // Provisioned for this claim but not needed: delete it.
            var released = volume
            if phase != "Released", phase != "Failed" { released = try await setPhase(volume, "Released") }
            try await reclaim(released)
        } else {
            try await unbind(volume)
        }
        return .done
    }

    /// `reclaimVolume`: Retain keeps the volume; Delete is the job of the provisioner that
    /// made it (named in `pv.kubernetes.io/provisioned-by`); Recycle is not supported.
    func reclaim(_ volume: PersistentVolume) async throws {
        let name = volume.metadata?.name ?? ""
        switch volume.spec?.persistentVolumeReclaimPolicy ?? "Retain" {
        case "Retain":
            return
        case "Delete":
            let provisioner = volume.annotation(StorageAnnotations.provisionedBy) ?? ""
            if !provisioner.isEmpty, !provisioner.hasPrefix("kubernetes.io/") { return }
            try await fail(volume, reason: "VolumeFailedDelete",
                           message: "error getting deleter volume plugin for volume \"\(name)\": no deletable volume plugin matched")
        case "Recycle":
            try await fail(volume, reason: "VolumeFailedRecycle", message: "No recycler plugin found for the volume!")
        default:
            try await fail(volume, reason: "VolumeUnknownReclaimPolicy", message: "Volume has unrecognized PersistentVolumeReclaimPolicy")
        }
    }

    /// Phase Failed with a Warning event, once.
    func fail(_ volume: PersistentVolume, reason: String, message: String) async throws {
        guard volume.status?.phase != "Failed" else { return }
        try await setPhase(volume, "Failed", message: message)
        await recorder.record(volume, type: "Warning", reason: reason, message: message)
    }
}
