import Foundation
import OrcaClient

/// The claim side of the binder (`syncClaim`, `syncUnboundClaim`, `syncBoundClaim`).
extension PersistentVolumeBinder {
    func syncClaim(_ key: String) async throws -> ReconcileResult {
        guard let claim = await claims.get(key), claim.metadata?.deletionTimestamp == nil else { return .done }
        if claim.annotation(StorageAnnotations.bindCompleted) == nil {
            try await syncUnboundClaim(claim)
        } else {
            try await syncBoundClaim(claim)
        }
        return .done
    }

    /// A claim not bound yet: with `volumeName` the user chose its volume; without, the best
    /// match is bound, or the claim waits for its first consumer, or is provisioned.
    func syncUnboundClaim(_ claim: PersistentVolumeClaim) async throws {
        let volumeName = claim.spec?.volumeName ?? ""
        if !volumeName.isEmpty {
            try await syncClaimWithChosenVolume(claim, volumeName)
            return
        }
        // DefaultStorageClass: a claim without a class (not even "") gets the default one.
        if claim.spec?.storageClassName == nil, claim.annotation(StorageAnnotations.betaStorageClass) == nil {
            if let name = StorageClass.defaultClass(of: await classes.list())?.metadata?.name {
                try await client.mergePatch(PersistentVolumeClaim.self, namespace: claim.metadata?.namespace, name: claim.metadata?.name ?? "",
                                            patch: ["spec": ["storageClassName": .string(name)]])
                return
            }
        }
        let className = claim.storageClass
        let storageClass = className.isEmpty ? nil : await classes.get(className)
        let delayBinding = storageClass?.waitsForFirstConsumer ?? false
        let selectedNode = claim.annotation(StorageAnnotations.selectedNode)
        if delayBinding, selectedNode == nil, let node = await scheduledNode(of: claim) {
            // The scheduler's part: the claim's first pod runs on `node`.
            try await annotate(claim, [StorageAnnotations.selectedNode: node])
            return
        }
        var node: Node?
        if let name = selectedNode {
            // A node not in the cache (yet) is known by its hostname label.
            node = await nodes.get(name) ?? Node(metadata: ObjectMeta(labels: [StorageAnnotations.hostnameLabel: name], name: name))
        }
        if let volume = PersistentVolumeMatcher.findBestMatch(for: claim, in: await volumes.list(), node: node,
                                                               delayBinding: delayBinding) {
            try await bind(volume, claim)
            return
        }
        if delayBinding && selectedNode == nil {
            await recordWaitingForConsumer(claim)
        } else if !className.isEmpty {
            try await provision(claim, storageClass, className: className)
            return
        } else {
            await recorder.record(claim, type: "Normal", reason: "FailedBinding",
                                  message: "no persistent volumes available for this claim and no storage class is set")
        }
        try await setPhase(claim, "Pending")
    }

    /// The user named the volume (`spec.volumeName`): bind to it if it is free and fits, or
    /// finish a binding it already has; otherwise the claim stays Pending.
    func syncClaimWithChosenVolume(_ claim: PersistentVolumeClaim, _ volumeName: String) async throws {
        guard let volume = await volumes.get(volumeName) else {
            try await setPhase(claim, "Pending")
            return
        }
        if volume.spec?.claimRef == nil {
            if let reason = PersistentVolumeMatcher.unsatisfiedReason(volume: volume, claim: claim) {
                await recorder.record(claim, type: "Warning", reason: "VolumeMismatch",
                                      message: "Cannot bind to requested volume \"\(volumeName)\": \(reason)")
                try await setPhase(claim, "Pending")
            } else {
                try await bind(volume, claim)
            }
        } else if PersistentVolumeMatcher.isVolume(volume, boundTo: claim) {
            try await bind(volume, claim)
        } else if claim.annotation(StorageAnnotations.boundByController) != nil {
            await recorder.record(claim, type: "Warning", reason: "VolumeMismatch",
                                  message: "invalid binding of claim to volume \"\(volumeName)\": volume already claimed by \"\(volume.claimKey ?? "")\"")
        } else {
            // The volume is someone else's; the user may free it later.
            try await setPhase(claim, "Pending")
        }
    }

