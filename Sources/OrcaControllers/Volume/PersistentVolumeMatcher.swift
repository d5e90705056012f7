import Foundation
import OrcaClient

/// Which PersistentVolume satisfies a claim (kube's `FindMatchingVolume`, the access-mode
/// ordered index of the persistent-volume controller and `checkVolumeSatisfyClaim`): a
/// volume pre-bound to the claim wins; otherwise the smallest Available, unclaimed volume of
/// the claim's class whose capacity, access modes, volume mode and labels (`selector`) fit.
public enum PersistentVolumeMatcher {
    /// `IsVolumeBoundToClaim`: `claimRef` names the claim (and its UID, once set).
    public static func isVolume(_ volume: PersistentVolume, boundTo claim: PersistentVolumeClaim) -> Bool {
        guard let ref = volume.spec?.claimRef else { return false }
        guard ref.name == claim.metadata?.name, (ref.namespace ?? "") == (claim.metadata?.namespace ?? "") else { return false }
        let uid = ref.uid ?? ""
        return uid.isEmpty || uid == claim.metadata?.uid
    }

    /// `CheckVolumeModeMismatches`: the modes differ (unset means Filesystem).
    public static func volumeModeMismatches(_ claim: PersistentVolumeClaim, _ volume: PersistentVolume) -> Bool {
        (claim.spec?.volumeMode ?? "Filesystem") != (volume.spec?.volumeMode ?? "Filesystem")
    }

    /// `CheckAccessModes`: every mode the claim asks for is one the volume offers.
    public static func accessModesFit(_ claim: PersistentVolumeClaim, _ volume: PersistentVolume) -> Bool {
        Set(claim.spec?.accessModes ?? []).isSubset(of: Set(volume.spec?.accessModes ?? []))
    }

    /// `CheckNodeAffinity`: a volume without required node affinity fits every node; else
    /// some term of it must match the node.
    public static func nodeAffinityFits(_ volume: PersistentVolume, node: Node) -> Bool {
        guard let required = volume.spec?.nodeAffinity?.required else { return true }
        return NodeAffinityMatcher.matches(required, node: node)
    }

    /// `checkVolumeSatisfyClaim`: why a volume the user named in `spec.volumeName` cannot
    /// serve the claim, or nil when it can.
    public static func unsatisfiedReason(volume: PersistentVolume, claim: PersistentVolumeClaim) -> String? {
        if volume.metadata?.deletionTimestamp != nil { return "the volume is marked for deletion \"\(volume.metadata?.name ?? "")\"" }
        if volume.capacityStorage.compare(to: claim.requestedStorage) < 0 { return "requested PV is too small" }
        if volume.storageClass != claim.storageClass { return "storageClassName does not match" }
        if volumeModeMismatches(claim, volume) { return "incompatible volumeMode" }
        if !accessModesFit(claim, volume) { return "incompatible accessMode" }
        return nil
    }

    /// The best volume for `claim` (`findBestMatchForClaim`): volumes are searched by their
    /// access-mode sets that contain the claim's, fewest modes first; within a set, a volume
    /// pre-bound to the claim, else the smallest that fits. With `node` (a node was chosen
    /// for the claim's pod) volumes must also fit that node. With `delayBinding` and no node,
    /// only a pre-bound volume is returned: the claim waits for its first consumer.
    public static func findBestMatch(for claim: PersistentVolumeClaim, in volumes: [PersistentVolume],
                                     node: Node? = nil, delayBinding: Bool = false) -> PersistentVolume? {
        let requested = Set(claim.spec?.accessModes ?? [])
        var groups: [Set<String>: [PersistentVolume]] = [:]
        for volume in volumes {
            let modes = Set(volume.spec?.accessModes ?? [])
            if requested.isSubset(of: modes) { groups[modes, default: []].append(volume) }
        }
        let order = groups.keys.sorted { (a: Set<String>, b: Set<String>) -> Bool in
            if a.count != b.count { return a.count < b.count }
            return a.sorted().joined(separator: ",") < b.sorted().joined(separator: ",")
        }
        for modes in order {
            if let best = findMatchingVolume(claim, groups[modes] ?? [], node: node, delayBinding: delayBinding) { return best }
        }
        return nil
    }

    /// `FindMatchingVolume` over one access-mode group.
    static func findMatchingVolume(_ claim: PersistentVolumeClaim, _ volumes: [PersistentVolume],
                                   node: Node?, delayBinding: Bool) -> PersistentVolume? {
        let requested = claim.requestedStorage
        let selector: LabelMatcher?
        if let s = claim.spec?.selector {
            // A selector that cannot be read matches nothing (Kubernetes fails the sync).
            guard let matcher = try? LabelMatcher(s) else { return nil }
            selector = matcher
        } else {
            selector = nil
        }
        var smallest: PersistentVolume?
        // By name, so equal candidates are chosen the same way every time.
        for volume in volumes.sorted(by: { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }) {
            if volume.spec?.claimRef != nil && !isVolume(volume, boundTo: claim) { continue }
            let capacity = volume.capacityStorage
            if capacity.compare(to: requested) < 0 { continue }
            if volumeModeMismatches(claim, volume) { continue }
            if volume.metadata?.deletionTimestamp != nil { continue }
            let fitsNode = node.map { nodeAffinityFits(volume, node: $0) } ?? true
            if isVolume(volume, boundTo: claim) {
                // A pre-bound volume that does not fit the node means no volume for this node.
                return fitsNode ? volume : nil
            }
            if node == nil && delayBinding { continue }
            guard volume.status?.phase == "Available", volume.spec?.claimRef == nil else { continue }
            if let selector, !selector.matches(volume.metadata?.labels ?? [:]) { continue }
            guard volume.storageClass == claim.storageClass, fitsNode else { continue }
            if node != nil, !accessModesFit(claim, volume) { continue }
            if smallest == nil || smallest!.capacityStorage.compare(to: capacity) > 0 { smallest = volume }
        }
        return smallest
    }
}
