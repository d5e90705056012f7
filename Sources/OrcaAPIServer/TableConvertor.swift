import Foundation
import OrcaAPI
import OrcaCore

/// Server-side printing: turns objects into the `meta.k8s.io/v1` `Table` kubectl shows.
public struct TableConvertor: Sendable {
    /// One column: its definition and how to compute a cell.
    struct Column: Sendable {
        var name: String
        var type: String = "string"
        var format: String = ""
        var priority: Int = 0
        var description: String = ""
        var cell: @Sendable (JSONValue, Date) -> JSONValue
    }

    let now: @Sendable () -> Date
    /// Where custom resources' printer columns come from.
    let served: ServedResources?

    public init(now: @escaping @Sendable () -> Date = { Date() }, served: ServedResources? = nil) {
        self.now = now
        self.served = served
    }

    /// A Table of `objects` of resource `r`.
    public func table(_ r: ResourceType, objects: [JSONValue], listMeta: JSONValue?, includeObject: String?) -> JSONValue {
        let cols = columns(r)
        let t = now()
        // events.k8s.io/v1 Events print as the core/v1 Events they are stored as.
        let eventsV1 = r.group == "events.k8s.io" && r.resource == "events"
        let rows: [JSONValue] = objects.map { obj in
            let source = eventsV1 ? EventsV1Conversion.toCore(obj) : obj
            var row: [String: JSONValue] = ["cells": .array(cols.map { $0.cell(source, t) })]
            switch includeObject {
            case "None": break
            case "Object": row["object"] = obj
            default:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"] ?? [:]]
            }
            return .object(row)
        }
        return .object([
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": listMeta ?? [:],
            "columnDefinitions": .array(cols.map {
                ["name": .string($0.name), "type": .string($0.type), "format": .string($0.format),
                 "description": .string($0.description), "priority": .int(Int64($0.priority))]
            }),
            "rows": .array(rows),
        ])
    }

    static func str(_ o: JSONValue, _ path: String) -> String {
        var cur: JSONValue? = o
        for k in path.split(separator: ".") { cur = cur?[String(k)] }
        switch cur {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .bool(let b)?: return String(b)
        default: return ""
        }
    }

    static func int(_ o: JSONValue, _ path: String) -> Int64 {
        var cur: JSONValue? = o
        for k in path.split(separator: ".") { cur = cur?[String(k)] }
        return cur?.intValue ?? 0
    }

    static func none(_ s: String) -> JSONValue { .string(s.isEmpty ? "<none>" : s) }

    static let nameColumn = Column(name: "Name", format: "name", description: "Name must be unique within a namespace.") { o, _ in
        .string(o.metadataName ?? "")
    }
    static let ageColumn = Column(name: "Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created.") { o, now in
        .string(age(o[path: ["metadata", "creationTimestamp"]]?.stringValue, now: now))
    }

