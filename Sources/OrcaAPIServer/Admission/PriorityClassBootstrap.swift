import OrcaAPI

/// The built-in PriorityClasses kube-apiserver creates at start (its
/// `scheduling/rest.AddSystemPriorityClasses` post-start hook): `system-node-critical` and
/// `system-cluster-critical`, above every user class.
public enum PriorityClassBootstrap {
    /// One built-in class.
    public struct SystemClass: Sendable {
        public var name: String
        public var value: Int64
        public var description: String
    }

    /// `schedulingapiv1.SystemPriorityClasses()`.
    public static let systemClasses: [SystemClass] = [
        SystemClass(name: "system-node-critical", value: PriorityClassStrategy.systemCriticalPriority + 1000,
                    description: "Used for system critical pods that must not be moved from their current node."),
        SystemClass(name: "system-cluster-critical", value: PriorityClassStrategy.systemCriticalPriority,
                    description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ]

    /// Creates each built-in class that does not exist yet. Existing ones are left alone, as
    /// kube-apiserver does (their value may not change anyway).
    public static func ensure(registry: Registry) async throws {
        guard let classes = registry.catalog.resource(group: "scheduling.k8s.io", version: "v1", resource: "priorityclasses") else { return }
        for system in systemClasses {
            if try await registry.read(classes, namespace: nil, name: system.name) != nil { continue }
            let object: JSONValue = [
                "metadata": ["name": .string(system.name)],
                "value": .int(system.value),
                "description": .string(system.description),
            ]
            do {
                _ = try await registry.create(classes, namespace: nil, object: object)
            } catch let e as APIError where e.code == 409 {
                continue  // made by another server meanwhile
            }
        }
    }
}
