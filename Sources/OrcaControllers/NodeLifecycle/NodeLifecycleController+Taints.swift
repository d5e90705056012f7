import Foundation
import OrcaClient

extension NodeLifecycleController {
    /// Which condition status becomes which `NoSchedule` taint (`nodeConditionToTaintKeyStatusMap`).
    static let conditionTaints: [String: [String: String]] = [
        "Ready": ["False": WellKnownTaints.notReady, "Unknown": WellKnownTaints.unreachable],
        "MemoryPressure": ["True": WellKnownTaints.memoryPressure],
        "DiskPressure": ["True": WellKnownTaints.diskPressure],
        "NetworkUnavailable": ["True": WellKnownTaints.networkUnavailable],
        "PIDPressure": ["True": WellKnownTaints.pidPressure],
    ]

    /// The `NoSchedule` taint keys this controller owns.
    static let managedNoScheduleKeys: Set<String> = [
        WellKnownTaints.notReady, WellKnownTaints.unreachable, WellKnownTaints.memoryPressure, WellKnownTaints.diskPressure,
        WellKnownTaints.networkUnavailable, WellKnownTaints.pidPressure, WellKnownTaints.unschedulable,
    ]

    /// Brings the node's controller-owned taints in line with its conditions, in one update:
    /// the `NoSchedule` taints of `doNoScheduleTaintingPass` and the `NoExecute` taint of
    /// `processTaintBaseEviction` (swapped at once between not-ready and unreachable, added
    /// only when the zones allow it, removed when the node is Ready or no node is).
    func reconcileTaints(_ node: Node, now: Date) async throws {
        let existing = node.spec?.taints ?? []
        var taints = Self.noScheduleTaints(existing, for: node, now: now)
        let mustClear = await health.inMasterDisruptionMode
        let mayAdd = await health.allowsNewNoExecuteTaint(node)
        taints = Self.noExecuteTaints(taints, ready: node.readyCondition?.status, mustClear: mustClear, mayAdd: mayAdd, now: now)
        guard taints != existing else { return }
        var updated = node
        var spec = updated.spec ?? NodeSpec()
        spec.taints = taints.isEmpty ? nil : taints
        updated.spec = spec
        logger.info("node \(node.metadata?.name ?? ""): taints \(Self.describe(existing)) -> \(Self.describe(taints))")
        try await client.update(updated)
    }

    /// `taints` with the condition taints of `node` added (stamped `now`) and those it no
    /// longer has removed.
    static func noScheduleTaints(_ taints: [Taint], for node: Node, now: Date) -> [Taint] {
        var wanted: [Taint] = []
        for condition in node.status?.conditions ?? [] {
            if let key = conditionTaints[condition.type ?? ""]?[condition.status ?? ""] {
                wanted.append(Taint(effect: WellKnownTaints.noSchedule, key: key))
            }
        }
        if node.spec?.unschedulable == true {
            wanted.append(Taint(effect: WellKnownTaints.noSchedule, key: WellKnownTaints.unschedulable))
        }
        var result = taints.filter { taint in
            guard taint.effect == WellKnownTaints.noSchedule, managedNoScheduleKeys.contains(taint.key ?? "") else { return true }
            return wanted.contains { $0.sameEntry(as: taint) }
        }
        for var taint in wanted where !result.contains(where: { $0.sameEntry(as: taint) }) {
            taint.timeAdded = KubernetesTime.string(now)
            result.append(taint)
        }
        return result
    }

    /// `taints` with the `NoExecute` taint the Ready status calls for: `not-ready` for False,
    /// `unreachable` for Unknown, neither for True. One replaces the other at once; a node
    /// with neither gets one only when `mayAdd`; with `mustClear` both go. Without a Ready
    /// condition nothing changes.
    static func noExecuteTaints(_ taints: [Taint], ready: String?, mustClear: Bool, mayAdd: Bool, now: Date) -> [Taint] {
        let notReady = Taint(effect: WellKnownTaints.noExecute, key: WellKnownTaints.notReady)
        let unreachable = Taint(effect: WellKnownTaints.noExecute, key: WellKnownTaints.unreachable)
        func has(_ t: Taint) -> Bool { taints.contains { $0.sameEntry(as: t) } }
        func without(_ ts: [Taint]) -> [Taint] { taints.filter { t in !ts.contains { $0.sameEntry(as: t) } } }
        let wanted: Taint, opposite: Taint
        switch ready {
        case "True":
            return without([notReady, unreachable])
        case "False":
            (wanted, opposite) = (notReady, unreachable)
        case "Unknown":
            (wanted, opposite) = (unreachable, notReady)
        default:
            return taints
        }
        if mustClear { return without([notReady, unreachable]) }
        if has(wanted) { return without([opposite]) }
        guard has(opposite) || mayAdd else { return taints }
        var added = wanted
        added.timeAdded = KubernetesTime.string(now)
        return without([opposite]) + [added]
    }

    static func describe(_ taints: [Taint]) -> String {
        "[" + taints.map { "\($0.key ?? ""):\($0.effect ?? "")" }.joined(separator: ", ") + "]"
    }
}
