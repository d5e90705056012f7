import OrcaAPI

/// kube-apiserver's LimitRanger admission. The LimitRanges of a namespace give a new pod's
/// containers the limits (`default`) and requests (`defaultRequest`) they lack, and bound
/// containers (`type: Container`), whole pods (`type: Pod`, their containers summed) and
/// claims (`type: PersistentVolumeClaim`, their storage request) with `min`, `max` and
/// `maxLimitRequestRatio`.
///
/// Pods are defaulted and checked on create only (their containers' resources never change
/// afterwards, so kube skips pod updates); claims on create and on update (a resize). A
/// refusal is 403 `Forbidden` listing every bound the first offending LimitRange sets, as
/// `pods "p" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, …]`.
public struct LimitRanger: AdmissionPlugin {
    public let name = "LimitRanger"
    /// The annotation saying what the plugin set on a pod.
    public static let annotation = "kubernetes.io/limit-ranger"

    public init() {}

    public func admit(_ a: inout AdmissionAttributes, registry: Registry) async throws {
        guard a.operation == .create, a.isCore("pods"), let namespace = a.namespace, var pod = a.object else { return }
        let ranges = try await Self.limitRanges(in: namespace, registry: registry)
        guard !ranges.isEmpty else { return }
        Self.defaultRequestsToLimits(&pod)
        for items in ranges { Self.applyDefaults(of: items, to: &pod) }
        a.object = pod
    }

    public func validate(_ a: AdmissionAttributes, registry: Registry) async throws {
        guard let namespace = a.namespace, let object = a.object, a.oldObject?.deletionTimestamp == nil else { return }
        let violations: ([JSONValue]) -> [String]
        if a.isCore("pods"), a.operation == .create {
            violations = { Self.podViolations(object, items: $0) }
        } else if a.isCore("persistentvolumeclaims"), a.operation == .create || a.operation == .update {
            violations = { Self.claimViolations(object, items: $0) }
        } else {
            return
        }
        for items in try await Self.limitRanges(in: namespace, registry: registry) {
            let found = violations(items)
            if !found.isEmpty { throw a.forbidden(Self.aggregate(found)) }
        }
    }

    /// The `spec.limits` of each LimitRange of the namespace (by name), with LimitRangeItem's
    /// defaults applied (kube stores them; Orca applies them when reading).
    static func limitRanges(in namespace: String, registry: Registry) async throws -> [[JSONValue]] {
        guard let r = registry.catalog.resource(group: "", version: "v1", resource: "limitranges") else { return [] }
        let list = try await registry.list(r, namespace: namespace, options: ListOptions())
        return (list["items"]?.arrayValue ?? []).map { ($0[path: ["spec", "limits"]]?.arrayValue ?? []).map(defaulted) }
    }

    /// `SetDefaults_LimitRangeItem`: a Container item's `default` falls back to its `max`, its
    /// `defaultRequest` to its `default`, then to its `min`, resource by resource.
    public static func defaulted(_ item: JSONValue) -> JSONValue {
        guard item["type"]?.stringValue == "Container" else { return item }
        var item = item
        var limits = item["default"]?.objectValue ?? [:]
        for (name, value) in item["max"]?.objectValue ?? [:] where limits[name] == nil { limits[name] = value }
        var requests = item["defaultRequest"]?.objectValue ?? [:]
        for (name, value) in limits where requests[name] == nil { requests[name] = value }
        for (name, value) in item["min"]?.objectValue ?? [:] where requests[name] == nil { requests[name] = value }
        if !limits.isEmpty { item["default"] = .object(limits) }
        if !requests.isEmpty { item["defaultRequest"] = .object(requests) }
        return item
    }

    /// `SetDefaults_Pod`, which kube runs before admission: a container's missing requests
    /// take its limits, resource by resource (so a limit alone is not given a default request).
    static func defaultRequestsToLimits(_ pod: inout JSONValue) {
        for kind in ["containers", "initContainers"] {
            guard var containers = pod[path: ["spec", kind]]?.arrayValue else { continue }
            for i in containers.indices {
                guard let limits = containers[i][path: ["resources", "limits"]]?.objectValue, !limits.isEmpty else { continue }
                var requests = containers[i][path: ["resources", "requests"]]?.objectValue ?? [:]
                for (name, value) in limits where requests[name] == nil { requests[name] = value }
                containers[i][path: ["resources", "requests"]] = .object(requests)
            }
            pod[path: ["spec", kind]] = .array(containers)
        }
    }

    /// `mergePodResourceRequirements`: every container and init container gets the default
    /// limits and requests of the range's Container items that it lacks, and the pod an
    /// annotation naming them (`LimitRanger plugin set: cpu, memory request for container c; …`).
    static func applyDefaults(of items: [JSONValue], to pod: inout JSONValue) {
        var defaults = (limits: ResourceList(), requests: ResourceList())
        for item in items where item["type"]?.stringValue == "Container" {
            defaults.requests = defaults.requests.merging(ResourceList(json: item["defaultRequest"]))
            defaults.limits = defaults.limits.merging(ResourceList(json: item["default"]))
        }
        guard !defaults.limits.isEmpty || !defaults.requests.isEmpty else { return }
        var notes: [String] = []
        for (kind, label) in [("containers", "container"), ("initContainers", "init container")] {
            guard var containers = pod[path: ["spec", kind]]?.arrayValue else { continue }
            for i in containers.indices {
                let name = containers[i]["name"]?.stringValue ?? ""
                let setRequests = fill(&containers[i], "requests", from: defaults.requests)
                let setLimits = fill(&containers[i], "limits", from: defaults.limits)
                if !setRequests.isEmpty { notes.append("\(setRequests.joined(separator: ", ")) request for \(label) \(name)") }
                if !setLimits.isEmpty { notes.append("\(setLimits.joined(separator: ", ")) limit for \(label) \(name)") }
            }
            pod[path: ["spec", kind]] = .array(containers)
        }
        if !notes.isEmpty {
            pod[path: ["metadata", "annotations", annotation]] = .string("LimitRanger plugin set: " + notes.joined(separator: "; "))
        }
    }

    /// Sets the container's missing `resources.<kind>` from `defaults`; returns their names, sorted.
    private static func fill(_ container: inout JSONValue, _ kind: String, from defaults: ResourceList) -> [String] {
        var have = container[path: ["resources", kind]]?.objectValue ?? [:]
        let missing = defaults.names.filter { have[$0] == nil }.sorted()
        guard !missing.isEmpty else { return [] }
        for name in missing { have[name] = .string(defaults[name]!.string) }
        container[path: ["resources", kind]] = .object(have)
        return missing
    }

    /// `utilerrors.NewAggregate`: one message as is, several (the same text once) in brackets.
    static func aggregate(_ messages: [String]) -> String {
        var seen: [String] = []
        for m in messages where !seen.contains(m) { seen.append(m) }
        return seen.count == 1 ? seen[0] : "[" + seen.joined(separator: ", ") + "]"
    }
}
