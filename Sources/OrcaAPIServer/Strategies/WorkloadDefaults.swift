import Foundation
import OrcaAPI

/// Kubernetes' `SetDefaults_*` of the workload kinds, on JSON. Pod templates get the
/// defaults of a pod spec (`SetDefaults_PodSpec`), not those only pods get.
enum WorkloadDefaults {
    /// Sets `path` to `value` when it is absent or null.
    static func setIfMissing(_ o: inout JSONValue, _ path: [String], _ value: JSONValue) {
        if o[path: path] == nil || o[path: path]?.isNull == true { o[path: path] = value }
    }

    /// The pod template at `path` (e.g. `["spec", "template"]`).
    static func template(_ o: inout JSONValue, at path: [String]) {
        guard var spec = o[path: path + ["spec"]], spec.objectValue != nil else { return }
        PodDefaults.applyTemplateSpec(&spec)
        o[path: path + ["spec"]] = spec
    }

    static func deployment(_ o: inout JSONValue) {
        setIfMissing(&o, ["spec", "replicas"], 1)
        setIfMissing(&o, ["spec", "strategy", "type"], "RollingUpdate")
        if o[path: ["spec", "strategy", "type"]]?.stringValue == "RollingUpdate" {
            setIfMissing(&o, ["spec", "strategy", "rollingUpdate", "maxUnavailable"], "25%")
            setIfMissing(&o, ["spec", "strategy", "rollingUpdate", "maxSurge"], "25%")
        }
        setIfMissing(&o, ["spec", "revisionHistoryLimit"], 10)
        setIfMissing(&o, ["spec", "progressDeadlineSeconds"], 600)
        template(&o, at: ["spec", "template"])
    }

    static func replicaSet(_ o: inout JSONValue) {
        setIfMissing(&o, ["spec", "replicas"], 1)
        template(&o, at: ["spec", "template"])
    }

    static func statefulSet(_ o: inout JSONValue) {
        setIfMissing(&o, ["spec", "podManagementPolicy"], "OrderedReady")
        if (o[path: ["spec", "updateStrategy", "type"]]?.stringValue ?? "").isEmpty {
            o[path: ["spec", "updateStrategy", "type"]] = "RollingUpdate"
            setIfMissing(&o, ["spec", "updateStrategy", "rollingUpdate"], [:])
        }
        if o[path: ["spec", "updateStrategy", "type"]]?.stringValue == "RollingUpdate",
           o[path: ["spec", "updateStrategy", "rollingUpdate"]]?.objectValue != nil {
            setIfMissing(&o, ["spec", "updateStrategy", "rollingUpdate", "partition"], 0)
        }
        setIfMissing(&o, ["spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"], "Retain")
        setIfMissing(&o, ["spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"], "Retain")
        setIfMissing(&o, ["spec", "replicas"], 1)
        setIfMissing(&o, ["spec", "revisionHistoryLimit"], 10)
        if let claims = o[path: ["spec", "volumeClaimTemplates"]]?.arrayValue {
            o[path: ["spec", "volumeClaimTemplates"]] = .array(claims.map { claim in
                var c = claim
                setIfMissing(&c, ["apiVersion"], "v1")
                setIfMissing(&c, ["kind"], "PersistentVolumeClaim")
                setIfMissing(&c, ["spec", "volumeMode"], "Filesystem")
                setIfMissing(&c, ["status", "phase"], "Pending")
                return c
            })
        }
        template(&o, at: ["spec", "template"])
    }

    static func daemonSet(_ o: inout JSONValue) {
        setIfMissing(&o, ["spec", "updateStrategy", "type"], "RollingUpdate")
        if o[path: ["spec", "updateStrategy", "type"]]?.stringValue == "RollingUpdate" {
            setIfMissing(&o, ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"], 1)
            setIfMissing(&o, ["spec", "updateStrategy", "rollingUpdate", "maxSurge"], 0)
        }
        setIfMissing(&o, ["spec", "revisionHistoryLimit"], 10)
        template(&o, at: ["spec", "template"])
    }

    /// `SetDefaults_Job`; the selector is generated at create (`JobStrategy`).
    static func job(_ o: inout JSONValue) {
        let completions = o[path: ["spec", "completions"]]
        let parallelism = o[path: ["spec", "parallelism"]]
        if completions == nil || completions?.isNull == true, parallelism == nil || parallelism?.isNull == true {
            o[path: ["spec", "completions"]] = 1
        }
        setIfMissing(&o, ["spec", "parallelism"], 1)
        let perIndex = o[path: ["spec", "backoffLimitPerIndex"]].map { !$0.isNull } ?? false
        setIfMissing(&o, ["spec", "backoffLimit"], perIndex ? .int(Int64(Int32.max)) : 6)
        setIfMissing(&o, ["spec", "completionMode"], "NonIndexed")
        setIfMissing(&o, ["spec", "suspend"], false)
        setIfMissing(&o, ["spec", "manualSelector"], false)
        if var rules = o[path: ["spec", "podFailurePolicy", "rules"]]?.arrayValue {
            for i in rules.indices {
                guard let patterns = rules[i]["onPodConditions"]?.arrayValue else { continue }
                rules[i]["onPodConditions"] = .array(patterns.map { p in
                    var p = p
                    if (p["status"]?.stringValue ?? "").isEmpty { p["status"] = "True" }
                    return p
                })
            }
            o[path: ["spec", "podFailurePolicy", "rules"]] = .array(rules)
        }
        let hasFailurePolicy = o[path: ["spec", "podFailurePolicy"]].map { !$0.isNull } ?? false
        setIfMissing(&o, ["spec", "podReplacementPolicy"], hasFailurePolicy ? "Failed" : "TerminatingOrFailed")
        template(&o, at: ["spec", "template"])
    }

    static func cronJob(_ o: inout JSONValue) {
        setIfMissing(&o, ["spec", "concurrencyPolicy"], "Allow")
        setIfMissing(&o, ["spec", "suspend"], false)
        setIfMissing(&o, ["spec", "successfulJobsHistoryLimit"], 3)
        setIfMissing(&o, ["spec", "failedJobsHistoryLimit"], 1)
        template(&o, at: ["spec", "jobTemplate", "spec", "template"])
    }

    /// `SetDefaults_ReplicationController`: selector and labels from the template's labels.
    static func replicationController(_ o: inout JSONValue) {
        if let labels = o[path: ["spec", "template", "metadata", "labels"]], labels.objectValue != nil {
            if (o[path: ["spec", "selector"]]?.objectValue ?? [:]).isEmpty { o[path: ["spec", "selector"]] = labels }
            if (o[path: ["metadata", "labels"]]?.objectValue ?? [:]).isEmpty { o[path: ["metadata", "labels"]] = labels }
        }
        setIfMissing(&o, ["spec", "replicas"], 1)
        template(&o, at: ["spec", "template"])
    }

    static func podTemplate(_ o: inout JSONValue) {
        template(&o, at: ["template"])
    }

    /// A kind's status as Kubernetes stores a zero value: the required (non-omitempty)
    /// counters at 0, nothing else.
    static func emptyStatus(_ r: ResourceType) -> JSONValue {
        let def = OpenAPISchema.field(OpenAPISchema.definitionName(apiVersion: r.apiVersion, kind: r.kind), "status")?.definition
        var status: [String: JSONValue] = [:]
        for name in def.flatMap({ OpenAPISchema.definitions[$0]?["required"]?.arrayValue }) ?? [] {
            if let key = name.stringValue { status[key] = 0 }
        }
        return .object(status)
    }
}
