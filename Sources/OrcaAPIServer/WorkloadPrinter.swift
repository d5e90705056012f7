import Foundation
import OrcaAPI
import OrcaCore

/// The columns of the workload kinds (Kubernetes' `printDeployment`, `printReplicaSet`,
/// `printStatefulSet`, `printDaemonSet`, `printJob`, `printCronJob`), including the
/// `-o wide` ones (priority 1): containers, images and selector.
enum WorkloadPrinter {
    typealias Column = TableConvertor.Column

    static func containers(_ templatePath: [String]) -> Column {
        Column(name: "Containers", priority: 1, description: "Names of each container in the template.") { o, _ in
            .string((o[path: templatePath + ["containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.joined(separator: ","))
        }
    }

    static func images(_ templatePath: [String]) -> Column {
        Column(name: "Images", priority: 1, description: "Images referenced by each container in the template.") { o, _ in
            .string((o[path: templatePath + ["containers"]]?.arrayValue ?? []).compactMap { $0["image"]?.stringValue }.joined(separator: ","))
        }
    }

    static let selector = Column(name: "Selector", priority: 1, description: "Label selector for pods.") { o, _ in
        .string(formatLabelSelector(o[path: ["spec", "selector"]]))
    }

    static let podTemplate = ["spec", "template", "spec"]

    /// `metav1.FormatLabelSelector`: requirements sorted by key, `<none>` when empty.
    static func formatLabelSelector(_ selector: JSONValue?) -> String {
        guard let selector, selector.objectValue != nil else { return "<none>" }
        var parts: [(String, String)] = []
        for (k, v) in selector["matchLabels"]?.objectValue ?? [:] { parts.append((k, "\(k)=\(v.stringValue ?? "")")) }
        for e in selector["matchExpressions"]?.arrayValue ?? [] {
            let key = e["key"]?.stringValue ?? ""
            let values = (e["values"]?.arrayValue ?? []).compactMap(\.stringValue).sorted().joined(separator: ",")
            switch e["operator"]?.stringValue ?? "" {
            case "In": parts.append((key, "\(key) in (\(values))"))
            case "NotIn": parts.append((key, "\(key) notin (\(values))"))
            case "Exists": parts.append((key, key))
            case "DoesNotExist": parts.append((key, "!\(key)"))
            default: continue
            }
        }
        let text = parts.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: ",")
        return text.isEmpty ? "<none>" : text
    }

    static func replicasOrOne(_ o: JSONValue) -> Int64 { o[path: ["spec", "replicas"]]?.intValue ?? 1 }

    static let deployments: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Ready", description: "Number of the pod with ready state.") { o, _ in
            .string("\(TableConvertor.int(o, "status.readyReplicas"))/\(replicasOrOne(o))")
        },
        Column(name: "Up-to-date", type: "integer", description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec.") { o, _ in
            .int(TableConvertor.int(o, "status.updatedReplicas"))
        },
        Column(name: "Available", type: "integer", description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.") { o, _ in
            .int(TableConvertor.int(o, "status.availableReplicas"))
        },
        TableConvertor.ageColumn,
        containers(podTemplate), images(podTemplate), selector,
    ]

    static let replicaSets: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Desired", type: "integer", description: "Number of desired pods.") { o, _ in .int(replicasOrOne(o)) },
        Column(name: "Current", type: "integer", description: "Number of actual replicas.") { o, _ in .int(TableConvertor.int(o, "status.replicas")) },
        Column(name: "Ready", type: "integer", description: "The number of ready replicas for this replica set.") { o, _ in .int(TableConvertor.int(o, "status.readyReplicas")) },
        TableConvertor.ageColumn,
        containers(podTemplate), images(podTemplate), selector,
    ]

    /// kubectl's `printPodDisruptionBudget`: a bound that is not set prints `N/A`.
    static let podDisruptionBudgets: [Column] = {
        @Sendable func bound(_ o: JSONValue, _ key: String) -> JSONValue {
            switch o[path: ["spec", key]] {
            case .int(let n)?: return .string(String(n))
            case .string(let s)?: return .string(s)
            default: return "N/A"
            }
        }
        return [
            TableConvertor.nameColumn,
            Column(name: "Min Available", description: "The minimum number of pods that must be available.") { o, _ in bound(o, "minAvailable") },
            Column(name: "Max Unavailable", description: "The maximum number of pods that may be unavailable.") { o, _ in bound(o, "maxUnavailable") },
            Column(name: "Allowed Disruptions", type: "integer", description: "Calculated number of pods that may be disrupted at this time.") { o, _ in
                .int(TableConvertor.int(o, "status.disruptionsAllowed"))
            },
            TableConvertor.ageColumn,
        ]
    }()

