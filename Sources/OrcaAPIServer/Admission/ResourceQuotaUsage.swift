import OrcaAPI

/// The usage of one namespace's ResourceQuotas, measured from the objects stored now (kube's
/// `quota.CalculateUsage`), and its writing to their `status` (`hard` = `spec.hard`, `used`).
///
/// Each quota is measured over the objects in its scopes, for every name of its `spec.hard`
/// that Orca measures (zero when nothing uses it). Used by the ResourceQuota admission to
/// charge a write and by `ResourceQuotaController` to give back what deleted and finished
/// objects held.
public struct ResourceQuotaUsage: Sendable {
    let registry: Registry
    public let namespace: String

    public init(registry: Registry, namespace: String) {
        self.registry = registry
        self.namespace = namespace
    }

    /// Core kinds measured for any quota (the others only when a `count/…` names them).
    static let measuredKinds = ["pods", "services", "persistentvolumeclaims", "configmaps", "secrets",
                                "replicationcontrollers", "resourcequotas"]

    var quotaResource: ResourceType? { registry.catalog.resource(group: "", version: "v1", resource: "resourcequotas") }

    /// The namespace's ResourceQuotas, by name.
    func quotas() async throws -> [JSONValue] {
        guard let r = quotaResource else { return [] }
        return try await registry.list(r, namespace: namespace, options: ListOptions())["items"]?.arrayValue ?? []
    }

    /// What the objects in each quota's scope use now, by quota name, for the names of its
    /// `spec.hard` that Orca measures. Each kind is listed once for all the quotas.
    func measure(_ quotas: [JSONValue]) async throws -> [String: ResourceList] {
        let now = registry.clock()
        var listed: [String: [JSONValue]] = [:]
        var result: [String: ResourceList] = [:]
        for quota in quotas {
            let hard = ResourceList(json: quota[path: ["spec", "hard"]]).names
            var used = ResourceList()
            for r in resources(for: hard) {
                let evaluator = ResourceQuotaEvaluator(resource: r, now: now)
                let names = evaluator.matchingResources(hard)
                guard !names.isEmpty else { continue }
                if listed[r.groupResource] == nil {
                    listed[r.groupResource] = try await registry.list(r, namespace: namespace, options: ListOptions())["items"]?.arrayValue ?? []
                }
                var sum = ResourceList(Dictionary(uniqueKeysWithValues: names.map { ($0, ResourceList.zero) }))
                for object in listed[r.groupResource] ?? [] where evaluator.inScopes(of: quota, object) {
                    sum = sum.adding(evaluator.usage(object))
                }
                used = used.merging(sum.masked(to: names))
            }
            result[quota.metadataName ?? ""] = used
        }
        return result
    }

    /// The resources whose objects may count for quota names `names`.
    func resources(for names: Set<String>) -> [ResourceType] {
        let catalog = registry.catalog
        var out = Self.measuredKinds.compactMap { catalog.resource(group: "", version: "v1", resource: $0) }
        for name in names.sorted() where name.hasPrefix("count/") {
            let groupResource = String(name.dropFirst("count/".count))
            if !out.contains(where: { $0.groupResource == groupResource }),
               let r = catalog.resources.first(where: { $0.groupResource == groupResource && $0.namespaced }) {
                out.append(r)
            }
        }
        return out
    }

    /// Measures every quota of the namespace and writes the status of those whose status
    /// differs (kube's quota controller `syncResourceQuota`); names Orca cannot measure keep
    /// their last `used`. Returns whether a quota changed while it was measured (so the
    /// caller measures again rather than overwrite a charge made meanwhile).
    @discardableResult
    public func sync() async throws -> Bool {
        guard let r = quotaResource else { return false }
        let quotas = try await quotas()
        guard !quotas.isEmpty else { return false }
        let measured = try await measure(quotas)
        var changed = false
        for quota in quotas {
            let name = quota.metadataName ?? ""
            let hard = ResourceList(json: quota[path: ["spec", "hard"]])
            let used = ResourceList(json: quota[path: ["status", "used"]]).merging(measured[name] ?? ResourceList()).masked(to: hard.names)
            if Self.statusShows(quota, hard: hard, used: used) { continue }
            let seen = quota.resourceVersion
            do {
                _ = try await registry.guaranteedUpdate(r, namespace: namespace, name: name, subresource: "status") { current in
                    guard current.resourceVersion == seen else { throw QuotaChanged() }
                    return Self.withStatus(current, hard: hard, used: used)
                }
            } catch is QuotaChanged {
                changed = true
            } catch let e as APIError where e.code == 404 {
                continue
            }
        }
        return changed
    }

    /// Whether the quota's status already says `hard` and `used` (values compared, not text).
    static func statusShows(_ quota: JSONValue, hard: ResourceList, used: ResourceList) -> Bool {
        guard let statusHard = quota[path: ["status", "hard"]], let statusUsed = quota[path: ["status", "used"]] else { return false }
        return ResourceList(json: statusHard).hasSameValues(as: hard) && ResourceList(json: statusUsed).hasSameValues(as: used)
    }

    /// The quota with `status` = `{hard, used}`.
    static func withStatus(_ quota: JSONValue, hard: ResourceList, used: ResourceList) -> JSONValue {
        var next = quota
        next["status"] = ["hard": hard.json, "used": used.json]
        return next
    }

    /// The quota was written (an admission charge, a new spec) after it was read.
    struct QuotaChanged: Error {}
}
