import Foundation
import OrcaClient

extension NodeLifecycleController {
    /// The conditions that become `Unknown` when a node stops posting its status
    /// (NetworkUnavailable is left alone: the network plugin owns it).
    static let monitoredConditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]

    /// Looks at one node (`monitorNodeHealth` for it): takes in its heartbeats, marks it
    /// `Unknown` after its grace period, keeps its taints, marks its pods not ready when it
    /// stopped being Ready; asks to look again when its grace period would run out.
    func syncNode(_ node: Node) async throws -> ReconcileResult {
        let name = node.metadata?.name ?? ""
        let now = clock.now
        let lease = await leases.get(namespace: Self.leaseNamespace, name: name)
        let (entry, isNew) = await health.observe(node, leaseRenewTime: KubernetesTime.date(lease?.spec?.renewTime), now: now)
        if isNew {
            await recordNodeEvent(node, reason: "RegisteredNode", "Registered Node \(name) in Controller")
        }
        let observedReady = node.readyCondition
        let gracePeriod = observedReady == nil ? configuration.nodeStartupGracePeriod : configuration.nodeMonitorGracePeriod
        let deadline = entry.probeTimestamp.addingTimeInterval(gracePeriod.timeInterval)

        var current = node
        if now >= deadline {
            var updated = node
            Self.markStatusUnknown(&updated, now: now)
            if updated.readyCondition != observedReady {
                logger.info("node \(name) posted no status for \(now.timeIntervalSince(entry.probeTimestamp)) s: marking it Unknown")
                current = try await client.update(updated, subresource: "status")
                await health.recordStatusUpdate(name, readyCondition: current.readyCondition, now: now)
                if await health.updateZones(current, now: now) { await enqueueAllNodes() }
            }
        }

        try await reconcileTaints(current, now: now)
        try await markPodsNotReadyIfNeeded(current, observedReady: observedReady, now: now)

        // Look again when the grace period runs out; while not Ready, every monitor period too.
        if now >= deadline { return .requeue(after: configuration.nodeMonitorPeriod) }
        let remaining = Duration.seconds(deadline.timeIntervalSince(now))
        return .requeue(after: current.isReady ? remaining : min(remaining, configuration.nodeMonitorPeriod))
    }

    /// Sets the monitored conditions to `Unknown`: those the node posted with reason
    /// `NodeStatusUnknown`, those it never posted with `NodeStatusNeverUpdated`.
    static func markStatusUnknown(_ node: inout Node, now: Date) {
        let stamp = KubernetesTime.string(now)
        var status = node.status ?? NodeStatus()
        var conditions = status.conditions ?? []
        for type in monitoredConditions {
            if let i = conditions.firstIndex(where: { $0.type == type }) {
                guard conditions[i].status != "Unknown" else { continue }
                conditions[i].status = "Unknown"
                conditions[i].reason = "NodeStatusUnknown"
                conditions[i].message = "Kubelet stopped posting node status."
                conditions[i].lastTransitionTime = stamp
            } else {
                conditions.append(NodeCondition(lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: stamp,
                                                message: "Kubelet never posted node status.", reason: "NodeStatusNeverUpdated",
                                                status: "Unknown", type: type))
            }
        }
        status.conditions = conditions
        node.status = status
    }
}
