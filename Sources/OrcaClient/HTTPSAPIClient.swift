import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OrcaCore

/// The HTTPS transport of `APIClient`: the Kubernetes REST API of a server named by a
/// kubeconfig, with the semantics of the in-process transport — the same JSON objects
/// back, the same `APIError`s thrown (decoded from the `Status` body), watches as streams
/// of `APIWatchEvent`s read from the line-delimited watch body.
///
/// A watch the server ends with an `ERROR` event (410 Gone for an expired
/// resourceVersion) yields that event, its object the `Status`; the stream then ends.
/// A 429 that says when to come back (`Retry-After`, the server's in-flight limit) is
/// retried after that long, up to `maxRetries` times, as client-go does.
///
/// Call `shutdown()` when done.
public final class HTTPSAPIClient: APIClient {
    public let catalog: ResourceCatalog
    /// The raw requests underneath.
    public let rest: RESTClient
    /// How long a request may wait for its response head.
    public let requestTimeout: TimeAmount
    /// How many times a 429 with `Retry-After` is retried.
    public let maxRetries: Int

    /// A client of the kubeconfig's server.
    public convenience init(kubeconfig: Kubeconfig, catalog: ResourceCatalog = .standard,
                            requestTimeout: TimeAmount = .seconds(120), maxRetries: Int = 10) throws {
        self.init(rest: try RESTClient(kubeconfig: kubeconfig), catalog: catalog, requestTimeout: requestTimeout, maxRetries: maxRetries)
    }

    /// A client over an existing `RESTClient` (whose `shutdown()` this client's closes).
    public init(rest: RESTClient, catalog: ResourceCatalog = .standard, requestTimeout: TimeAmount = .seconds(120),
                maxRetries: Int = 10) {
        self.rest = rest
        self.catalog = catalog
        self.requestTimeout = requestTimeout
        self.maxRetries = maxRetries
    }

    /// The server base URL, e.g. `https://127.0.0.1:6443`.
    public var server: String { rest.base }

    /// Closes all connections; open watches end.
    public func shutdown() async throws {
        try await rest.shutdown()
    }

    // MARK: APIClient

    public func get(_ r: ResourceType, namespace: String?, name: String) async throws -> JSONValue {
        try await object(.GET, Self.path(r, namespace: namespace, name: name))
    }

    public func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue {
        var options = options
        options.watch = false
        return try await object(.GET, Self.path(r, namespace: namespace) + RESTClient.query(options.queryItems))
    }

    public func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error> {
        var options = options
        options.watch = true
        let path = Self.path(r, namespace: namespace) + RESTClient.query(options.queryItems)
        var attempt = 0
        while true {
            let response: RESTClient.StreamingResponse
            do { response = try await rest.stream(path, timeout: requestTimeout) } catch { throw Self.transportError(error, .GET, path) }
            if response.status == 200 {
                let reader = WatchEventReader(body: response.body)
                return AsyncThrowingStream(unfolding: { try await reader.next() })
            }
            let body: ByteBuffer
            do { body = try await response.body.collect(upTo: 16 << 20) } catch { throw Self.transportError(error, .GET, path) }
            let error = APIError(httpStatus: response.status, retryAfter: response.headers.first(name: "Retry-After"),
                                 body: body.readableBytesView)
            try await backOff(error, attempt: &attempt)
        }
    }

