import Foundation
import OrcaAPI

/// Deployments: `SetDefaults_Deployment` and `ValidateDeployment`.
struct DeploymentStrategy: WorkloadStrategy {
    func applyDefaults(_ object: inout JSONValue, context: StrategyContext) { WorkloadDefaults.deployment(&object) }

    func validateSpec(_ o: JSONValue) -> [StatusCause] {
        let spec = o["spec"]
        var causes = WorkloadValidation.nonNegative(spec?["replicas"], "spec.replicas")
        causes += WorkloadValidation.validateSelectorAndTemplate(spec, kind: "deployment")
        causes += WorkloadValidation.validateTemplate(spec?["template"], path: "spec.template", restartPolicies: ["Always"], kind: "ReplicaSet")
        causes += Self.validateStrategy(spec?["strategy"])
        causes += WorkloadValidation.nonNegative(spec?["minReadySeconds"], "spec.minReadySeconds")
        causes += WorkloadValidation.nonNegative(spec?["revisionHistoryLimit"], "spec.revisionHistoryLimit")
        if let deadline = spec?["progressDeadlineSeconds"]?.intValue {
            causes += WorkloadValidation.nonNegative(.int(deadline), "spec.progressDeadlineSeconds")
            if deadline <= (spec?["minReadySeconds"]?.intValue ?? 0) {
                causes.append(.invalid("spec.progressDeadlineSeconds", number: deadline, "must be greater than minReadySeconds"))
            }
        }
        return causes
    }

    func validateUpdate(_ object: JSONValue, old: JSONValue) -> [StatusCause] { immutableSelector(object, old) }

    static func validateStrategy(_ strategy: JSONValue?) -> [StatusCause] {
        let type = strategy?["type"]?.stringValue ?? ""
        let rolling = strategy?["rollingUpdate"].flatMap { $0.isNull ? nil : $0 }
        switch type {
        case "Recreate":
            return rolling == nil ? [] : [.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")]
        case "RollingUpdate":
            guard let rolling else { return [.required("spec.strategy.rollingUpdate", "Required value: this should be defaulted and never be nil")] }
            return validateRollingUpdate(rolling, path: "spec.strategy.rollingUpdate")
        default:
            return [.notSupported("spec.strategy.type", type, ["Recreate", "RollingUpdate"])]
        }
    }

    /// maxUnavailable/maxSurge: int or percent, not both zero, maxUnavailable at most 100%.
    static func validateRollingUpdate(_ rolling: JSONValue, path: String) -> [StatusCause] {
        var causes = WorkloadValidation.intOrPercent(rolling["maxUnavailable"], "\(path).maxUnavailable")
        causes += WorkloadValidation.intOrPercent(rolling["maxSurge"], "\(path).maxSurge")
        if WorkloadValidation.isZero(rolling["maxUnavailable"]) || rolling["maxUnavailable"] == nil,
           WorkloadValidation.isZero(rolling["maxSurge"]) || rolling["maxSurge"] == nil {
            causes.append(.invalidValue("\(path).maxUnavailable", rendered: GoFormat.intOrString(rolling["maxUnavailable"]), "may not be 0 when `maxSurge` is 0"))
        }
        if let s = rolling["maxUnavailable"]?.stringValue, let p = WorkloadValidation.percentValue(s), p > 100 {
            causes.append(.invalidValue("\(path).maxUnavailable", rendered: GoFormat.intOrString(rolling["maxUnavailable"]), "must not be greater than 100%"))
        }
        return causes
    }
}

/// ReplicaSets: replicas default to 1; `ValidateReplicaSet`.
struct ReplicaSetStrategy: WorkloadStrategy {
    func applyDefaults(_ object: inout JSONValue, context: StrategyContext) { WorkloadDefaults.replicaSet(&object) }

    func validateSpec(_ o: JSONValue) -> [StatusCause] {
        let spec = o["spec"]
        var causes = WorkloadValidation.nonNegative(spec?["replicas"], "spec.replicas")
        causes += WorkloadValidation.nonNegative(spec?["minReadySeconds"], "spec.minReadySeconds")
        // Kubernetes names deployments here too (the check is shared).
        causes += WorkloadValidation.validateSelectorAndTemplate(spec, kind: "deployment")
        causes += WorkloadValidation.validateTemplate(spec?["template"], path: "spec.template", restartPolicies: ["Always"], kind: "ReplicaSet")
        return causes
    }

    func validateUpdate(_ object: JSONValue, old: JSONValue) -> [StatusCause] { immutableSelector(object, old) }
}

/// StatefulSets: `SetDefaults_StatefulSet`, `ValidateStatefulSet` and its update rules.
struct StatefulSetStrategy: WorkloadStrategy {
    func applyDefaults(_ object: inout JSONValue, context: StrategyContext) { WorkloadDefaults.statefulSet(&object) }

