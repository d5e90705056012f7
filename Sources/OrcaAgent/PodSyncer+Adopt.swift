import Foundation
import OrcaClient
import OrcaRuntime

extension PodSyncer {
    /// Writes the pod's state file when its persisted part changed (and the pod directory exists).
    func persist(_ uid: String, _ state: inout PodRuntimeState) {
        let dir = paths.podDirectory(uid)
        guard !uid.isEmpty, FileManager.default.fileExists(atPath: dir),
              let data = try? PodStateFile(state).encoded(), data != state.persisted else { return }
        do {
            try PrivateFiles.write(data, to: "\(dir)/\(PodStateFile.fileName)")
            state.persisted = data
        } catch {
            logger.warning("writing the state of pod \(uid): \(error)")
        }
    }

    /// After an agent restart: the runtime state of every pod this node was running, from the
    /// pods' state files and the runtime's containers (their pod UID, container name, instance
    /// number and restart count are in their annotations). Running containers are adopted, not
    /// restarted; exited ones are left for the next sync to judge (and restart by policy).
    func adopt() async -> [String: PodRuntimeState] {
        var states: [String: PodRuntimeState] = [:]
        for uid in (try? FileManager.default.contentsOfDirectory(atPath: paths.podsRoot)) ?? [] {
            if let file = PodStateFile.load(podDirectory: paths.podDirectory(uid)) { states[uid] = file.state }
        }
        let containers = (try? await runtime.list()) ?? []
        // The newest instance of each container; older leftovers go.
        var newest: [String: [String: ContainerInfo]] = [:]
        for info in containers {
            let a = info.config.annotations
            guard let uid = a["io.kubernetes.pod.uid"], let name = a["io.kubernetes.container.name"],
                  let attempt = Int(a["io.orca.attempt"] ?? "") else { continue }
            if let other = newest[uid]?[name] {
                let otherAttempt = Int(other.config.annotations["io.orca.attempt"] ?? "") ?? 0
                let stale = otherAttempt > attempt ? info : other
                try? await runtime.remove(stale.id)
                if otherAttempt > attempt { continue }
            }
            newest[uid, default: [:]][name] = info
        }
        for (uid, byName) in newest {
            var state = states[uid] ?? PodRuntimeState()
            for (name, info) in byName {
                let a = info.config.annotations
                if state.containers[name]?.id != info.id {
                    // No (current) record: rebuild one from what the runtime knows.
                    var rec = PodRuntimeState.Container()
                    rec.id = info.id
                    rec.attempt = Int(a["io.orca.attempt"] ?? "") ?? 0
                    rec.restartCount = Int(a["io.kubernetes.container.restartCount"] ?? "") ?? rec.attempt
                    state.containers[name] = rec
                }
                if case .running(_, let startedAt) = info.status, state.containers[name]?.startedAt == nil {
                    state.containers[name]?.startedAt = KubernetesTime.string(startedAt)
                }
            }
            states[uid] = state
        }
        for (uid, state) in states {
            let running = state.containers.values.filter { rec in
                containers.contains { $0.id == rec.id && { if case .running = $0.status { return true } else { return false } }($0) }
            }.count
            logger.info("adopted pod \(uid): \(state.containers.count) container(s), \(running) running")
        }
        return states
    }
}
