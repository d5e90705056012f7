import Foundation
import OrcaAPIServer
import OrcaClient

/// The in-process transport for components inside `orca server`: calls the `Registry`'s request
/// entry points directly, with the semantics of the HTTPS API (pruning, validation,
/// resourceVersion preconditions) and without its encoding and round trip.
public struct LocalAPIClient: APIClient {
    public let registry: Registry
    /// Issues ServiceAccount tokens (`serviceaccounts/<name>/token`) for the embedded node.
    public let serviceAccountTokens: ServiceAccountTokens?

    public init(registry: Registry, serviceAccountTokens: ServiceAccountTokens? = nil) {
        self.registry = registry
        self.serviceAccountTokens = serviceAccountTokens
    }

    public var catalog: ResourceCatalog { registry.catalog }

    public func get(_ r: ResourceType, namespace: String?, name: String) async throws -> JSONValue {
        try await wrap(r, name) { try await registry.get(r, namespace: namespace, name: name) }
    }
    public func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue {
        try await wrap(r, nil) { try await registry.list(r, namespace: namespace, options: options) }
    }
    public func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error> {
        try await registry.watch(r, namespace: namespace, options: options)
    }
    public func create(_ r: ResourceType, namespace: String?, object: JSONValue) async throws -> JSONValue {
        try await wrap(r, object.metadataName) { try await registry.createRequest(r, namespace: namespace, object: object) }
    }
    public func update(_ r: ResourceType, namespace: String?, name: String, object: JSONValue, subresource: String?) async throws -> JSONValue {
        try await wrap(r, name) { try await registry.updateRequest(r, namespace: namespace, name: name, object: object, subresource: subresource) }
    }
    public func mergePatch(_ r: ResourceType, namespace: String?, name: String, patch: JSONValue, subresource: String?) async throws -> JSONValue {
        try await wrap(r, name) {
            try await registry.mergePatchRequest(r, namespace: namespace, name: name, patch: patch, subresource: subresource)
        }
    }
    public func delete(_ r: ResourceType, namespace: String?, name: String, options: DeletionOptions) async throws {
        _ = try await wrap(r, name) { try await registry.delete(r, namespace: namespace, name: name, options: options).object }
    }
    public func bind(namespace: String, name: String, node: String) async throws {
        let pods = catalog.resource(group: "", version: "v1", resource: "pods")!
        _ = try await wrap(pods, name) { try await registry.bind(pods, namespace: namespace, name: name, node: node) }
    }

    public func create(_ r: ResourceType, namespace: String?, name: String, subresource: String, object: JSONValue) async throws -> JSONValue {
        guard r.group.isEmpty, r.resource == "serviceaccounts", subresource == "token", let tokens = serviceAccountTokens else {
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        return try await wrap(r, name) {
            let request = try object.decode(AuthenticationV1TokenRequest.self)
            let issued = try await tokens.issuer.issue(namespace: namespace ?? "default", serviceAccountName: name, request: request,
                                                       registry: registry)
            return try JSONValue(encoding: issued)
        }
    }

    func wrap(_ r: ResourceType, _ name: String?, _ body: () async throws -> JSONValue) async throws -> JSONValue {
        do { return try await body() } catch { throw APIError.from(error, resource: r, name: name) }
    }
}