    public func create(_ r: ResourceType, namespace: String?, object: JSONValue) async throws -> JSONValue {
        // As the registry does: a namespaced object goes to `namespace`, else its own, else `default`.
        let ns = r.namespaced ? (namespace ?? object.metadataNamespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default") : nil
        return try await self.object(.POST, Self.path(r, namespace: ns), body: object)
    }

    public func update(_ r: ResourceType, namespace: String?, name: String, object: JSONValue, subresource: String?) async throws -> JSONValue {
        try await self.object(.PUT, Self.path(r, namespace: namespace, name: name, subresource: subresource), body: object)
    }

    public func mergePatch(_ r: ResourceType, namespace: String?, name: String, patch: JSONValue, subresource: String?) async throws -> JSONValue {
        try await object(.PATCH, Self.path(r, namespace: namespace, name: name, subresource: subresource), body: patch,
                         contentType: "application/merge-patch+json")
    }

    public func delete(_ r: ResourceType, namespace: String?, name: String, options: DeletionOptions) async throws {
        _ = try await object(.DELETE, Self.path(r, namespace: namespace, name: name), body: options.deleteOptionsBody)
    }

    public func create(_ r: ResourceType, namespace: String?, name: String, subresource: String, object: JSONValue) async throws -> JSONValue {
        try await self.object(.POST, Self.path(r, namespace: namespace, name: name, subresource: subresource), body: object)
    }

    public func bind(namespace: String, name: String, node: String) async throws {
        guard let pods = catalog.resource(group: "", version: "v1", resource: "pods") else {
            throw APIError.pathNotFound("pods/binding")
        }
        let binding: JSONValue = [
            "apiVersion": "v1", "kind": "Binding",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node)],
        ]
        _ = try await object(.POST, Self.path(pods, namespace: namespace, name: name, subresource: "binding"), body: binding)
    }

    // MARK: requests

    /// Sends one request and returns the JSON it answered with, or throws its `APIError`.
    func object(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, contentType: String = "application/json") async throws -> JSONValue {
        let bytes = body?.encoded()
        var attempt = 0
        while true {
            let response: RESTClient.Response
            do {
                response = try await rest.send(method, path, body: bytes, contentType: contentType, timeout: requestTimeout)
            } catch {
                throw Self.transportError(error, method, path)
            }
            if response.isSuccess {
                do { return try response.json() } catch {
                    throw OrcaError(.internalError, "\(method.rawValue) \(path): the server answered \(response.status) with a body that is not JSON: \(response.text.prefix(200))",
                                    cause: error)
                }
            }
            let error = APIError(httpStatus: response.status, retryAfter: response.headers.first(name: "Retry-After"),
                                 body: response.body.readableBytesView)
            try await backOff(error, attempt: &attempt)
        }
    }

    /// Waits out a 429 that says when to come back and returns, or throws `error`.
    func backOff(_ error: APIError, attempt: inout Int) async throws {
        guard error.code == 429, let seconds = error.retryAfterSeconds, attempt < maxRetries else { throw error }
        attempt += 1
        try await Task.sleep(for: .seconds(min(max(seconds, 1), 60)))
    }

    /// A failure below HTTP (connect, TLS, reset) with the request it broke; cancellation
    /// stays a `CancellationError`.
    static func transportError(_ error: any Error, _ method: HTTPMethod, _ path: String) -> any Error {
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        if let e = error as? HTTPClientError, e == .deadlineExceeded {
            return OrcaError(.timeout, "\(method.rawValue) \(path): no response in time", cause: error)
        }
        return OrcaError(.unavailable, "\(method.rawValue) \(path)", cause: error)
    }

    /// The URL path of a resource's collection, or of one object and its subresource:
    /// `/api/v1/namespaces/ns/pods/name/status`, `/apis/apps/v1/deployments`.
    public static func path(_ r: ResourceType, namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = r.group.isEmpty ? "/api/\(r.version)" : "/apis/\(r.group)/\(r.version)"
        if r.namespaced, let namespace, !namespace.isEmpty { path += "/namespaces/" + RESTClient.escape(namespace) }
        path += "/" + r.resource
        if let name { path += "/" + RESTClient.escape(name) }
        if let name = name, !name.isEmpty, let subresource, !subresource.isEmpty { path += "/" + subresource }
        return path
    }
}

extension DeletionOptions {
    /// The `DeleteOptions` body of a delete request, as `init(body:query:)` reads it back.
    public var deleteOptionsBody: JSONValue {
        var body: [String: JSONValue] = ["apiVersion": "v1", "kind": "DeleteOptions"]
        if let gracePeriodSeconds { body["gracePeriodSeconds"] = .int(gracePeriodSeconds) }
        if let propagationPolicy { body["propagationPolicy"] = .string(propagationPolicy) }
        var preconditions: [String: JSONValue] = [:]
        if let preconditionUID { preconditions["uid"] = .string(preconditionUID) }
        if let preconditionResourceVersion { preconditions["resourceVersion"] = .string(preconditionResourceVersion) }
        if !preconditions.isEmpty { body["preconditions"] = .object(preconditions) }
        if dryRun { body["dryRun"] = ["All"] }
        return .object(body)
    }
}

/// Reads one watch body as events, pulled by the stream's consumer one `next()` at a time
/// (nothing buffers ahead of it but the HTTP client's own back-pressured body). Dropping it
/// closes the request.
///
/// `@unchecked Sendable`: its mutable state is touched only by the task iterating the
/// stream, one `next()` at a time (AsyncThrowingStream's iterator contract).
final class WatchEventReader: @unchecked Sendable {
    private var body: HTTPClientResponse.Body.AsyncIterator
    private var lines = JSONLineDecoder()
    private var done = false

    init(body: HTTPClientResponse.Body) {
        self.body = body.makeAsyncIterator()
    }

    func next() async throws -> APIWatchEvent? {
        if done { return nil }
        do {
            while true {
                if let value = try lines.next() { return try Self.event(value) }
                guard let chunk = try await body.next() else {
                    done = true
                    return try lines.finish().map(Self.event)
                }
                lines.append(chunk.readableBytesView)
            }
        } catch {
            done = true
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            throw error
        }
    }

    static func event(_ value: JSONValue) throws -> APIWatchEvent {
        guard let type = value["type"]?.stringValue, let object = value["object"] else {
            throw OrcaError(.invalid, "malformed watch event: \(String(decoding: value.encoded().prefix(200), as: UTF8.self))")
        }
        return APIWatchEvent(type: type, object: object)
    }
}
