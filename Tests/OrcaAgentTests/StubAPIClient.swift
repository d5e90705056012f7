import OrcaClient

/// A test double of `APIClient` that answers only what its type implements: every other call
/// fails with `StubAPIClientUnsupported`.
protocol StubAPIClient: APIClient {}

/// The error of a call a `StubAPIClient` does not answer.
struct StubAPIClientUnsupported: Error {}

extension StubAPIClient {
    func get(_ r: ResourceType, namespace: String?, name: String) async throws -> JSONValue { throw StubAPIClientUnsupported() }
    func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue { throw StubAPIClientUnsupported() }
    func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error> {
        throw StubAPIClientUnsupported()
    }
    func create(_ r: ResourceType, namespace: String?, object: JSONValue) async throws -> JSONValue { throw StubAPIClientUnsupported() }
    func update(_ r: ResourceType, namespace: String?, name: String, object: JSONValue, subresource: String?) async throws -> JSONValue {
        throw StubAPIClientUnsupported()
    }
    func mergePatch(_ r: ResourceType, namespace: String?, name: String, patch: JSONValue, subresource: String?) async throws -> JSONValue {
        throw StubAPIClientUnsupported()
    }
    func delete(_ r: ResourceType, namespace: String?, name: String, options: DeletionOptions) async throws { throw StubAPIClientUnsupported() }
    func bind(namespace: String, name: String, node: String) async throws { throw StubAPIClientUnsupported() }
}