    /// `kubectl`'s human-readable age of a timestamp.
    public static func age(_ timestamp: String?, now: Date) -> String {
        guard let timestamp, let date = KubernetesTime.date(timestamp) else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(date))
    }

    /// Kubernetes' `duration.HumanDuration`.
    public static func humanDuration(_ d: TimeInterval) -> String {
        let seconds = Int(d)
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { let s = seconds % 60; return s == 0 ? "\(minutes)m" : "\(minutes)m\(s)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { let m = minutes % 60; return m == 0 ? "\(hours)h" : "\(hours)h\(m)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { let h = hours % 24; return h == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(h)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 { let dy = (hours / 24) % 365; return dy == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(dy)d" }
        return "\(hours / 24 / 365)y"
    }

    func columns(_ r: ResourceType) -> [Column] {
        if let custom = served?.customResource(r) { return CustomResourcePrinter.columns(custom, r) }
        switch (r.group, r.resource) {
        case ("", "pods"): return PodPrinter.columns
        case ("", "namespaces"):
            return [Self.nameColumn, Column(name: "Status") { o, _ in .string(Self.str(o, "status.phase")) }, Self.ageColumn]
        case ("", "nodes"):
            return [Self.nameColumn,
                    Column(name: "Status") { o, _ in
                        let ready = (o[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
                        var s = ready?["status"]?.stringValue == "True" ? "Ready" : "NotReady"
                        if o[path: ["spec", "unschedulable"]]?.boolValue == true { s += ",SchedulingDisabled" }
                        return .string(s)
                    },
                    Column(name: "Roles") { o, _ in
                        let roles = o.labels.keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }.map { String($0.dropFirst(24)) }.sorted()
                        return Self.none(roles.joined(separator: ","))
                    },
                    Self.ageColumn,
                    Column(name: "Version") { o, _ in .string(Self.str(o, "status.nodeInfo.kubeletVersion")) },
                    Column(name: "Internal-IP", priority: 1) { o, _ in
                        let a = (o[path: ["status", "addresses"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "InternalIP" }
                        return Self.none(a?["address"]?.stringValue ?? "")
                    },
                    Column(name: "OS-Image", priority: 1) { o, _ in .string(Self.str(o, "status.nodeInfo.osImage")) },
                    Column(name: "Kernel-Version", priority: 1) { o, _ in .string(Self.str(o, "status.nodeInfo.kernelVersion")) },
                    Column(name: "Container-Runtime", priority: 1) { o, _ in .string(Self.str(o, "status.nodeInfo.containerRuntimeVersion")) }]
        case ("", "configmaps"):
            return [Self.nameColumn, Column(name: "Data", type: "integer") { o, _ in
                .int(Int64((o["data"]?.objectValue?.count ?? 0) + (o["binaryData"]?.objectValue?.count ?? 0)))
            }, Self.ageColumn]
        case ("", "secrets"):
            return [Self.nameColumn, Column(name: "Type") { o, _ in .string(Self.str(o, "type")) },
                    Column(name: "Data", type: "integer") { o, _ in .int(Int64(o["data"]?.objectValue?.count ?? 0)) }, Self.ageColumn]
        case ("", "serviceaccounts"):
            return [Self.nameColumn, Column(name: "Secrets", type: "integer") { o, _ in .int(Int64(o["secrets"]?.arrayValue?.count ?? 0)) }, Self.ageColumn]
        case ("", "services"): return ServicePrinter.services
        case ("", "endpoints"): return ServicePrinter.endpoints
        case ("discovery.k8s.io", "endpointslices"): return ServicePrinter.endpointSlices
        case ("", "events"), ("events.k8s.io", "events"):
            return Self.eventColumns
        case ("apps", "deployments"): return WorkloadPrinter.deployments
        case ("apps", "replicasets"): return WorkloadPrinter.replicaSets
        case ("", "replicationcontrollers"): return WorkloadPrinter.replicationControllers
        case ("apps", "statefulsets"): return WorkloadPrinter.statefulSets
        case ("apps", "daemonsets"): return WorkloadPrinter.daemonSets
        case ("batch", "jobs"): return WorkloadPrinter.jobs
        case ("batch", "cronjobs"): return WorkloadPrinter.cronJobs
        case ("policy", "poddisruptionbudgets"): return WorkloadPrinter.podDisruptionBudgets
        case ("apps", "controllerrevisions"): return WorkloadPrinter.controllerRevisions
        case ("", "persistentvolumes"): return StoragePrinter.persistentVolumes
        case ("", "persistentvolumeclaims"): return StoragePrinter.persistentVolumeClaims
        case ("storage.k8s.io", "storageclasses"): return StoragePrinter.storageClasses
        case ("certificates.k8s.io", "certificatesigningrequests"): return CertificatePrinter.certificateSigningRequests
        case ("coordination.k8s.io", "leases"):
            return [Self.nameColumn, Column(name: "Holder") { o, _ in .string(Self.str(o, "spec.holderIdentity")) }, Self.ageColumn]
        case ("scheduling.k8s.io", "priorityclasses"):
            // kube's printPriorityClass.
            return [Self.nameColumn,
                    Column(name: "Value", type: "integer") { o, _ in .int(o["value"]?.intValue ?? 0) },
                    Column(name: "Global-Default", type: "boolean") { o, _ in .bool(o["globalDefault"]?.boolValue ?? false) },
                    Self.ageColumn,
                    Column(name: "PreemptionPolicy") { o, _ in .string(o["preemptionPolicy"]?.stringValue ?? "") }]
        case ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
             ("admissionregistration.k8s.io", "validatingwebhookconfigurations"):
            // kube's printMutating/ValidatingWebhook.
            return [Self.nameColumn,
                    Column(name: "Webhooks", type: "integer") { o, _ in .int(Int64(o["webhooks"]?.arrayValue?.count ?? 0)) },
                    Self.ageColumn]
        case ("apiextensions.k8s.io", "customresourcedefinitions"):
            // apiextensions-apiserver's table: the creation time itself, not an age.
            return [Self.nameColumn,
                    Column(name: "Created At", type: "date") { o, _ in o[path: ["metadata", "creationTimestamp"]] ?? .null }]
        default:
            return [Self.nameColumn, Self.ageColumn]
        }
    }

    /// Kubernetes' `printEvent`: first/last seen fall back to `eventTime`, a series gives the count.
    static func eventFirstSeen(_ o: JSONValue) -> String? {
        o["firstTimestamp"]?.stringValue ?? o["eventTime"]?.stringValue ?? o[path: ["metadata", "creationTimestamp"]]?.stringValue
    }

    static let eventColumns: [Column] = {
        let first = eventFirstSeen
        return [
            Column(name: "Last Seen") { o, now in
                .string(age(o[path: ["series", "lastObservedTime"]]?.stringValue ?? o["lastTimestamp"]?.stringValue ?? first(o), now: now))
            },
            Column(name: "Type") { o, _ in .string(str(o, "type")) },
            Column(name: "Reason") { o, _ in .string(str(o, "reason")) },
            Column(name: "Object") { o, _ in
                .string("\(str(o, "involvedObject.kind").lowercased())/\(str(o, "involvedObject.name"))")
            },
            Column(name: "Subobject", priority: 1) { o, _ in .string(str(o, "involvedObject.fieldPath")) },
            Column(name: "Source", priority: 1) { o, _ in
                let component = str(o, "source.component").isEmpty ? str(o, "reportingComponent") : str(o, "source.component")
                let host = str(o, "source.host").isEmpty ? str(o, "reportingInstance") : str(o, "source.host")
                return .string(host.isEmpty ? component : "\(component), \(host)")
            },
            Column(name: "Message") { o, _ in .string(str(o, "message")) },
            Column(name: "First Seen", priority: 1) { o, now in .string(age(first(o), now: now)) },
            Column(name: "Count", type: "integer", priority: 1) { o, _ in
                let count = o[path: ["series", "count"]]?.intValue ?? o["count"]?.intValue ?? 0
                return .int(count == 0 ? 1 : count)
            },
            Column(name: "Name", priority: 1) { o, _ in .string(o.metadataName ?? "") },
        ]
    }()
}
