import Foundation
import OrcaClient

/// The RollingUpdate strategy (`update.go`): without surge, old pods are deleted while no
/// more than maxUnavailable daemon pods are unavailable, and the manage loop creates their
/// replacements; with surge, a new pod is started beside an available old one (up to
/// maxSurge at a time) and the old one deleted once the new one is available.
extension DaemonSetController {
    /// maxSurge as a count of `desired` (int or percent rounded up; 0 unless RollingUpdate) (`SurgeCount`).
    func surgeCount(_ ds: DaemonSet, desired: Int) -> Int {
        guard ds.spec?.updateStrategy?.type ?? "RollingUpdate" == "RollingUpdate",
              let surge = ds.spec?.updateStrategy?.rollingUpdate?.maxSurge else { return 0 }
        return max(surge.scaledValue(total: desired, roundUp: true) ?? 0, 0)
    }

    /// maxUnavailable as a count of `desired` (int or percent rounded up, default 1) (`UnavailableCount`).
    func unavailableCount(_ ds: DaemonSet, desired: Int) -> Int {
        guard ds.spec?.updateStrategy?.type ?? "RollingUpdate" == "RollingUpdate" else { return 0 }
        let value = ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? .int(1)
        return max(value.scaledValue(total: desired, roundUp: true) ?? 1, 0)
    }

    /// The non-deleted new and old pod on a node, or nil when there is more than one of
    /// either (the manage loop prunes those first) (`findUpdatedPodsOnNode`).
    func updatedPodsOnNode(_ ds: DaemonSet, _ pods: [Pod], hash: String) -> (new: Pod?, old: Pod?)? {
        let generation = DaemonPodTemplate.templateGeneration(ds)
        var new: Pod?, old: Pod?
        for pod in pods where pod.metadata?.deletionTimestamp == nil {
            if DaemonPodTemplate.isUpdated(pod, hash: hash, generation: generation) {
                if new != nil { return nil }
                new = pod
            } else {
                if old != nil { return nil }
                old = pod
            }
        }
        return (new, old)
    }

    /// One step of the rolling update (`rollingUpdate`).
    func rollingUpdate(_ ds: DaemonSet, nodes: [Node], byNode: [String: [Pod]], hash: String, key: String) async throws {
        var podsByNode = byNode
        var desired = 0
        var eligible: [String: Bool] = [:]
        for node in nodes {
            let name = node.metadata?.name ?? ""
            let shouldRun = DaemonPodTemplate.shouldRun(ds, on: node).shouldRun
            eligible[name] = shouldRun
            guard shouldRun else { continue }
            desired += 1
            if podsByNode[name] == nil { podsByNode[name] = [] }
        }
        let maxSurge = surgeCount(ds, desired: desired)
        var maxUnavailable = unavailableCount(ds, desired: desired)
        if desired > 0, maxSurge == 0, maxUnavailable == 0 { maxUnavailable = 1 }
        let minReady = ds.spec?.minReadySeconds ?? 0
        let now = clock.now
        func available(_ pod: Pod) -> Bool { pod.isAvailable(minReadySeconds: minReady, now: now) }

        if maxSurge == 0 {
            var unavailable = 0
            var replacements: [Pod] = []
            var candidates: [Pod] = []
            for (_, pods) in podsByNode.sorted(by: { $0.key < $1.key }) {
                guard let (new, old) = updatedPodsOnNode(ds, pods, hash: hash) else { unavailable += 1; continue }
                switch (new, old) {
                case (nil, nil), (.some, .some):
                    unavailable += 1
                case (.some(let new), nil):
                    if !available(new) { unavailable += 1 }
                case (nil, .some(let old)):
                    if !available(old) {
                        replacements.append(old)
                        unavailable += 1
                    } else if unavailable < maxUnavailable {
                        candidates.append(old)
                    }
                }
            }
            let room = min(max(maxUnavailable - unavailable, 0), candidates.count)
            try await syncNodes(ds, delete: replacements + candidates.prefix(room), create: [], hash: hash, key: key)
            return
        }

        var oldPodsToDelete: [Pod] = []
        var ineligibleOldPods: [Pod] = []
        var candidateNodes: [String] = []
        var allowedNodes: [String] = []
        var surging = 0
        var numberAvailable = 0
        for (nodeName, pods) in podsByNode.sorted(by: { $0.key < $1.key }) {
            guard let (new, old) = updatedPodsOnNode(ds, pods, hash: hash) else { surging += 1; continue }
            if let old { if available(old) { numberAvailable += 1 } } else if let new, available(new) { numberAvailable += 1 }
            switch (new, old) {
            case (_, nil):
                break // the manage loop handles this node
            case (nil, .some(let old)):
                if !available(old) {
                    if eligible[nodeName] != true { oldPodsToDelete.append(old); continue }
                    allowedNodes.append(nodeName)
                } else {
                    if eligible[nodeName] != true { ineligibleOldPods.append(old); continue }
                    if surging >= maxSurge { continue }
                    candidateNodes.append(nodeName)
                }
            case (.some(let new), .some(let old)):
                if !available(new) { surging += 1; continue }
                oldPodsToDelete.append(old)
            }
        }
        // With surge the owner expects full availability: pods on nodes that left the
        // scheduling constraints go only while more pods are available than desired.
        let deletable = min(max(numberAvailable - desired, 0), ineligibleOldPods.count)
        oldPodsToDelete += ineligibleOldPods.prefix(deletable)
        let room = min(max(maxSurge - surging, 0), candidateNodes.count)
        try await syncNodes(ds, delete: oldPodsToDelete, create: allowedNodes + candidateNodes.prefix(room), hash: hash, key: key)
    }
}
