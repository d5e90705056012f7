import Foundation
import OrcaAPI

/// Jobs: `SetDefaults_Job`, the generated selector and pod labels, `ValidateJob` and the
/// update rules.
struct JobStrategy: WorkloadStrategy {
    static let controllerUID = "batch.kubernetes.io/controller-uid"
    static let jobName = "batch.kubernetes.io/job-name"
    static let legacyControllerUID = "controller-uid"
    static let legacyJobName = "job-name"

    func applyDefaults(_ object: inout JSONValue, context: StrategyContext) { WorkloadDefaults.job(&object) }

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        WorkloadDefaults.job(&object)
        if object[path: ["spec", "manualSelector"]]?.boolValue != true { Self.generateSelector(&object) }
        if (object[path: ["metadata", "labels"]]?.objectValue ?? [:]).isEmpty,
           let labels = object[path: ["spec", "template", "metadata", "labels"]], labels.objectValue != nil {
            object[path: ["metadata", "labels"]] = labels
        }
        object["status"] = WorkloadDefaults.emptyStatus(context.resource)
    }

    /// Labels the pods with the job's name and uid and selects them by the uid.
    static func generateSelector(_ o: inout JSONValue) {
        let uid = JSONValue.string(o.metadataUID ?? "")
        let name = JSONValue.string(o.metadataName ?? "")
        for (key, value) in [(legacyJobName, name), (jobName, name), (legacyControllerUID, uid), (controllerUID, uid)] {
            WorkloadDefaults.setIfMissing(&o, ["spec", "template", "metadata", "labels", key], value)
        }
        WorkloadDefaults.setIfMissing(&o, ["spec", "selector", "matchLabels", controllerUID], uid)
    }

    func validateSpec(_ o: JSONValue) -> [StatusCause] {
        var causes = Self.validateGeneratedSelector(o)
        causes += Self.validateJobSpec(o["spec"], path: "spec")
        let selector = o[path: ["spec", "selector"]].flatMap { $0.isNull ? nil : $0 }
        if let selector {
            causes += WorkloadValidation.validateSelector(selector, path: "spec.selector")
        } else {
            causes.append(.required("spec.selector"))
        }
        let labels = o[path: ["spec", "template", "metadata", "labels"]]
        if (try? LabelMatcher(object: selector)) != nil, !WorkloadValidation.selects(selector, labels) {
            causes.append(.invalidValue("spec.template.metadata.labels", rendered: GoFormat.stringMap(labels), WorkloadValidation.selectorMismatch))
        }
        return causes
    }

    /// `validateJobSpec`: counts, completion mode, replacement policy and the template
    /// (whose pods may only restart `OnFailure` or `Never`). Also used for CronJob templates.
    static func validateJobSpec(_ spec: JSONValue?, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        for key in ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"] {
            causes += WorkloadValidation.nonNegative(spec?[key], "\(path).\(key)")
        }
        let mode = spec?["completionMode"]?.stringValue
        if let mode, mode != "NonIndexed", mode != "Indexed" {
            causes.append(.notSupported("\(path).completionMode", mode, ["NonIndexed", "Indexed"]))
        }
        if mode == "Indexed", spec?["completions"] == nil || spec?["completions"]?.isNull == true {
            causes.append(.required("\(path).completions", "Required value: when completion mode is Indexed"))
        }
        if spec?["backoffLimitPerIndex"].map({ !$0.isNull }) == true, mode != "Indexed" {
            causes.append(.forbidden("\(path).backoffLimitPerIndex", "requires indexed completion mode"))
        }
        if let policy = spec?["podReplacementPolicy"]?.stringValue {
            if policy != "TerminatingOrFailed", policy != "Failed" {
                causes.append(.notSupported("\(path).podReplacementPolicy", policy, ["Failed", "TerminatingOrFailed"]))
            } else if spec?["podFailurePolicy"].map({ !$0.isNull }) == true, policy != "Failed" {
                causes.append(.notSupported("\(path).podReplacementPolicy", policy, ["Failed"]))
            }
        }
        causes += WorkloadValidation.validateTemplate(spec?["template"], path: "\(path).template", restartPolicies: ["OnFailure", "Never"])
        return causes
    }

    /// Unless the selector is manual, the pod template must carry the generated labels and
    /// the selector must pick the job's own pods.
    static func validateGeneratedSelector(_ o: JSONValue) -> [StatusCause] {
        guard o[path: ["spec", "manualSelector"]]?.boolValue != true,
              let labels = o[path: ["spec", "template", "metadata", "labels"]]?.objectValue else { return [] }
        let uid = o.metadataUID ?? ""
        let name = o.metadataName ?? ""
        var causes: [StatusCause] = []
        if uid.isEmpty { causes.append(.required("metadata.uid")) }
        for (key, expected) in [(legacyControllerUID, uid), (legacyJobName, name), (controllerUID, uid), (jobName, name)] {
            let field = "spec.template.metadata.labels[\(key)]"
            guard let actual = labels[key]?.stringValue else {
                causes.append(.required(field, "Required value: \(expected)"))
                continue
            }
            if actual != expected {
                causes.append(.invalidValue(field, rendered: GoFormat.stringMap(.object(labels)), "must be '\(expected)'"))
            }
        }
        let selector = o[path: ["spec", "selector"]].flatMap { $0.isNull ? nil : $0 }
        if let selector, !WorkloadValidation.selects(selector, [controllerUID: .string(uid), jobName: .string(name),
                                                                 legacyControllerUID: .string(uid), legacyJobName: .string(name)]) {
            causes.append(.invalidValue("spec.selector", rendered: GoFormat.labelSelector(selector), "`selector` not auto-generated"))
        }
        return causes
    }

    /// Selector, completion mode and failure policy are immutable; completions too unless an
    /// Indexed job scales them with parallelism; the template while the job is not suspended.
    func validateUpdate(_ object: JSONValue, old: JSONValue) -> [StatusCause] {
        let spec = object["spec"], oldSpec = old["spec"]
        var causes = immutableSelector(object, old)
        let elastic = spec?["completionMode"]?.stringValue == "Indexed" && spec?["completions"] == spec?["parallelism"]
        if !elastic {
            causes += WorkloadValidation.immutable(spec?["completions"], oldSpec?["completions"], "spec.completions", rendered: { $0.map(GoFormat.describe) ?? "null" })
        }
        for key in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"] {
            causes += WorkloadValidation.immutable(spec?[key], oldSpec?[key], "spec.\(key)", rendered: { $0.map(GoFormat.describe) ?? "null" })
        }
        var template = spec?["template"], oldTemplate = oldSpec?["template"]
        if oldSpec?["suspend"]?.boolValue == true {
            // A suspended job may still change where and when its pods will run.
            for path in [["metadata", "labels"], ["metadata", "annotations"], ["spec", "nodeSelector"], ["spec", "tolerations"],
                         ["spec", "affinity"], ["spec", "schedulingGates"]] {
                template?[path: path] = nil
                oldTemplate?[path: path] = nil
            }
        }
        if template != oldTemplate {
            causes.append(.invalidValue("spec.template", rendered: (spec?["template"] ?? .null).jsonString, "field is immutable"))
        }
        return causes
    }
}

