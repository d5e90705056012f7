import OrcaAPI

/// kube-apiserver's ResourceQuota admission: a write that would take a namespace's quota over
/// its `spec.hard` is refused with 403 —
/// `pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2` —
/// and an admitted one is charged to the quotas' `status.used` before it is stored, as kube
/// does (`ResourceQuotaController` later gives back what deleted and finished objects held).
///
/// Charged: creates of any namespaced object (`count/<resource>[.<group>]`, legacy counts,
/// pod compute, service and claim usage), updates of services and claims by what they add,
/// and pod updates that move the pod into a quota's Terminating/NotTerminating scope. A quota
/// applies when it limits a name the object uses and the object is in all its scopes (only
/// pods are in any). A pod under a quota of cpu or memory must set them in every container
/// (`failed quota: q: must specify limits.cpu for: c; requests.cpu for: c`). A dry run is
/// checked but charges nothing.
///
/// A quota's usage before the write is what its objects use now or, where more, what its
/// status says (a write admitted but not stored yet); the charge is written with
/// compare-and-swap, so concurrent writes cannot both take the last unit. Run it last.
public struct ResourceQuotaAdmission: AdmissionPlugin {
    public let name = "ResourceQuota"

    public init() {}

    public func validate(_ a: AdmissionAttributes, registry: Registry) async throws {
        guard let namespace = a.namespace, let object = a.object else { return }
        let evaluator = ResourceQuotaEvaluator(resource: a.resource, now: registry.clock())
        guard evaluator.handles(a) else { return }
        let usage = ResourceQuotaUsage(registry: registry, namespace: namespace)
        let quotas = try await usage.quotas()
        guard !quotas.isEmpty, let quotaResource = usage.quotaResource else { return }
        var charges: [(quota: JSONValue, delta: ResourceList)] = []
        for quota in quotas where evaluator.matches(quota: quota, object: object) {
            let hard = ResourceList(json: quota[path: ["spec", "hard"]])
            if let missing = evaluator.missingRequirements(evaluator.matchingResources(hard.names), in: object) {
                throw a.forbidden("failed quota: \(quota.metadataName ?? ""): \(missing)")
            }
            var delta = evaluator.usage(object)
            // An update pays only what it adds to a quota the old object was charged to already.
            if a.operation == .update, let old = a.oldObject, evaluator.matches(quota: quota, object: old) {
                delta = delta.subtractingToZero(evaluator.usage(old))
            }
            delta = delta.removingZeros().masked(to: hard.names)
            if !delta.isEmpty { charges.append((quota, delta)) }
        }
        guard !charges.isEmpty else { return }
        let measured = try await usage.measure(charges.map(\.quota))
        for (quota, delta) in charges {
            _ = try Self.charge(quota, delta, measured: measured[quota.metadataName ?? ""] ?? ResourceList(), a)
        }
        if a.dryRun { return }
        for (quota, delta) in charges {
            let name = quota.metadataName ?? ""
            let live = measured[name] ?? ResourceList()
            do {
                _ = try await registry.guaranteedUpdate(quotaResource, namespace: namespace, name: name, subresource: "status") { current in
                    try Self.charge(current, delta, measured: live, a)
                }
            } catch let e as APIError where e.code == 404 && e.reason == "NotFound" {
                continue  // the quota went away meanwhile
            }
        }
    }

    /// The quota charged `delta` (its status `hard` and `used` set), or the 403 of kube's
    /// quota evaluator when that takes a name over its hard limit.
    static func charge(_ quota: JSONValue, _ delta: ResourceList, measured: ResourceList, _ a: AdmissionAttributes) throws -> JSONValue {
        let hard = ResourceList(json: quota[path: ["spec", "hard"]])
        var used = ResourceList(json: quota[path: ["status", "used"]])
        used.raise(to: measured)
        used = used.masked(to: hard.names)
        let requested = delta.masked(to: hard.names)
        let next = used.adding(requested)
        let exceeded = Set(next.masked(to: requested.names).exceeding(hard))
        if !exceeded.isEmpty {
            throw a.forbidden("exceeded quota: \(quota.metadataName ?? ""), requested: \(requested.masked(to: exceeded).prettyPrinted), "
                + "used: \(used.masked(to: exceeded).prettyPrinted), limited: \(hard.masked(to: exceeded).prettyPrinted)")
        }
        return ResourceQuotaUsage.withStatus(quota, hard: hard, used: next)
    }
}
