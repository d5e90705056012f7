import Foundation
import OrcaAPI

/// How quota measures the objects of one resource (kube's `quota.Evaluator`): which quota
/// names it accounts for, what one object uses, which quotas (scopes) apply to an object,
/// and which writes are charged.
///
/// Pods use `pods`, `count/pods`, `cpu`/`requests.cpu`, `limits.cpu`, the same for `memory`
/// and `ephemeral-storage`, hugepages and extended `requests.*`; a pod that has finished
/// (Succeeded/Failed), or whose deletion grace period is over, only keeps `count/pods`.
/// Services use `services`, `services.loadbalancers` and `services.nodeports`, claims
/// `persistentvolumeclaims`, `requests.storage` and the per-StorageClass forms; every
/// resource is counted as `count/<resource>[.<group>]`, and ConfigMaps, Secrets,
/// ReplicationControllers and ResourceQuotas also under their legacy names.
struct ResourceQuotaEvaluator: Sendable {
    let resource: ResourceType
    /// The time a deleted pod's grace period is compared with.
    let now: Date

    /// `count/<resource>` (core) or `count/<resource>.<group>`.
    var countName: String { "count/" + resource.groupResource }

    /// The plural of a core resource ("" for other groups), which picks the evaluator.
    var coreResource: String { resource.group.isEmpty ? resource.resource : "" }

