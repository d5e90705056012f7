import OrcaClient

extension Toleration {
    /// Whether this toleration tolerates `taint` (Kubernetes' `Toleration.ToleratesTaint`):
    /// an empty effect matches every effect, an empty key every key; operator `Exists`
    /// matches any value, `Equal` (the default) only the same value.
    public func tolerates(_ taint: Taint) -> Bool {
        let effect = self.effect ?? ""
        if !effect.isEmpty, effect != (taint.effect ?? "") { return false }
        let key = self.key ?? ""
        if !key.isEmpty, key != (taint.key ?? "") { return false }
        switch self.operator ?? "" {
        case "", "Equal": return (value ?? "") == (taint.value ?? "")
        case "Exists": return true
        default: return false
        }
    }

    /// Whether any of `tolerations` tolerates `taint` (`TolerationsTolerateTaint`).
    public static func any(_ tolerations: [Toleration], tolerate taint: Taint) -> Bool {
        tolerations.contains { $0.tolerates(taint) }
    }

    /// The first of `taints` picked by `filter` that no toleration tolerates
    /// (`v1helper.FindMatchingUntoleratedTaint`), or nil.
    public static func firstUntolerated(_ taints: [Taint], by tolerations: [Toleration],
                                        where filter: (Taint) -> Bool = { _ in true }) -> Taint? {
        taints.first { filter($0) && !any(tolerations, tolerate: $0) }
    }

    /// For every taint, the first toleration that tolerates it (`v1helper.GetMatchingTolerations`):
    /// nil when some taint is not tolerated; empty when there are no taints.
    public static func matching(_ taints: [Taint], by tolerations: [Toleration]) -> [Toleration]? {
        var used: [Toleration] = []
        for taint in taints {
            guard let toleration = tolerations.first(where: { $0.tolerates(taint) }) else { return nil }
            used.append(toleration)
        }
        return used
    }

    /// Whether two tolerations are the same entry: equal key, effect, operator and value
    /// (`Toleration.MatchToleration`; tolerationSeconds may differ).
    public func sameEntry(as other: Toleration) -> Bool {
        (key ?? "") == (other.key ?? "") && (effect ?? "") == (other.effect ?? "")
            && (self.operator ?? "") == (other.operator ?? "") && (value ?? "") == (other.value ?? "")
    }
}

extension Taint {
    /// Whether two taints are the same entry: equal key and effect (`Taint.MatchTaint`; the
    /// value and `timeAdded` may differ).
    public func sameEntry(as other: Taint) -> Bool {
        (key ?? "") == (other.key ?? "") && (effect ?? "") == (other.effect ?? "")
    }
}
