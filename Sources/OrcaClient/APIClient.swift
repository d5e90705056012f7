import Foundation
@_exported import OrcaAPI

/// The client every component uses to talk to the API server: HTTPS to a remote server,
/// or, inside `orca server`, an in-process transport to the registry with the same semantics.
public protocol APIClient: Sendable {
    var catalog: ResourceCatalog { get }
    func get(_ r: ResourceType, namespace: String?, name: String) async throws -> JSONValue
    func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue
    func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error>
    func create(_ r: ResourceType, namespace: String?, object: JSONValue) async throws -> JSONValue
    func update(_ r: ResourceType, namespace: String?, name: String, object: JSONValue, subresource: String?) async throws -> JSONValue
    /// A JSON merge patch (RFC 7386) of the object or a subresource.
    func mergePatch(_ r: ResourceType, namespace: String?, name: String, patch: JSONValue, subresource: String?) async throws -> JSONValue
    func delete(_ r: ResourceType, namespace: String?, name: String, options: DeletionOptions) async throws
    func bind(namespace: String, name: String, node: String) async throws
    /// POSTs `object` to a subresource of one object (`serviceaccounts/<name>/token`) and
    /// returns the answer.
    func create(_ r: ResourceType, namespace: String?, name: String, subresource: String, object: JSONValue) async throws -> JSONValue
}

extension APIClient {
    /// Subresource creation is not offered by every transport (test doubles).
    public func create(_ r: ResourceType, namespace: String?, name: String, subresource: String, object: JSONValue) async throws -> JSONValue {
        throw APIError.methodNotAllowed("this client does not create \(r.resource)/\(subresource)")
    }

    /// The resource of a core/v1 or named group kind, e.g. `resource("pods")`.
    public func resource(_ plural: String, group: String = "", version: String = "v1") -> ResourceType {
        guard let r = catalog.resource(group: group, version: version, resource: plural) else {
            fatalError("unknown resource \(plural).\(group)/\(version)")
        }
        return r
    }

    /// Decodes the object as a typed value.
    public func get<T: Decodable>(_ type: T.Type, _ r: ResourceType, namespace: String?, name: String) async throws -> T {
        try await get(r, namespace: namespace, name: name).decode(T.self)
    }
}
