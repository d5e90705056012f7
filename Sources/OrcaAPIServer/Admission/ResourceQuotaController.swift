import Logging
import OrcaAPI

/// kube-controller-manager's resourcequota controller, in the API server: keeps every
/// ResourceQuota's `status` (`hard` = `spec.hard`, `used` measured from the objects stored)
/// current, so `kubectl describe quota` shows Used/Hard and deleted or finished objects give
/// their quota back. A pass runs at start and whenever quotas, pods, services, ConfigMaps,
/// Secrets, claims or ReplicationControllers change; other kinds counted by `count/…` are
/// measured again on those passes (and charged at once by the admission).
public struct ResourceQuotaController: Sendable {
    let registry: Registry
    let logger: Logger

    public init(registry: Registry, logger: Logger = Logger(label: "orca.apiserver.resourcequota")) {
        self.registry = registry
        self.logger = logger
    }

    /// Follows the changes until cancelled.
    public func run() async {
        let resources = ResourceQuotaUsage.measuredKinds.compactMap {
            registry.catalog.resource(group: "", version: "v1", resource: $0)
        }
        await RegistryResyncLoop(registry: registry, resources: resources, logger: logger).run { try await sync() }
    }

    /// Measures every namespace that has a quota and writes the statuses that changed.
    /// Returns whether a namespace must be measured again soon (a quota changed meanwhile, or
    /// a namespace failed).
    @discardableResult
    public func sync() async throws -> Bool {
        guard let r = registry.catalog.resource(group: "", version: "v1", resource: "resourcequotas") else { return false }
        let quotas = try await registry.list(r, namespace: nil, options: ListOptions())["items"]?.arrayValue ?? []
        let namespaces = Set(quotas.compactMap(\.metadataNamespace)).sorted()
        var pending = false
        for namespace in namespaces {
            do {
                if try await ResourceQuotaUsage(registry: registry, namespace: namespace).sync() { pending = true }
            } catch {
                logger.warning("resource quotas of namespace \(namespace): \(error)")
                pending = true
            }
        }
        return pending
    }
}
