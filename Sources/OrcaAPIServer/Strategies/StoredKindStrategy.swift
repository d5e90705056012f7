import OrcaAPI

/// Kinds Orca stores and serves without acting on them (CSI objects, Ingresses, NetworkPolicies,
/// RuntimeClasses, flow control, APIServices): a create starts with an empty status when the
/// kind has a status subresource, as kube's strategies do; and a kind whose behaviour Orca does
/// not provide says so in a Warning on every write.
struct StoredKindStrategy: ResourceStrategy {
    /// The Warning of every create and update (nil: none).
    var warning: String?

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        if context.resource.subresources.contains("status") { object["status"] = nil }
        if let warning { AdmissionWarnings.add(warning) }
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        if let warning { AdmissionWarnings.add(warning) }
    }

    /// The strategies of the stored-only kinds, by group resource.
    static var all: [String: any ResourceStrategy] {
        let stored = StoredKindStrategy()
        var out: [String: any ResourceStrategy] = [:]
        for name in ["volumeattachments.storage.k8s.io", "csidrivers.storage.k8s.io", "csinodes.storage.k8s.io",
                     "csistoragecapacities.storage.k8s.io", "ingressclasses.networking.k8s.io", "runtimeclasses.node.k8s.io",
                     "flowschemas.flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io",
                     "apiservices.apiregistration.k8s.io"] {
            out[name] = stored
        }
        out["ingresses.networking.k8s.io"] = StoredKindStrategy(
            warning: "Orca stores Ingresses but does not route them: no ingress controller acts on this object")
        out["networkpolicies.networking.k8s.io"] = StoredKindStrategy(
            warning: "Orca stores NetworkPolicies but does not enforce them yet: pod traffic is not restricted by this policy")
        return out
    }
}
