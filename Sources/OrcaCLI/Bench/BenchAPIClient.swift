import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OrcaCore

/// An HTTPS client of the Kubernetes REST API for the benchmarks: raw JSON requests and
/// line-delimited watch streams, authenticated with the kubeconfig's client certificate.
/// Call `shutdown()` when done.
final class BenchAPIClient: Sendable {
    /// The server base URL, e.g. `https://127.0.0.1:6443`.
    let base: String
    private let http: HTTPClient

    /// One response, its body fully read.
    struct Response: Sendable {
        var status: Int
        var body: ByteBuffer
        var isSuccess: Bool { (200..<300).contains(status) }
        /// The body as JSON.
        func json() throws -> JSONValue { try JSONValue.parse(body.readableBytesView) }
        var text: String { String(buffer: body) }
    }

    init(kubeconfig: BenchKubeconfig) throws {
        var configuration = HTTPClient.Configuration(tlsConfiguration: try kubeconfig.tlsConfiguration())
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.timeout = .init(connect: .seconds(10))
        self.base = kubeconfig.server
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends one request and reads the whole response body; a `json` body goes as `contentType`
    /// (e.g. `application/strategic-merge-patch+json` for a PATCH).
    func send(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil, contentType: String = "application/json",
              timeout: TimeAmount = .seconds(120)) async throws -> Response {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let json {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: json.encoded()))
        }
        let response = try await http.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 1 << 30)
        return Response(status: Int(response.status.code), body: body)
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
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await http.execute(request, timeout: .hours(2))
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw OrcaError(.internalError, "watch \(path) answered \(response.status.code): \(String(buffer: body).prefix(400))")
        }
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 10) {
                let line = pending[start..<newline]
                start = newline + 1
                if line.isEmpty { continue }
                guard try await event(try JSONValue.parse(line)) else { return }
            }
            pending.removeSubrange(pending.startIndex..<start)
        }
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
        try? await http.shutdown()
    }
}
