import Foundation
import OrcaAPI

/// `scheduling.k8s.io/v1` PriorityClasses (Kubernetes' `scheduling/validation` and the v1
/// defaults): `preemptionPolicy` defaults to `PreemptLowerPriority`; a user class's value is at
/// most one billion; names starting `system-` belong to the built-in classes, with their exact
/// value; `value` and `preemptionPolicy` never change. That only one class is the global
/// default needs the other classes: `PriorityAdmission` checks it.
struct PriorityClassStrategy: ResourceStrategy {
    /// `scheduling.HighestUserDefinablePriority`.
    static let highestUserDefinablePriority: Int64 = 1_000_000_000
    /// `scheduling.SystemCriticalPriority`: the value of `system-cluster-critical`.
    static let systemCriticalPriority: Int64 = 2 * highestUserDefinablePriority
    /// `scheduling.SystemPriorityClassPrefix`.
    static let systemPrefix = "system-"
    static let preemptionPolicies = ["PreemptLowerPriority", "Never"]

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    /// `SetDefaults_PriorityClass`.
    static func defaults(_ o: inout JSONValue) {
        WorkloadDefaults.setIfMissing(&o, ["preemptionPolicy"], "PreemptLowerPriority")
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        let name = object.metadataName ?? ""
        let value = object["value"]?.intValue ?? 0
        if name.hasPrefix(Self.systemPrefix) {
            if let problem = Self.systemClassProblem(name: name, value: value, globalDefault: object["globalDefault"]?.boolValue ?? false) {
                causes.append(.forbidden("metadata.name", "priority class names with '\(Self.systemPrefix)' prefix are reserved for system use only. error: \(problem)"))
            }
        } else if value > Self.highestUserDefinablePriority {
            causes.append(.forbidden("value", "maximum allowed value of a user defined priority is \(Self.highestUserDefinablePriority)"))
        }
        if let policy = object["preemptionPolicy"], !policy.isNull {
            let text = policy.stringValue ?? ""
            if text.isEmpty {
                causes.append(.required("preemptionPolicy"))
            } else if !Self.preemptionPolicies.contains(text) {
                causes.append(.notSupported("preemptionPolicy", text, Self.preemptionPolicies))
            }
        }
        if let old {
            // `ValidatePriorityClassUpdate`.
            if (old["value"]?.intValue ?? 0) != value {
                causes.append(.forbidden("value", "may not be changed in an update."))
            }
            let before = old["preemptionPolicy"]?.stringValue, after = object["preemptionPolicy"]?.stringValue
            if before != after {
                causes.append(.invalid("preemptionPolicy", after ?? "null", "field is immutable"))
            }
        }
        return causes
    }

    /// `IsKnownSystemPriorityClass`: why a `system-` class is not one of the built-in ones
    /// (nil when it is, with their value and `globalDefault`).
    static func systemClassProblem(name: String, value: Int64, globalDefault: Bool) -> String? {
        guard let known = PriorityClassBootstrap.systemClasses.first(where: { $0.name == name }) else {
            return "\(name) is not a known system priority class"
        }
        if known.value != value { return "value of \(name) PriorityClass must be \(known.value)" }
        if globalDefault { return "globalDefault of \(name) PriorityClass must be false" }
        return nil
    }
}
