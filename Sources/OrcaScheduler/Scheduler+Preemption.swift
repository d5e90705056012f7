import OrcaClient

extension Scheduler {
    /// Carries out a preemption (kube-scheduler's `prepareCandidate`): each victim gets the
    /// `DisruptionTarget` condition (reason `PreemptionByScheduler`) and a `Preempted` event,
    /// and is deleted with its grace period; the preemptor is nominated to the node
    /// (`status.nominatedNodeName`) and tried again when a victim is gone. The nomination is
    /// recorded, not reserved: other pods' filters do not count it yet.
    func preempt(_ pod: Pod, _ candidate: DefaultPreemption.Candidate) async throws {
        let uid = pod.metadata?.uid ?? ""
        for victim in candidate.victims.map(\.pod) {
            let namespace = victim.metadata?.namespace, name = victim.metadata?.name ?? ""
            var conditions = (victim.status?.conditions ?? []).filter { $0.type != "DisruptionTarget" }
            conditions.append(PodCondition(lastTransitionTime: KubernetesTime.string(clock.now),
                                           message: "\(Scheduler.name): preempting to accommodate a higher priority pod",
                                           reason: "PreemptionByScheduler", status: "True", type: "DisruptionTarget"))
            do {
                try await client.mergePatch(Pod.self, namespace: namespace, name: name,
                                            patch: ["status": ["conditions": JSONValue(encoding: conditions)]], subresource: "status")
                var options = DeletionOptions()
                options.preconditionUID = victim.metadata?.uid
                try await client.delete(Pod.self, namespace: namespace, name: name, options: options, ignoreNotFound: true)
            } catch let e as APIError where e.isNotFound || e.isConflict {
                continue
            }
            await recorder.record(victim, type: "Normal", reason: "Preempted", message: "Preempted by pod \(uid) on node \(candidate.node)")
        }
        try await client.mergePatch(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "",
                                    patch: ["status": ["nominatedNodeName": .string(candidate.node)]], subresource: "status")
    }
}
