import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OrcaCore

/// Raw HTTPS requests to the API server a kubeconfig names (client-go's RESTClient):
/// TLS trusting the kubeconfig's CA, its client certificate presented and its bearer token
/// sent. `HTTPSAPIClient` builds the Kubernetes semantics on it; the benchmarks use it for
/// raw paths. Call `shutdown()` when done.
public final class RESTClient: Sendable {
    /// The server base URL, e.g. `https://127.0.0.1:6443`.
    public let base: String
    let http: HTTPClient
    let authorization: String?

    /// One response, its body fully read.
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer

        public init(status: Int, headers: HTTPHeaders = [:], body: ByteBuffer) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// True for a 2xx status.
        public var isSuccess: Bool { (200..<300).contains(status) }
        /// The body as JSON.
        public func json() throws -> JSONValue { try JSONValue.parse(body.readableBytesView) }
        /// The body as text.
        public var text: String { String(buffer: body) }
    }

    /// A response whose body is still arriving (a watch).
    public struct StreamingResponse: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: HTTPClientResponse.Body
    }

    /// A client of the kubeconfig's server: at most `connectionsPerHost` HTTP/1 connections
    /// (HTTP/2 when the server offers it), `connectTimeout` to open one.
    public init(kubeconfig: Kubeconfig, connectTimeout: TimeAmount = .seconds(10), connectionsPerHost: Int = 64) throws {
        var configuration = HTTPClient.Configuration(tlsConfiguration: try kubeconfig.tlsConfiguration())
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        // No read timeout: a watch is quiet for as long as nothing changes.
        configuration.timeout = .init(connect: connectTimeout)
        self.base = kubeconfig.server
        self.authorization = kubeconfig.authorization
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// `path` (which may carry a query) as a request with the headers every request has.
    func request(_ method: HTTPMethod, _ path: String, body: [UInt8]?, contentType: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// Sends one request and reads the whole response body (at most `maxBodyBytes`); a body
    /// goes as `contentType` (e.g. `application/merge-patch+json` for a PATCH). `timeout`
    /// bounds the wait for the response head.
    public func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
                     timeout: TimeAmount = .seconds(120), maxBodyBytes: Int = 1 << 30) async throws -> Response {
        let response = try await http.execute(request(method, path, body: body, contentType: contentType), timeout: timeout)
        let collected = try await response.body.collect(upTo: maxBodyBytes)
        return Response(status: Int(response.status.code), headers: response.headers, body: collected)
    }

    /// Sends one JSON request (see `send`).
    public func send(_ method: HTTPMethod, _ path: String, json: JSONValue?, contentType: String = "application/json",
                     timeout: TimeAmount = .seconds(120)) async throws -> Response {
        try await send(method, path, body: json?.encoded(), contentType: contentType, timeout: timeout)
    }

    /// Sends a GET whose body streams (a watch); the caller reads or drops `body`. `timeout`
    /// bounds only the wait for the response head.
    public func stream(_ path: String, timeout: TimeAmount = .seconds(120)) async throws -> StreamingResponse {
        let response = try await http.execute(request(.GET, path, body: nil, contentType: ""), timeout: timeout)
        return StreamingResponse(status: Int(response.status.code), headers: response.headers, body: response.body)
    }

    /// Closes all connections.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// `items` as a query string (`?a=1&b=x%3Dy`), or "" for none; names and values are
    /// percent-encoded except for RFC 3986's unreserved characters.
    public static func query(_ items: [(name: String, value: String)]) -> String {
        if items.isEmpty { return "" }
        return "?" + items.map { "\(escape($0.name))=\(escape($0.value))" }.joined(separator: "&")
    }

    /// One path segment or query component, percent-encoded.
    public static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

/// Splits a line-delimited JSON stream (a watch body) into values, however the bytes are
/// chunked. Sans-IO: feed chunks with `append`, take values with `next`, and `finish` at
/// the end of the stream for a last line without a newline.
public struct JSONLineDecoder: Sendable {
    var pending: [UInt8] = []
    /// Where the next line starts in `pending`.
    var start = 0
    /// How far `pending` has been searched for a newline.
    var scanned = 0
    /// A line longer than this is refused (a broken stream, not a Kubernetes object).
    public let maxLineBytes: Int

    public init(maxLineBytes: Int = 256 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Adds the next chunk of the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= pending.count / 2 {
            pending.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        pending.append(contentsOf: bytes)
    }

    /// The next complete line's value, or nil until more bytes arrive; blank lines are skipped.
    public mutating func next() throws -> JSONValue? {
        while let newline = pending[scanned...].firstIndex(of: 10) {
            let line = pending[start..<newline]
            start = newline + 1
            scanned = start
            if line.allSatisfy(Self.isSpace) { continue }
            return try Self.parse(line)
        }
        scanned = pending.count
        if pending.count - start > maxLineBytes {
            throw OrcaError(.requestEntityTooLarge, "a line of the stream is longer than \(maxLineBytes) bytes")
        }
        return nil
    }

    /// The value of a last line the stream ended without a newline, if any.
    public mutating func finish() throws -> JSONValue? {
        if let value = try next() { return value }
        let line = pending[start...]
        start = pending.count
        scanned = start
        if line.allSatisfy(Self.isSpace) { return nil }
        return try Self.parse(line)
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 13 || b == 9 || b == 10 }

    static func parse(_ line: ArraySlice<UInt8>) throws -> JSONValue {
        do { return try JSONValue.parse(line) } catch {
            throw OrcaError(.invalid, "malformed line in the stream: \(String(decoding: line.prefix(200), as: UTF8.self))", cause: error)
        }
    }
}
