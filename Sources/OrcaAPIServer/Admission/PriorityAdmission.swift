import OrcaAPI

/// kube-apiserver's Priority admission. A new pod's `priorityClassName` is resolved to
/// `spec.priority` and `spec.preemptionPolicy` (a pod naming no class gets the global default
/// class, or priority 0 and `PreemptLowerPriority`); a pod may not bring its own different
/// values, and an unknown class is refused. Updates keep what creation set. Only one
/// PriorityClass may be the global default.
///
/// The built-in `system-node-critical` and `system-cluster-critical` classes are allowed in
/// every namespace, as since Kubernetes 1.17 (kube-system only is a ResourceQuota matter).
public struct PriorityAdmission: AdmissionPlugin {
    public let name = "Priority"
    /// `scheduling.DefaultPriorityWhenNoDefaultClassExists`.
    static let defaultPriority: Int64 = 0
    static let defaultPreemptionPolicy = "PreemptLowerPriority"

    public init() {}

    public func admit(_ a: inout AdmissionAttributes, registry: Registry) async throws {
        guard a.subresource == nil, a.resource.group.isEmpty, a.resource.resource == "pods", var pod = a.object else { return }
        switch a.operation {
        case .create:
            try await Self.resolve(&pod, a, registry: registry)
        case .update:
            // Creation set these; a replace that leaves them out keeps them (validation refuses
            // any other change).
            guard let old = a.oldObject else { return }
            for field in ["priority", "preemptionPolicy"] where Self.isUnset(pod[path: ["spec", field]]) {
                if let kept = old[path: ["spec", field]], !kept.isNull { pod[path: ["spec", field]] = kept }
            }
        case .delete, .connect:
            return
        }
        a.object = pod
    }

    public func validate(_ a: AdmissionAttributes, registry: Registry) async throws {
        guard a.subresource == nil, a.resource.group == "scheduling.k8s.io", a.resource.resource == "priorityclasses",
              a.operation == .create || a.operation == .update, let object = a.object,
              object["globalDefault"]?.boolValue == true else { return }
        guard let current = try await Self.defaultClass(registry: registry) else { return }
        let name = object.metadataName ?? a.name
        if a.operation == .create || current.metadataName != name {
            throw a.forbidden("PriorityClass \(current.metadataName ?? "") is already marked as default. Only one default can exist")
        }
    }

    /// `admitPod` on create: the class's value and preemption policy onto the pod.
    static func resolve(_ pod: inout JSONValue, _ a: AdmissionAttributes, registry: Registry) async throws {
        let className = pod[path: ["spec", "priorityClassName"]]?.stringValue ?? ""
        let priority: Int64
        let policy: String?
        if className.isEmpty {
            if let global = try await defaultClass(registry: registry) {
                pod[path: ["spec", "priorityClassName"]] = .string(global.metadataName ?? "")
                priority = global["value"]?.intValue ?? 0
                policy = global["preemptionPolicy"]?.stringValue
            } else {
                priority = defaultPriority
                policy = defaultPreemptionPolicy
            }
        } else {
            guard let found = try await priorityClass(className, registry: registry) else {
                throw a.forbidden("no PriorityClass with name \(className) was found")
            }
            priority = found["value"]?.intValue ?? 0
            policy = found["preemptionPolicy"]?.stringValue
        }
        if let given = pod[path: ["spec", "priority"]], !given.isNull, given.intValue != priority {
            let shown = given.intValue.map(String.init) ?? given.jsonString
            throw a.forbidden("the integer value of priority (\(shown)) must not be provided in pod spec; priority admission controller computed \(priority) from the given PriorityClass name")
        }
        pod[path: ["spec", "priority"]] = .int(priority)
        guard let policy else { return }
        if let given = pod[path: ["spec", "preemptionPolicy"]]?.stringValue, given != policy {
            throw a.forbidden("the string value of PreemptionPolicy (\(given)) must not be provided in pod spec; priority admission controller computed \(policy) from the given PriorityClass name")
        }
        pod[path: ["spec", "preemptionPolicy"]] = .string(policy)
    }

    /// The PriorityClass named `name`, or nil.
    static func priorityClass(_ name: String, registry: Registry) async throws -> JSONValue? {
        guard let classes = registry.catalog.resource(group: "scheduling.k8s.io", version: "v1", resource: "priorityclasses") else { return nil }
        do {
            return try await registry.read(classes, namespace: nil, name: name)?.0
        } catch {
            throw APIError.internalError("failed to get PriorityClass with name \(name): \(Registry.describe(error))")
        }
    }

    /// `getDefaultPriorityClass`: the class marked `globalDefault`; should a race have made
    /// several, the one of lowest value.
    static func defaultClass(registry: Registry) async throws -> JSONValue? {
        guard let classes = registry.catalog.resource(group: "scheduling.k8s.io", version: "v1", resource: "priorityclasses") else { return nil }
        let list: JSONValue
        do {
            list = try await registry.list(classes, namespace: nil, options: ListOptions())
        } catch {
            throw APIError.internalError("failed to get default priority class: \(Registry.describe(error))")
        }
        var best: JSONValue?
        for item in list["items"]?.arrayValue ?? [] where item["globalDefault"]?.boolValue == true {
            if best == nil || (best?["value"]?.intValue ?? 0) > (item["value"]?.intValue ?? 0) { best = item }
        }
        return best
    }

    static func isUnset(_ v: JSONValue?) -> Bool { v == nil || v?.isNull == true }
}
