import OrcaClient
import OrcaControllers

/// The VolumeBinding filter, for the claims the pod uses that are already bound: a node is
/// out when a bound volume's node affinity excludes it. (PreFilter — missing, deleted or
/// unbound Immediate claims — and PreBind are `PodVolumeBinding`'s, run by the scheduler.)
struct VolumeBinding: FilterPlugin {
    static let name = "VolumeBinding"
    static let conflictReason = "node(s) had volume node affinity conflict"
    var name: String { Self.name }

    /// The volumes bound to the pod's claims.
    let boundVolumes: [PersistentVolume]

    init(boundVolumes: [PersistentVolume]) {
        self.boundVolumes = boundVolumes
    }

    func filter(_ node: NodeInfo) -> FilterStatus? {
        guard boundVolumes.contains(where: { !PersistentVolumeMatcher.nodeAffinityFits($0, node: node.node) }) else { return nil }
        return FilterStatus(.unschedulableAndUnresolvable, Self.conflictReason, plugin: name)
    }
}
