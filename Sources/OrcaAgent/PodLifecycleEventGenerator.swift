import Foundation
import OrcaRuntime

/// The kubelet's PLEG: relists the runtime's containers (a cheap read of records, exit files and
/// process liveness; no `runc` process) and reports the pods whose containers changed state since
/// the last relist, so that only those pods are synced at once; steady pods are synced on a
/// slower resync.
actor PodLifecycleEventGenerator {
    let runtime: any ContainerRuntime
    /// Container ID → (pod UID, status) at the last relist.
    private var last: [String: (pod: String, status: ContainerStatus)] = [:]

    init(runtime: any ContainerRuntime) { self.runtime = runtime }

    /// The UIDs of pods with a container that appeared, disappeared or changed state.
    func relist() async -> Set<String> {
        guard let containers = try? await runtime.list() else { return [] }
        var now: [String: (pod: String, status: ContainerStatus)] = [:]
        var changed = Set<String>()
        for info in containers {
            guard let pod = info.config.annotations["io.kubernetes.pod.uid"] else { continue }
            now[info.config.id] = (pod, info.status)
            if last[info.config.id]?.status != info.status { changed.insert(pod) }
        }
        for (id, gone) in last where now[id] == nil { changed.insert(gone.pod) }
        last = now
        return changed
    }
}

extension PodRuntimeState {
    /// Whether nothing is pending for the pod: it has a sandbox, and every container has an
    /// instance and nothing it waits for (no back-off, pull or config error). Such a pod is
    /// synced when its spec, a container or a probe changes, and on the slow resync; others
    /// every second.
    var isSteady: Bool {
        sandbox != nil && !containers.isEmpty && containers.values.allSatisfy { $0.id != nil && $0.waiting == nil }
    }
}