    static let legacyCountNames: [String: String] = [
        "configmaps": "configmaps", "secrets": "secrets", "replicationcontrollers": "replicationcontrollers",
        "resourcequotas": "resourcequotas",
    ]
    static let podNames: Set<String> = [
        "count/pods", "pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
        "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
    ]
    static let serviceNames: Set<String> = ["services", "count/services", "services.loadbalancers", "services.nodeports"]
    static let claimNames: Set<String> = ["persistentvolumeclaims", "count/persistentvolumeclaims", "requests.storage"]
    static let storageClassSuffix = ".storageclass.storage.k8s.io/"
    /// Quota names whose pods must say, container by container, what they ask (kube's
    /// backward-compatible `validationSet`).
    static let mustSpecify: Set<String> = ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]

    /// The quota names of `names` this resource accounts for (`MatchingResources`).
    func matchingResources(_ names: Set<String>) -> Set<String> {
        switch coreResource {
        case "pods":
            return names.filter { name in
                Self.podNames.contains(name) || name.hasPrefix("hugepages-") || name.hasPrefix("requests.hugepages-")
                    || name.hasPrefix("requests.") && Self.isExtended(String(name.dropFirst("requests.".count)))
            }
        case "services":
            return names.intersection(Self.serviceNames)
        case "persistentvolumeclaims":
            return names.filter { name in
                Self.claimNames.contains(name) || name.contains(Self.storageClassSuffix)
                    && (name.hasSuffix("/requests.storage") || name.hasSuffix("/persistentvolumeclaims"))
            }
        default:
            var own: Set<String> = [countName]
            if let legacy = Self.legacyCountNames[coreResource] { own.insert(legacy) }
            return names.intersection(own)
        }
    }

    /// What one object uses.
    func usage(_ object: JSONValue) -> ResourceList {
        let one = Quantity("1")
        var used = ResourceList([countName: one])
        switch coreResource {
        case "pods":
            guard Self.charged(object, now: now) else { return used }
            used = used.merging(Self.computeUsage(requests: .podRequests(object, overhead: true),
                                                  limits: .podLimits(object, overhead: true)))
        case "services":
            used["services"] = one
            let ports = Int64(object[path: ["spec", "ports"]]?.arrayValue?.count ?? 0)
            switch object[path: ["spec", "type"]]?.stringValue {
            case "NodePort":
                used["services.nodeports"] = Quantity(value: ports)
            case "LoadBalancer":
                used["services.loadbalancers"] = one
                if object[path: ["spec", "allocateLoadBalancerNodePorts"]]?.boolValue == false {
                    let explicit = object[path: ["spec", "ports"]]?.arrayValue?.filter { ($0["nodePort"]?.intValue ?? 0) != 0 }.count ?? 0
                    used["services.nodeports"] = Quantity(value: Int64(explicit))
                } else {
                    used["services.nodeports"] = Quantity(value: ports)
                }
            default:
                break
            }
        case "persistentvolumeclaims":
            used["persistentvolumeclaims"] = one
            let className = object[path: ["spec", "storageClassName"]]?.stringValue
                ?? object[path: ["metadata", "annotations", "volume.beta.kubernetes.io/storage-class"]]?.stringValue ?? ""
            if !className.isEmpty { used[className + Self.storageClassSuffix + "persistentvolumeclaims"] = one }
            if let request = ResourceList(json: object[path: ["spec", "resources", "requests"]])["storage"] {
                let rounded = Quantity(value: request.value, format: request.format ?? .decimalSI)
                used["requests.storage"] = rounded
                if !className.isEmpty { used[className + Self.storageClassSuffix + "requests.storage"] = rounded }
            }
        default:
            if let legacy = Self.legacyCountNames[coreResource] { used[legacy] = one }
        }
        return used
    }

    /// `podComputeUsageHelper`: the quota names requests and limits fill.
    static func computeUsage(requests: ResourceList, limits: ResourceList) -> ResourceList {
        var used = ResourceList(["pods": Quantity("1")])
        for name in ["cpu", "memory", "ephemeral-storage"] {
            if let request = requests[name] {
                used[name] = request
                used["requests." + name] = request
            }
            if let limit = limits[name] { used["limits." + name] = limit }
        }
        for (name, request) in requests.quantities {
            if name.hasPrefix("hugepages-") {
                used[name] = request
                used["requests." + name] = request
            } else if isExtended(name) {
                used["requests." + name] = request
            }
        }
        return used
    }

    /// An extended resource (`example.com/gpu`): one outside the `kubernetes.io` domain.
    static func isExtended(_ name: String) -> Bool {
        name.contains("/") && !name.contains("kubernetes.io/")
    }

    /// `QuotaV1Pod`: whether a pod still uses what it asks — it has not finished, and its
    /// deletion (if any) is not past its grace period.
    static func charged(_ pod: JSONValue, now: Date) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return false }
        if let deletion = KubernetesTime.date(pod.deletionTimestamp),
           let grace = pod[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue,
           now > deletion.addingTimeInterval(TimeInterval(grace)) {
            return false
        }
        return true
    }

    /// Whether `quota` applies to `object`: it limits a name this resource accounts for, and
    /// the object is in every scope (only pods are in any).
    func matches(quota: JSONValue, object: JSONValue) -> Bool {
        guard !matchingResources(ResourceList(json: quota[path: ["spec", "hard"]]).names).isEmpty else { return false }
        return inScopes(of: quota, object)
    }

    /// Whether `object` is in every scope of `quota` (`spec.scopes` and `spec.scopeSelector`).
    func inScopes(of quota: JSONValue, _ object: JSONValue) -> Bool {
        var selectors: [JSONValue] = (quota[path: ["spec", "scopes"]]?.arrayValue ?? []).map {
            ["scopeName": $0, "operator": "Exists"]
        }
        selectors += quota[path: ["spec", "scopeSelector", "matchExpressions"]]?.arrayValue ?? []
        return selectors.allSatisfy { coreResource == "pods" && Self.podMatches($0, object) }
    }

    /// Whether this write is charged (kube's `Handles`): creates; updates of services and
    /// claims (type and size change), and of pods whose Terminating scope changes.
    func handles(_ a: AdmissionAttributes) -> Bool {
        guard a.subresource == nil else { return false }
        switch (a.operation, coreResource) {
        case (.create, _): return true
        case (.update, "services"), (.update, "persistentvolumeclaims"): return true
        case (.update, "pods"):
            guard let new = a.object, let old = a.oldObject else { return false }
            return Self.isTerminating(new) != Self.isTerminating(old)
        default: return false
        }
    }

    /// kube's pod `Constraints`: when a quota limits cpu or memory, each container must set
    /// them — `must specify limits.cpu for: a,b; requests.memory for: b` (nil when all do).
    func missingRequirements(_ required: Set<String>, in pod: JSONValue) -> String? {
        guard coreResource == "pods" else { return nil }
        let needed = required.intersection(Self.mustSpecify)
        guard !needed.isEmpty else { return nil }
        var missing: [String: Set<String>] = [:]
        for list in ["containers", "initContainers"] {
            for c in pod[path: ["spec", list]]?.arrayValue ?? [] {
                let has = Self.computeUsage(requests: .container(c, "requests"), limits: .container(c, "limits")).names
                for name in needed.subtracting(has) { missing[name, default: []].insert(c["name"]?.stringValue ?? "") }
            }
        }
        guard !missing.isEmpty else { return nil }
        let parts = missing.keys.sorted().map { "\($0) for: \(missing[$0]!.sorted().joined(separator: ","))" }
        return "must specify " + parts.joined(separator: "; ")
    }
}
