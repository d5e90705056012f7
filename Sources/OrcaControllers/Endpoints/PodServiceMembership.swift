import Foundation
import OrcaClient

/// Which Services a pod change concerns — shared by the EndpointSlice and Endpoints controllers.
extension SharedInformer where Object == Service {
    /// The keys of the Services in the pod's namespace whose selector picks it (`GetPodServiceMemberships`).
    func keys(selecting pod: Pod) -> Set<String> {
        let candidates = list(namespace: pod.metadata?.namespace ?? "default")
        return Set(candidates.filter { $0.selects(pod) }.map { Self.key($0) })
    }

    /// The Services to sync when a pod appeared, changed or went: those selecting it before or
    /// after; none when nothing its endpoints are made of changed (`GetServicesToUpdateOnPodChange`).
    func keysToSync(old: Pod?, new: Pod) -> [String] {
        if let old, old.endpointFingerprint == new.endpointFingerprint { return [] }
        var keys = keys(selecting: new)
        if let old { keys.formUnion(self.keys(selecting: old)) }
        return keys.sorted()
    }
}
