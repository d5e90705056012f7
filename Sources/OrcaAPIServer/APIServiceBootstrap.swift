import OrcaAPI

/// The APIServices kube-apiserver registers for the group versions it serves itself (the
/// aggregator's `autoregister` controller): `v1` for the core group, `v1.apps` and so on, local
/// (no Service), `Available` from the start, and labelled `automanaged: onstart`.
public enum APIServiceBootstrap {
    /// kube-apiserver's `apiVersionPriorities`: (group priority minimum, version priority).
    static let priorities: [String: (Int64, Int64)] = [
        "": (18000, 1), "apiregistration.k8s.io": (18000, 15), "apps": (17800, 15), "events.k8s.io": (17750, 15),
        "authentication.k8s.io": (17700, 15), "authorization.k8s.io": (17600, 15), "autoscaling": (17500, 15),
        "batch": (17400, 15), "certificates.k8s.io": (17300, 15), "networking.k8s.io": (17200, 15), "policy": (17100, 15),
        "rbac.authorization.k8s.io": (17000, 15), "storage.k8s.io": (16800, 15), "apiextensions.k8s.io": (16700, 15),
        "admissionregistration.k8s.io": (16700, 15), "scheduling.k8s.io": (16600, 15), "coordination.k8s.io": (16500, 15),
        "node.k8s.io": (16300, 15), "discovery.k8s.io": (16200, 15), "flowcontrol.apiserver.k8s.io": (16100, 21),
    ]

    /// The APIService name of a group version (`v1.apps`; `v1` for the core group).
    static func name(group: String, version: String) -> String { group.isEmpty ? version : "\(version).\(group)" }

    /// Creates the APIService of each built-in group version that has none, with its status.
    public static func ensure(registry: Registry) async throws {
        guard let services = registry.catalog.resource(group: "apiregistration.k8s.io", version: "v1", resource: "apiservices") else { return }
        var groupVersions: [(String, String)] = []
        for r in registry.served.builtIn.resources where !groupVersions.contains(where: { $0 == (r.group, r.version) }) {
            groupVersions.append((r.group, r.version))
        }
        let now = KubernetesTime.string(registry.clock())
        // One list at start rather than a read per group version.
        let existing = Set((try await registry.list(services, namespace: nil, options: ListOptions())["items"]?.arrayValue ?? [])
            .compactMap(\.metadataName))
        for (group, version) in groupVersions {
            let name = Self.name(group: group, version: version)
            if existing.contains(name) { continue }
            let (groupPriority, versionPriority) = priorities[group] ?? (1000, 15)
            let object: JSONValue = [
                "metadata": ["name": .string(name), "labels": ["kube-aggregator.kubernetes.io/automanaged": "onstart"]],
                "spec": ["group": .string(group), "version": .string(version),
                         "groupPriorityMinimum": .int(groupPriority), "versionPriority": .int(versionPriority)],
            ]
            do {
                _ = try await registry.create(services, namespace: nil, object: object)
            } catch let e as APIError where e.code == 409 {
                continue  // made by another server meanwhile
            }
            _ = try await registry.guaranteedUpdate(services, namespace: nil, name: name, subresource: "status") { current in
                var next = current
                next["status"] = ["conditions": [[
                    "type": "Available", "status": "True", "lastTransitionTime": .string(now),
                    "reason": "Local", "message": "Local APIServices are always available",
                ]]]
                return next
            }
        }
    }
}
