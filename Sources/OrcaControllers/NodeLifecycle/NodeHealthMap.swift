import Foundation
import OrcaClient

/// What the node lifecycle controller last observed of each node, with the time *it* observed
/// it (Kubernetes' `nodeHealthMap`): a node's heartbeat is a change of its Ready condition's
/// `lastHeartbeatTime` or of its Lease's `renewTime`, stamped with the controller's clock, so
/// clocks of nodes that disagree with the control plane's do not matter. Also the zones'
/// readiness and the nodes whose pods still have to be marked not ready.
actor NodeHealthMap {
    /// The last observation of one node (`nodeHealthData`).
    struct Entry: Sendable, Equatable {
        /// When a heartbeat of the node was last seen.
        var probeTimestamp: Date
        /// When its Ready condition was last seen to transition.
        var readyTransitionTimestamp: Date
        /// The Ready condition as last seen (nil: the node never posted one).
        var readyCondition: NodeCondition?
        /// The Lease renew time as last seen.
        var leaseRenewTime: Date?
    }

    private var entries: [String: Entry] = [:]
    /// Nodes whose pods could not all be marked not ready (`nodesToRetry`).
    private var podsNotMarked: Set<String> = []
    private var zones: ZoneDisruption

    init(unhealthyZoneThreshold: Double, largeClusterThreshold: Int) {
        zones = ZoneDisruption(unhealthyZoneThreshold: unhealthyZoneThreshold, largeClusterThreshold: largeClusterThreshold)
    }

    /// The last observation of `name`.
    func entry(_ name: String) -> Entry? { entries[name] }

    /// Takes in the node as the cache has it now and its lease's renew time (the bookkeeping
    /// half of `tryUpdateNodeHealth`); returns the updated entry and whether the node is new
    /// to the controller.
    func observe(_ node: Node, leaseRenewTime: Date?, now: Date) -> (entry: Entry, isNew: Bool) {
        let name = node.metadata?.name ?? ""
        let current = node.readyCondition
        let previous = entries[name]
        var entry: Entry
        switch (previous, current) {
        case (nil, nil):
            // Never posted a status: its grace period runs from its creation.
            let created = KubernetesTime.date(node.metadata?.creationTimestamp) ?? now
            entry = Entry(probeTimestamp: created, readyTransitionTimestamp: created)
        case (nil, let current?):
            entry = Entry(probeTimestamp: now, readyTransitionTimestamp: now, readyCondition: current)
        case (var known?, nil):
            known.readyCondition = nil
            entry = known
        case (let known?, let current?):
            entry = known
            if known.readyCondition == nil {
                // First status after registration, or the controller restarted meanwhile.
                entry = Entry(probeTimestamp: now, readyTransitionTimestamp: now, readyCondition: current,
                              leaseRenewTime: known.leaseRenewTime)
            } else if known.readyCondition?.lastHeartbeatTime != current.lastHeartbeatTime {
                let transitioned = known.readyCondition?.lastTransitionTime != current.lastTransitionTime
                entry = Entry(probeTimestamp: now, readyTransitionTimestamp: transitioned ? now : known.readyTransitionTimestamp,
                              readyCondition: current, leaseRenewTime: known.leaseRenewTime)
            }
        }
        // A renewed lease is a heartbeat too.
        if let renewed = leaseRenewTime, entry.leaseRenewTime.map({ $0 < renewed }) ?? true {
            entry.leaseRenewTime = renewed
            entry.probeTimestamp = now
        }
        entries[name] = entry
        return (entry, previous == nil)
    }

    /// Records the Ready condition the controller itself wrote (Unknown after the grace period).
    func recordStatusUpdate(_ name: String, readyCondition: NodeCondition?, now: Date) {
        guard var entry = entries[name] else { return }
        entry.readyCondition = readyCondition
        entry.readyTransitionTimestamp = now
        entries[name] = entry
    }

    /// Forgets a deleted node; returns whether it was known.
    func forget(_ name: String) -> Bool {
        podsNotMarked.remove(name)
        return entries.removeValue(forKey: name) != nil
    }

    // MARK: pods to mark not ready

    /// Whether an earlier attempt to mark the node's pods not ready failed.
    func podsNeedMarking(_ name: String) -> Bool { podsNotMarked.contains(name) }

    /// Remembers that the node's pods still have to be marked not ready, or that they are.
    func setPodsNeedMarking(_ name: String, _ needed: Bool) {
        if needed { podsNotMarked.insert(name) } else { podsNotMarked.remove(name) }
    }

    // MARK: zones

    /// Takes in the readiness of `node` (from the cache, or as the controller just wrote it);
    /// returns whether the zones' disruption states changed, in which case every node needs
    /// a look. Leaving master disruption mode restarts every node's grace period, as nodes
    /// that could not reach the control plane get the time to report again.
    func updateZones(_ node: Node, now: Date) -> Bool {
        let wasAllDisrupted = zones.allFullyDisrupted
        guard zones.update(node) else { return false }
        if wasAllDisrupted, !zones.allFullyDisrupted { restartGracePeriods(now: now) }
        return true
    }

    /// Takes a deleted node out of the zones; returns whether their states changed.
    func removeFromZones(_ name: String, now: Date) -> Bool {
        let wasAllDisrupted = zones.allFullyDisrupted
        guard zones.remove(name) else { return false }
        if wasAllDisrupted, !zones.allFullyDisrupted { restartGracePeriods(now: now) }
        return true
    }

    /// Whether NoExecute taints must come off every node (all zones fully disrupted).
    var inMasterDisruptionMode: Bool { zones.allFullyDisrupted }

    /// Whether `node` may get a new NoExecute taint now.
    func allowsNewNoExecuteTaint(_ node: Node) -> Bool { zones.allowsNewNoExecuteTaint(node) }

    private func restartGracePeriods(now: Date) {
        for name in entries.keys {
            entries[name]?.probeTimestamp = now
            entries[name]?.readyTransitionTimestamp = now
        }
    }
}
