import Foundation
import OrcaClient

extension ReplicaSetController {
    /// Creates or deletes pods so `owned` comes to `spec.replicas`.
    func manageReplicas(_ owned: [Pod], _ rs: Owner, key: String) async throws {
        let want = Int(rs.replicaSetSpec.replicas ?? 1)
        let diff = owned.count - want
        if diff < 0 {
            let count = min(-diff, Self.burstReplicas)
            expectations.expect(key, adds: count)
            let namespace = rs.metadata?.namespace ?? "default"
            let template = rs.replicaSetSpec.template ?? PodTemplateSpec()
            let ref = OwnerReference.controller(rs)
            let name = rs.metadata?.name ?? ""
            let (attempted, error) = await SlowStart.run(count) { _ in
                let pod = template.pod(namespace: namespace, generateName: "\(name)-", owner: ref)
                do {
                    let made = try await client.create(pod)
                    await recorder.record(rs, type: "Normal", reason: "SuccessfulCreate", message: "Created pod: \(made.metadata?.name ?? "")")
                } catch let e as APIError where e.code == 403 && e.message.contains("being terminated") {
                    // The namespace is going away: nothing to create, nothing to report.
                    expectations.creationObserved(key)
                } catch {
                    expectations.creationObserved(key)
                    await recorder.record(rs, type: "Warning", reason: "FailedCreate", message: "Error creating: \(Self.message(error))")
                    throw error
                }
            }
            // Creates never attempted will never be observed.
            if attempted < count { expectations.lowerCreations(key, by: count - attempted) }
            if let error { throw error }
        } else if diff > 0 {
            let count = min(diff, Self.burstReplicas)
            let related = await relatedPods(rs)
            let victims = Array(ActivePodsRanking(pods: owned, related: related, now: clock.now).deletionOrder().prefix(count))
            expectations.expect(key, adds: 0, deletes: Set(victims.map { SharedInformer<Pod>.key($0) }))
            let errors = await withTaskGroup(of: (any Error)?.self) { group in
                for pod in victims {
                    group.addTask {
                        do {
                            try await client.delete(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "",
                                                    ignoreNotFound: false)
                            await recorder.record(rs, type: "Normal", reason: "SuccessfulDelete", message: "Deleted pod: \(pod.metadata?.name ?? "")")
                            return nil
                        } catch {
                            // Not deleted: never observed as deleted either.
                            expectations.deletionObserved(key, podKey: SharedInformer<Pod>.key(pod))
                            if let e = error as? APIError, e.isNotFound { return nil }
                            await recorder.record(rs, type: "Warning", reason: "FailedDelete", message: "Error deleting: \(Self.message(error))")
                            return error
                        }
                    }
                }
                var errors: [any Error] = []
                for await e in group { if let e { errors.append(e) } }
                return errors
            }
            if let first = errors.first { throw first }
        }
    }

    /// Every active pod controlled by a ReplicaSet with the same controller as `rs` (the
    /// ReplicaSets of one Deployment), for ranking by how crowded their nodes are.
    func relatedPods(_ rs: Owner) async -> [Pod] {
        guard let owner = rs.metadata?.controllerRef?.uid else {
            return await pods.byIndex(Indexers.controllerUID, rs.metadata?.uid ?? "").filter(\.isActive)
        }
        var related: [Pod] = []
        for sibling in await replicaSets.byIndex(Indexers.controllerUID, owner) {
            related += await pods.byIndex(Indexers.controllerUID, sibling.metadata?.uid ?? "").filter(\.isActive)
        }
        return related
    }

    static func message(_ error: any Error) -> String {
        (error as? APIError)?.message ?? String(describing: error)
    }
}

/// Runs `count` calls in batches of 1, 2, 4, … (Kubernetes' `slowStartBatch`): a batch
/// runs concurrently, and the first batch with a failure ends the run, so a template that
/// cannot make pods costs one call, not hundreds.
enum SlowStart {
    /// Returns how many calls were made and the first error.
    static func run(_ count: Int, initialBatch: Int = 1,
                    _ body: @escaping @Sendable (Int) async throws -> Void) async -> (attempted: Int, error: (any Error)?) {
        var remaining = count
        var batch = min(remaining, initialBatch)
        var index = 0
        while batch > 0 {
            let start = index
            let size = batch
            let errors = await withTaskGroup(of: (any Error)?.self) { group in
                for i in start..<(start + size) {
                    group.addTask {
                        do { try await body(i); return nil } catch { return error }
                    }
                }
                var errors: [any Error] = []
                for await e in group { if let e { errors.append(e) } }
                return errors
            }
            index += size
            if let first = errors.first { return (index, first) }
            remaining -= size
            batch = min(remaining, 2 * size)
        }
        return (index, nil)
    }
}
