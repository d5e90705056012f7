import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OrcaClient
import OrcaCore

/// An HTTPS client of the Kubernetes REST API for the benchmarks: raw JSON requests and
/// line-delimited watch streams over OrcaClient's `RESTClient`, authenticated as the
/// kubeconfig says (the admin client certificate of Orca's). Call `shutdown()` when done.
final class BenchAPIClient: Sendable {
    /// The server base URL, e.g. `https://127.0.0.1:6443`.
    var base: String { rest.base }
    private let rest: RESTClient

    /// One response, its body fully read.
    typealias Response = RESTClient.Response

    init(kubeconfig: Kubeconfig) throws {
        guard kubeconfig.hasClientCertificate || kubeconfig.token != nil else {
            throw OrcaError(.invalid, "kubeconfig user has no client certificate and key, nor a token")
        }
        self.rest = try RESTClient(kubeconfig: kubeconfig, connectTimeout: .seconds(10), connectionsPerHost: 64)
    }

    /// Sends one request and reads the whole response body; a `json` body goes as `contentType`
    /// (e.g. `application/strategic-merge-patch+json` for a PATCH).
    func send(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil, contentType: String = "application/json",
              timeout: TimeAmount = .seconds(120)) async throws -> Response {
        try await rest.send(method, path, json: json, contentType: contentType, timeout: timeout)
    }

    /// Sends one request that must succeed (2xx); returns the response JSON.
    @discardableResult
    func expect(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil, contentType: String = "application/json") async throws -> JSONValue {
        let response = try await send(method, path, json: json, contentType: contentType)
        guard response.isSuccess else {
            throw OrcaError(.internalError, "\(method) \(path) answered \(response.status): \(response.text.prefix(400))")
        }
        return try response.json()
    }

    /// Streams a watch (`path` carries `watch=1` and its query): calls `event` for every JSON line
    /// as it arrives, until `event` returns false, the server ends the stream, or the task is cancelled.
    func watch(_ path: String, event: (JSONValue) async throws -> Bool) async throws {
        let response = try await rest.stream(path, timeout: .hours(2))
        guard response.status == 200 else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw OrcaError(.internalError, "watch \(path) answered \(response.status): \(String(buffer: body).prefix(400))")
        }
        var lines = JSONLineDecoder()
        for try await chunk in response.body {
            lines.append(chunk.readableBytesView)
            while let value = try lines.next() {
                guard try await event(value) else { return }
            }
        }
        if let last = try lines.finish() { _ = try await event(last) }
    }

    /// Polls `/readyz` until it answers 200 or `timeout` passes.
    func waitReady(timeout: Duration = .seconds(60)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last = "no answer"
        while clock.now < deadline {
            do {
                let r = try await send(.GET, "/readyz", timeout: .seconds(5))
                if r.status == 200 { return }
                last = "\(r.status) \(r.text.prefix(200))"
            } catch { last = "\(error)" }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw OrcaError(.timeout, "\(base)/readyz not ready after \(timeout): \(last)")
    }

    /// Closes all connections.
    func shutdown() async {
        try? await rest.shutdown()
    }
}
