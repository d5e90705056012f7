import Foundation
import OrcaClient

extension PodSyncer {
    /// Stops every container (stop signal, then SIGKILL after the grace period), tears
    /// down network, volumes and pod directories, and — if the pod still exists in the
    /// API — finishes its deletion.
    func terminate(_ pod: JSONValue?, uid: String, state: PodRuntimeState) async {
        let grace = pod?[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue
            ?? pod?[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
        var ids = state.containers.values.compactMap(\.id)
        // Adopted or leftover containers of this pod, too.
        if let all = try? await runtime.list() {
            ids += all.filter { $0.config.annotations["io.kubernetes.pod.uid"] == uid }.map(\.id)
        }
        ids = Array(Set(ids))
        if let pod {
            for (name, rec) in state.containers where rec.id != nil && rec.terminated == nil {
                await events.record(pod, type: "Normal", reason: "Killing", message: "Stopping container \(name)", fieldPath: "spec.containers{\(name)}")
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    try? await runtime.stop(id, gracePeriod: .seconds(max(0, grace)))
                    try? await runtime.remove(id)
                }
            }
        }
        do { try await network.tearDown(podID: uid) } catch { logger.warning("network teardown of \(uid): \(error)") }
        let podDir = paths.podDirectory(uid)
        volumes.tearDown(podDir: podDir)
        try? FileManager.default.removeItem(atPath: podDir)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: paths.logRoot)) ?? [] where entry.hasSuffix("_\(uid)") {
            try? FileManager.default.removeItem(atPath: "\(paths.logRoot)/\(entry)")
        }
        if let pod {
            var options = DeletionOptions()
            options.gracePeriodSeconds = 0
            options.preconditionUID = uid
            try? await client.delete(client.resource("pods"), namespace: pod.metadataNamespace, name: pod.metadataName ?? "", options: options)
        }
    }
}
