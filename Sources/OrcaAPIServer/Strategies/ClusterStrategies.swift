import Foundation
import OrcaAPI

/// Nodes: `podCIDR`/`podCIDRs` kept in step, allocatable defaulting to capacity; valid pod
/// CIDRs that change only from unset, and well-formed, unique taints. Status stays as sent
/// on create (the node agent registers with it).
struct NodeStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    static func defaults(_ o: inout JSONValue) {
        let cidr = o[path: ["spec", "podCIDR"]]?.stringValue ?? ""
        let cidrs = o[path: ["spec", "podCIDRs"]]?.arrayValue ?? []
        if !cidr.isEmpty, cidrs.isEmpty { o[path: ["spec", "podCIDRs"]] = [.string(cidr)] }
        if cidr.isEmpty, let first = cidrs.first?.stringValue { o[path: ["spec", "podCIDR"]] = .string(first) }
        if let capacity = o[path: ["status", "capacity"]], capacity.objectValue != nil, o[path: ["status", "allocatable"]] == nil {
            o[path: ["status", "allocatable"]] = capacity
        }
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        let cidrs = object[path: ["spec", "podCIDRs"]]?.arrayValue ?? []
        for (i, c) in cidrs.enumerated() where !Self.isCIDR(c.stringValue ?? "") {
            causes.append(.invalid("spec.podCIDRs[\(i)]", c.stringValue ?? "", "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
        }
        if let old, let was = old[path: ["spec", "podCIDRs"]]?.arrayValue, !was.isEmpty, was != cidrs {
            causes.append(.forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid"))
        }
        var seen: [String: Set<String>] = [:]
        for (i, taint) in (object[path: ["spec", "taints"]]?.arrayValue ?? []).enumerated() {
            let key = taint["key"]?.stringValue ?? ""
            let effect = taint["effect"]?.stringValue ?? ""
            if key.isEmpty {
                causes.append(.invalid("spec.taints[\(i)].key", key, "name part must be non-empty"))
            } else {
                causes += WorkloadValidation.validateLabels(.object([key: .string(taint["value"]?.stringValue ?? "")]), path: "spec.taints[\(i)]")
            }
            if effect.isEmpty {
                causes.append(.required("spec.taints[\(i)].effect"))
            } else if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(effect) {
                causes.append(.notSupported("spec.taints[\(i)].effect", effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"]))
            }
            if seen[effect, default: []].contains(key) {
                let value = "core.Taint{Key:\(GoFormat.quote(key)), Value:\(GoFormat.quote(taint["value"]?.stringValue ?? "")), Effect:\(GoFormat.quote(effect)), TimeAdded:<nil>}"
                causes.append(StatusCause("FieldValueDuplicate", field: "spec.taints[\(i)]",
                                          "spec.taints[\(i)]: Duplicate value: \(value): taints must be unique by key and effect pair"))
            }
            seen[effect, default: []].insert(key)
        }
        return causes
    }

    static func isCIDR(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bytes = IPAddress.parse(String(parts[0])), let bits = Int(parts[1]) else { return false }
        return bits >= 0 && bits <= bytes.count * 8
    }
}

/// Leases: positive durations, non-negative transitions, a preferred holder only with a strategy.
struct LeaseStrategy: ResourceStrategy {
    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        let spec = object["spec"]
        var causes = WorkloadValidation.positive(spec?["leaseDurationSeconds"], "spec.leaseDurationSeconds")
        causes += WorkloadValidation.nonNegative(spec?["leaseTransitions"], "spec.leaseTransitions")
        if let holder = spec?["preferredHolder"], !holder.isNull, spec?["strategy"] == nil || spec?["strategy"]?.isNull == true {
            causes.append(.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"))
        }
        return causes
    }
}

/// PodDisruptionBudgets (policy/v1): status cleared on create; one of minAvailable and
/// maxUnavailable, each a count or a percentage.
struct PodDisruptionBudgetStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        object["status"] = WorkloadDefaults.emptyStatus(context.resource)
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        let spec = object["spec"]
        var causes: [StatusCause] = []
        let min = spec?["minAvailable"].flatMap { $0.isNull ? nil : $0 }
        let max = spec?["maxUnavailable"].flatMap { $0.isNull ? nil : $0 }
        if min != nil, max != nil {
            causes.append(.invalidValue("spec", rendered: (spec ?? .null).jsonString, "minAvailable and maxUnavailable cannot be both set"))
        }
        causes += WorkloadValidation.intOrPercent(min, "spec.minAvailable", atMost100Percent: true)
        causes += WorkloadValidation.intOrPercent(max, "spec.maxUnavailable", atMost100Percent: true)
        causes += WorkloadValidation.validateSelector(spec?["selector"], path: "spec.selector")
        causes += WorkloadValidation.oneOf(spec?["unhealthyPodEvictionPolicy"], "spec.unhealthyPodEvictionPolicy", ["AlwaysAllow", "IfHealthyBudget"])
        return causes
    }
}
