import Foundation
import OrcaCore
import Synchronization

/// An `APIClient` whose credentials change while it is in use, as a node's client certificate
/// does when it is renewed: every call goes to the current `HTTPSAPIClient`, and `rotate(to:)`
/// makes a new one current without disturbing the components holding this client.
///
/// Calls already under way on the old client — a watch above all — keep it for a grace period,
/// then it is closed: its watches end and their reflectors watch again, now through the new
/// client (the kubelet closes its old connections at once; the grace lets short requests
/// finish). Call `shutdown()` when done.
public final class RotatingAPIClient: APIClient {
    public let catalog: ResourceCatalog

    struct State {
        var current: HTTPSAPIClient
        /// Replaced clients not closed yet.
        var retiring: [HTTPSAPIClient] = []
        var shutDown = false
    }

    private let state: Mutex<State>

    public init(_ client: HTTPSAPIClient) {
        catalog = client.catalog
        state = Mutex(State(current: client))
    }

    /// The client calls go to now.
    public var current: HTTPSAPIClient { state.withLock { $0.current } }

    /// Makes `client` current, waits `grace` on `clock` and closes the client it replaced;
    /// returns once that is closed (at once if the task is cancelled). After `shutdown()`,
    /// `client` itself is closed instead.
    public func rotate(to client: HTTPSAPIClient, grace: Duration = .seconds(60), clock: any WallClock = SystemClock()) async {
        let old: HTTPSAPIClient? = state.withLock { s in
            if s.shutDown { return nil }
            let old = s.current
            s.current = client
            s.retiring.append(old)
            return old
        }
        guard let old else {
            try? await client.shutdown()
            return
        }
        try? await clock.sleep(for: grace)
        let mine = state.withLock { s -> Bool in
            guard let i = s.retiring.firstIndex(where: { $0 === old }) else { return false }
            s.retiring.remove(at: i)
            return true
        }
        if mine { try? await old.shutdown() }
    }

    /// Closes the current client and any replaced one still in its grace period.
    public func shutdown() async throws {
        let clients = state.withLock { s -> [HTTPSAPIClient] in
            if s.shutDown { return [] }
            s.shutDown = true
            let all = [s.current] + s.retiring
            s.retiring = []
            return all
        }
        for c in clients { try? await c.shutdown() }
    }

    // MARK: APIClient

    public func get(_ r: ResourceType, namespace: String?, name: String) async throws -> JSONValue {
        try await current.get(r, namespace: namespace, name: name)
    }

    public func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue {
        try await current.list(r, namespace: namespace, options: options)
    }

    public func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error> {
        try await current.watch(r, namespace: namespace, options: options)
    }

    public func create(_ r: ResourceType, namespace: String?, object: JSONValue) async throws -> JSONValue {
        try await current.create(r, namespace: namespace, object: object)
    }

    public func update(_ r: ResourceType, namespace: String?, name: String, object: JSONValue, subresource: String?) async throws -> JSONValue {
        try await current.update(r, namespace: namespace, name: name, object: object, subresource: subresource)
    }

    public func mergePatch(_ r: ResourceType, namespace: String?, name: String, patch: JSONValue, subresource: String?) async throws -> JSONValue {
        try await current.mergePatch(r, namespace: namespace, name: name, patch: patch, subresource: subresource)
    }

    public func delete(_ r: ResourceType, namespace: String?, name: String, options: DeletionOptions) async throws {
        try await current.delete(r, namespace: namespace, name: name, options: options)
    }

    public func bind(namespace: String, name: String, node: String) async throws {
        try await current.bind(namespace: namespace, name: name, node: node)
    }

    public func create(_ r: ResourceType, namespace: String?, name: String, subresource: String, object: JSONValue) async throws -> JSONValue {
        try await current.create(r, namespace: namespace, name: name, subresource: subresource, object: object)
    }
}