/// CronJobs: `SetDefaults_CronJob` and `ValidateCronJob`.
struct CronJobStrategy: WorkloadStrategy {
    func applyDefaults(_ object: inout JSONValue, context: StrategyContext) { WorkloadDefaults.cronJob(&object) }

    func validateSpec(_ o: JSONValue) -> [StatusCause] {
        validate(o, allowTZInSchedule: false)
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        guard let old else { return validateSpec(object) }
        if ObjectMetaRules.specPart(object) == ObjectMetaRules.specPart(old) { return [] }
        let oldSchedule = old[path: ["spec", "schedule"]]?.stringValue ?? ""
        return validate(object, allowTZInSchedule: oldSchedule.contains("TZ"))
    }

    func validate(_ o: JSONValue, allowTZInSchedule: Bool) -> [StatusCause] {
        let spec = o["spec"]
        var causes: [StatusCause] = []
        let schedule = spec?["schedule"]?.stringValue ?? ""
        let timeZone = spec?["timeZone"]?.stringValue
        if schedule.isEmpty {
            causes.append(.required("spec.schedule"))
        } else {
            if let error = CronSchedule.parseError(schedule) { causes.append(.invalid("spec.schedule", schedule, error)) }
            if allowTZInSchedule, schedule.contains("TZ"), timeZone != nil {
                causes.append(.invalid("spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
            } else if !allowTZInSchedule, schedule.contains("TZ") {
                causes.append(.invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
            }
        }
        if let timeZone {
            if timeZone.isEmpty || TimeZone(identifier: timeZone) == nil || timeZone.lowercased() == "local" {
                causes.append(.invalid("spec.timeZone", timeZone, "unknown time zone \(timeZone)"))
            }
        }
        causes += WorkloadValidation.nonNegative(spec?["startingDeadlineSeconds"], "spec.startingDeadlineSeconds")
        causes += WorkloadValidation.oneOf(spec?["concurrencyPolicy"], "spec.concurrencyPolicy", ["Allow", "Forbid", "Replace"], required: true)
        causes += WorkloadValidation.nonNegative(spec?["successfulJobsHistoryLimit"], "spec.successfulJobsHistoryLimit")
        causes += WorkloadValidation.nonNegative(spec?["failedJobsHistoryLimit"], "spec.failedJobsHistoryLimit")
        let jobSpec = spec?[path: ["jobTemplate", "spec"]]
        causes += JobStrategy.validateJobSpec(jobSpec, path: "spec.jobTemplate.spec")
        if let selector = jobSpec?["selector"], !selector.isNull {
            causes.append(.invalidValue("spec.jobTemplate.spec.selector", rendered: GoFormat.labelSelector(selector), "`selector` will be auto-generated"))
        }
        if jobSpec?["manualSelector"]?.boolValue == true {
            causes.append(.notSupported("spec.jobTemplate.spec.manualSelector", rendered: "true", ["nil", "false"]))
        }
        return causes
    }
}