    /// A bound claim: check its volume still points back, else the claim is Lost.
    func syncBoundClaim(_ claim: PersistentVolumeClaim) async throws {
        let volumeName = claim.spec?.volumeName ?? ""
        guard !volumeName.isEmpty else {
            try await markLost(claim, reason: "ClaimLost", message: "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
            return
        }
        guard let volume = await volumes.get(volumeName) else {
            try await markLost(claim, reason: "ClaimLost", message: "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            return
        }
        if volume.spec?.claimRef == nil || volume.spec?.claimRef?.uid == claim.metadata?.uid {
            // Unbound volume (or a cache that has not seen its binding yet), or all is well:
            // bind() sets whatever is missing and writes nothing otherwise.
            try await bind(volume, claim)
        } else {
            try await markLost(claim, reason: "ClaimMisbound", message: "Two claims are bound to the same volume, this one is bound incorrectly")
        }
    }

    /// Phase Lost with a Warning event, once.
    func markLost(_ claim: PersistentVolumeClaim, reason: String, message: String) async throws {
        guard claim.status?.phase != "Lost" else { return }
        try await setPhase(claim, "Lost")
        await recorder.record(claim, type: "Warning", reason: reason, message: message)
    }

    /// Hands the claim to its class's provisioner (`provisionClaimOperationExternal`): the
    /// `storage-provisioner` annotations name it, and the provisioner creates the volume.
    func provision(_ claim: PersistentVolumeClaim, _ storageClass: StorageClass?, className: String) async throws {
        guard let storageClass else {
            await recorder.record(claim, type: "Warning", reason: "ProvisioningFailed",
                                  message: "storageclass.storage.k8s.io \"\(className)\" not found")
            return
        }
        let provisioner = storageClass.provisioner ?? ""
        if provisioner.hasPrefix("kubernetes.io/") {
            // In-tree plugins (and `kubernetes.io/no-provisioner`) are not available.
            await recorder.record(claim, type: "Warning", reason: "ProvisioningFailed",
                                  message: "no volume plugin matched name: \(provisioner)")
            return
        }
        if claim.annotation(StorageAnnotations.storageProvisioner) == provisioner,
           claim.annotation(StorageAnnotations.betaStorageProvisioner) == provisioner {
            return
        }
        try await annotate(claim, [StorageAnnotations.storageProvisioner: provisioner, StorageAnnotations.betaStorageProvisioner: provisioner])
        await recorder.record(claim, type: "Normal", reason: "ExternalProvisioning",
                              message: "Waiting for a volume to be created either by the external provisioner '\(provisioner)' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
    }

    /// The pods that use `claim` and may still run, by name.
    func consumers(of claim: PersistentVolumeClaim) async -> [Pod] {
        await pods.byIndex(Self.claimIndex, ObjectKey(claim).description)
            .filter { $0.isActive }
            .sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
    }

    /// The node of the first scheduled pod that uses `claim`.
    func scheduledNode(of claim: PersistentVolumeClaim) async -> String? {
        await consumers(of: claim).compactMap { $0.spec?.nodeName }.first { !$0.isEmpty }
    }

    /// `emitEventForUnboundDelayBindingClaim`: what the claim waits for.
    func recordWaitingForConsumer(_ claim: PersistentVolumeClaim) async {
        let waiting = await consumers(of: claim).filter { ($0.spec?.nodeName ?? "").isEmpty }.compactMap(\.metadata?.name)
        switch waiting.count {
        case 0:
            await recorder.record(claim, type: "Normal", reason: "WaitForFirstConsumer",
                                  message: "waiting for first consumer to be created before binding")
        case 1:
            await recorder.record(claim, type: "Normal", reason: "WaitForPodScheduled", message: "waiting for pod \(waiting[0]) to be scheduled")
        default:
            await recorder.record(claim, type: "Normal", reason: "WaitForPodScheduled",
                                  message: "waiting for pods \(waiting.joined(separator: ",")) to be scheduled")
        }
    }
}
