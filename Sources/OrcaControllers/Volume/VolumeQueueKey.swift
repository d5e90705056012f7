import OrcaClient

/// A key of the volume controllers' work queues, which hold both kinds they reconcile (the
/// claim and volume queues of kube's persistent-volume controller in one):
/// `claim:<namespace>/<name>` or `volume:<name>`.
enum VolumeQueueKey: Hashable, CustomStringConvertible {
    case claim(String)
    case volume(String)

    init?(parsing text: String) {
        if text.hasPrefix("claim:") {
            self = .claim(String(text.dropFirst(6)))
        } else if text.hasPrefix("volume:") {
            self = .volume(String(text.dropFirst(7)))
        } else {
            return nil
        }
    }

    /// The key of a claim's cache entry.
    static func of(_ claim: PersistentVolumeClaim) -> VolumeQueueKey { .claim(ObjectKey(claim).description) }

    /// The key of a volume's cache entry.
    static func of(_ volume: PersistentVolume) -> VolumeQueueKey { .volume(volume.metadata?.name ?? "") }

    var description: String {
        switch self {
        case .claim(let key): return "claim:\(key)"
        case .volume(let name): return "volume:\(name)"
        }
    }
}
