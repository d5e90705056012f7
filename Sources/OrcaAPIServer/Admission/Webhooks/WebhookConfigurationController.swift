import Foundation
import Logging
import OrcaAPI

/// Keeps `WebhookConfigurationStore` current, in the API server: reads every
/// MutatingWebhookConfiguration and ValidatingWebhookConfiguration, then again whenever one
/// changes, and replaces the snapshot admission calls webhooks from.
public struct WebhookConfigurationController: Sendable {
    let registry: Registry
    let store: WebhookConfigurationStore
    let logger: Logger

    static let group = "admissionregistration.k8s.io"
    static let mutatingConfigurations = ResourceCatalog.standard.resource(group: group, version: "v1", resource: "mutatingwebhookconfigurations")!
    static let validatingConfigurations = ResourceCatalog.standard.resource(group: group, version: "v1", resource: "validatingwebhookconfigurations")!

    public init(registry: Registry, store: WebhookConfigurationStore,
                logger: Logger = Logger(label: "orca.apiserver.admission-webhooks")) {
        self.registry = registry
        self.store = store
        self.logger = logger
    }

    /// Follows every change of both configuration kinds until cancelled.
    public func run() async {
        let resources = [Self.mutatingConfigurations, Self.validatingConfigurations]
        await RegistryResyncLoop(registry: registry, resources: resources, logger: logger).run { try await sync() }
    }

    /// Reads both kinds and replaces the snapshot. Returns false: nothing is left to retry.
    @discardableResult
    public func sync() async throws -> Bool {
        let mutating: [MutatingWebhookConfiguration] = try await registry.decodedItems(Self.mutatingConfigurations, logger: logger)
        let validating: [ValidatingWebhookConfiguration] = try await registry.decodedItems(Self.validatingConfigurations, logger: logger)
        store.replace(mutating: mutating, validating: validating)
        return false
    }
}