    /// kubectl's `printControllerRevision`: the controller as `kind.group/name`.
    static let controllerRevisions: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Controller", description: "Controller of the object.") { o, _ in
            guard let ref = o[path: ["metadata", "ownerReferences"]]?.arrayValue?.first(where: { $0["controller"]?.boolValue == true }) else {
                return "<none>"
            }
            let apiVersion = ref["apiVersion"]?.stringValue ?? ""
            let group = apiVersion.contains("/") ? "." + apiVersion.split(separator: "/")[0] : ""
            return .string("\((ref["kind"]?.stringValue ?? "").lowercased())\(group)/\(ref["name"]?.stringValue ?? "")")
        },
        Column(name: "Revision", type: "integer", description: "Revision of the ControllerRevision.") { o, _ in .int(TableConvertor.int(o, "revision")) },
        TableConvertor.ageColumn,
    ]

    static let statefulSets: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Ready", description: "Number of the pod with ready state.") { o, _ in
            .string("\(TableConvertor.int(o, "status.readyReplicas"))/\(replicasOrOne(o))")
        },
        TableConvertor.ageColumn,
        containers(podTemplate), images(podTemplate),
    ]

    static let daemonSets: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Desired", type: "integer") { o, _ in .int(TableConvertor.int(o, "status.desiredNumberScheduled")) },
        Column(name: "Current", type: "integer") { o, _ in .int(TableConvertor.int(o, "status.currentNumberScheduled")) },
        Column(name: "Ready", type: "integer") { o, _ in .int(TableConvertor.int(o, "status.numberReady")) },
        Column(name: "Up-to-date", type: "integer") { o, _ in .int(TableConvertor.int(o, "status.updatedNumberScheduled")) },
        Column(name: "Available", type: "integer") { o, _ in .int(TableConvertor.int(o, "status.numberAvailable")) },
        Column(name: "Node Selector", description: "The node selector of the pod template.") { o, _ in
            let sel = (o[path: podTemplate + ["nodeSelector"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            return TableConvertor.none(sel.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        },
        TableConvertor.ageColumn,
        containers(podTemplate), images(podTemplate), selector,
    ]

    static let jobs: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Status", description: "Status of the job.") { o, _ in
            let conds = o[path: ["status", "conditions"]]?.arrayValue ?? []
            func has(_ type: String) -> Bool {
                conds.contains { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
            }
            if has("Complete") { return "Complete" }
            if has("Failed") { return "Failed" }
            if o.deletionTimestamp != nil { return "Terminating" }
            if has("SuccessCriteriaMet") { return "SuccessCriteriaMet" }
            if has("FailureTarget") { return "FailureTarget" }
            if has("Suspended") { return "Suspended" }
            return "Running"
        },
        Column(name: "Completions", description: "The number of successfully completed pods and the desired number.") { o, _ in
            let succeeded = TableConvertor.int(o, "status.succeeded")
            if let completions = o[path: ["spec", "completions"]]?.intValue { return .string("\(succeeded)/\(completions)") }
            let parallelism = o[path: ["spec", "parallelism"]]?.intValue ?? 1
            return .string(parallelism > 1 ? "\(succeeded)/1 of \(parallelism)" : "\(succeeded)/1")
        },
        Column(name: "Duration", description: "Time required to complete the job.") { o, now in
            guard let start = o[path: ["status", "startTime"]]?.stringValue.flatMap(KubernetesTime.date) else { return "" }
            let end = o[path: ["status", "completionTime"]]?.stringValue.flatMap(KubernetesTime.date) ?? now
            return .string(TableConvertor.humanDuration(end.timeIntervalSince(start)))
        },
        TableConvertor.ageColumn,
        containers(podTemplate), images(podTemplate), selector,
    ]

    static let cronJobTemplate = ["spec", "jobTemplate", "spec", "template", "spec"]

    static let cronJobs: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Schedule", description: "The schedule in Cron format.") { o, _ in .string(TableConvertor.str(o, "spec.schedule")) },
        Column(name: "Timezone", description: "The time zone name for the given schedule.") { o, _ in
            TableConvertor.none(TableConvertor.str(o, "spec.timeZone"))
        },
        Column(name: "Suspend", type: "boolean", description: "Whether subsequent executions are suspended.") { o, _ in
            .bool(o[path: ["spec", "suspend"]]?.boolValue ?? false)
        },
        Column(name: "Active", type: "integer", description: "The number of currently running jobs.") { o, _ in
            .int(Int64(o[path: ["status", "active"]]?.arrayValue?.count ?? 0))
        },
        Column(name: "Last Schedule", description: "When the job was last successfully scheduled.") { o, now in
            guard let last = o[path: ["status", "lastScheduleTime"]]?.stringValue else { return "<none>" }
            return .string(TableConvertor.age(last, now: now))
        },
        TableConvertor.ageColumn,
        containers(cronJobTemplate), images(cronJobTemplate),
        Column(name: "Selector", priority: 1, description: "Label selector for pods.") { o, _ in
            .string(formatLabelSelector(o[path: ["spec", "jobTemplate", "spec", "selector"]]))
        },
    ]
}

extension WorkloadPrinter {
    /// ReplicationControllers: ReplicaSet columns, with the plain-map selector.
    static let replicationControllers: [Column] = replicaSets.dropLast() + [
        Column(name: "Selector", priority: 1, description: "Label selector for pods.") { o, _ in
            let sel = (o[path: ["spec", "selector"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            return TableConvertor.none(sel.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        },
    ]
}