    func validateSpec(_ o: JSONValue) -> [StatusCause] {
        let spec = o["spec"]
        var causes: [StatusCause] = []
        switch spec?["podManagementPolicy"]?.stringValue ?? "" {
        case "": causes.append(.required("spec.podManagementPolicy"))
        case "OrderedReady", "Parallel": break
        case let other: causes.append(.invalid("spec.podManagementPolicy", other, "must be 'OrderedReady' or 'Parallel'"))
        }
        let strategy = spec?["updateStrategy"]
        let rolling = strategy?["rollingUpdate"].flatMap { $0.isNull ? nil : $0 }
        switch strategy?["type"]?.stringValue ?? "" {
        case "": causes.append(.required("spec.updateStrategy"))
        case "OnDelete":
            if rolling != nil {
                causes.append(.invalidValue("spec.updateStrategy.rollingUpdate", rendered: rolling!.jsonString, "only allowed for updateStrategy 'RollingUpdate'"))
            }
        case "RollingUpdate":
            causes += WorkloadValidation.nonNegative(rolling?["partition"], "spec.updateStrategy.rollingUpdate.partition")
            causes += WorkloadValidation.intOrPercent(rolling?["maxUnavailable"], "spec.updateStrategy.rollingUpdate.maxUnavailable", atMost100Percent: true)
        case let other:
            causes.append(.invalid("spec.updateStrategy", other, "must be 'RollingUpdate' or 'OnDelete'"))
        }
        for key in ["whenDeleted", "whenScaled"] {
            causes += WorkloadValidation.oneOf(spec?[path: ["persistentVolumeClaimRetentionPolicy", key]],
                                              "spec.persistentVolumeClaimRetentionPolicy.\(key)", ["Retain", "Delete"])
        }
        causes += WorkloadValidation.nonNegative(spec?["replicas"], "spec.replicas")
        causes += WorkloadValidation.nonNegative(spec?["minReadySeconds"], "spec.minReadySeconds")
        causes += WorkloadValidation.nonNegative(spec?[path: ["ordinals", "start"]], "spec.ordinals.start")
        causes += WorkloadValidation.validateSelectorAndTemplate(spec, kind: "statefulset")
        causes += WorkloadValidation.validateTemplate(WorkloadValidation.withClaimVolumes(spec), path: "spec.template",
                                                      restartPolicies: ["Always"], kind: "StatefulSet")
        return causes
    }

    /// Only replicas, ordinals, template, updateStrategy, the PVC retention policy and
    /// minReadySeconds may change.
    func validateUpdate(_ object: JSONValue, old: JSONValue) -> [StatusCause] {
        func fixed(_ o: JSONValue) -> JSONValue {
            var spec = o["spec"] ?? [:]
            for k in ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"] { spec[k] = nil }
            return spec
        }
        if fixed(object) == fixed(old) { return [] }
        return [.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")]
    }
}

/// DaemonSets: `SetDefaults_DaemonSet` and `ValidateDaemonSet`.
struct DaemonSetStrategy: WorkloadStrategy {
    func applyDefaults(_ object: inout JSONValue, context: StrategyContext) { WorkloadDefaults.daemonSet(&object) }

    func validateSpec(_ o: JSONValue) -> [StatusCause] {
        let spec = o["spec"]
        var causes = WorkloadValidation.validateSelectorAndTemplate(spec, kind: "daemonset")
        causes += WorkloadValidation.validateTemplate(spec?["template"], path: "spec.template", restartPolicies: ["Always"])
        if let deadline = spec?[path: ["template", "spec", "activeDeadlineSeconds"]], !deadline.isNull {
            causes.append(.invalidValue("spec.template.spec.activeDeadlineSeconds", rendered: GoFormat.describe(deadline), "activeDeadlineSeconds must be nil for daemon set pods"))
        }
        causes += WorkloadValidation.nonNegative(spec?["minReadySeconds"], "spec.minReadySeconds")
        causes += WorkloadValidation.nonNegative(spec?["revisionHistoryLimit"], "spec.revisionHistoryLimit")
        let strategy = spec?["updateStrategy"]
        switch strategy?["type"]?.stringValue ?? "" {
        case "OnDelete": break
        case "RollingUpdate":
            if let rolling = strategy?["rollingUpdate"], !rolling.isNull {
                causes += DeploymentStrategy.validateRollingUpdate(rolling, path: "spec.updateStrategy.rollingUpdate")
            } else {
                causes.append(.required("spec.updateStrategy.rollingUpdate", "Required value: this should be defaulted and never be nil"))
            }
        case let other:
            causes.append(.notSupported("spec.updateStrategy.type", other, ["OnDelete", "RollingUpdate"]))
        }
        return causes
    }

    func validateUpdate(_ object: JSONValue, old: JSONValue) -> [StatusCause] { immutableSelector(object, old) }
}
