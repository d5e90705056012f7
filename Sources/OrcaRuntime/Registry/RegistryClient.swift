import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OrcaCore

/// A client of the OCI distribution API (`/v2/…`) over one shared `HTTPClient`.
///
/// It fetches manifests (resolving an index to this machine's platform) and streams blobs into an
/// `ImageStore`, verifying every digest. Requests start anonymous; a `401` is answered as its
/// `WWW-Authenticate` header asks — a bearer token from the realm, or basic credentials from the
/// keyring — and the result is cached per registry host and scope for the client's lifetime.
/// Copies share that cache. The `HTTPClient` belongs to the caller, who shuts it down.
public struct RegistryClient: Sendable {
    /// The HTTP client every request goes through (see `makeHTTPClient()`).
    public let httpClient: HTTPClient
    /// Insecure registries and mirrors.
    public var configuration: RegistryConfiguration
    /// Credentials by registry.
    public var keyring: RegistryKeyring
    /// The platform an index is resolved to (linux and this machine's architecture).
    public var platform: OCIImage.Platform
    /// How often a failed request or interrupted blob download is tried in all.
    public var maxAttempts: Int = 4
    /// How many blobs of one image download at once.
    public var concurrentDownloads: Int = 3
    /// The longest a request may wait for response headers or for the next body bytes.
    public var requestTimeout: TimeAmount = .seconds(60)

    let tokens: RegistryTokenCache

    /// A client sending its requests through `httpClient`.
    public init(httpClient: HTTPClient, configuration: RegistryConfiguration = RegistryConfiguration(),
                keyring: RegistryKeyring = RegistryKeyring(),
                platform: OCIImage.Platform = OCIImage.Platform(architecture: OCIImage.hostArchitecture, os: "linux")) {
        self.httpClient = httpClient
        self.configuration = configuration
        self.keyring = keyring
        self.platform = platform
        self.tokens = RegistryTokenCache()
    }

    /// An `HTTPClient` configured for registries: follows redirects (blobs are often served from
    /// storage elsewhere), does not decompress. The caller shuts it down (`shutdown()`).
    public static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 10, allowCycles: false),
            timeout: .init(connect: .seconds(30), read: .seconds(60)))
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// This client with other credentials (sharing the HTTP client and token cache).
    public func with(keyring: RegistryKeyring) -> RegistryClient {
        var copy = self
        copy.keyring = keyring
        return copy
    }

    // MARK: - Requests

    /// The scope a pull of `reference` needs: `repository:<path>:pull`.
    static func pullScope(_ reference: ImageReference) -> String { "repository:\(reference.path):pull" }

    /// Sends a GET to `endpoint` + `path`, authenticating as the registry asks; the response is
    /// returned whatever its status except `401` (which throws `unauthorized`).
    func get(_ path: String, endpoint: RegistryConfiguration.Endpoint, reference: ImageReference,
             headers: HTTPHeaders = HTTPHeaders()) async throws -> HTTPClientResponse {
        let key = RegistryTokenCache.Key(host: endpoint.host, scope: Self.pullScope(reference))
        var request = HTTPClientRequest(url: endpoint.baseURL + path)
        request.headers = headers
        request.headers.replaceOrAdd(name: "User-Agent", value: "orca")
        if let cached = await tokens[key] { request.headers.replaceOrAdd(name: "Authorization", value: cached) }
        let response = try await send(request, endpoint: endpoint)
        guard response.status == .unauthorized else { return response }

        let challenge = response.headers.first(name: "WWW-Authenticate").flatMap(RegistryAuthChallenge.init(header:))
        _ = try? await response.body.collect(upTo: 1 << 16)
        let registry = endpoint.isMirror ? endpoint.host : reference.domain
        let credentials = keyring.credentials(for: registry)
        guard let challenge else { throw Self.authenticationError(registry, credentials: credentials) }
        let authorization: String
        switch challenge {
        case .basic:
            guard let credentials else { throw Self.authenticationError(registry, credentials: nil) }
            authorization = credentials.basicAuthorization
        case .bearer(let realm, let service, let scope):
            // A plain-HTTP realm only for a plain-HTTP registry: credentials never go out in clear
            // text because an HTTPS registry pointed elsewhere.
            if realm.lowercased().hasPrefix("http://"), !endpoint.baseURL.hasPrefix("http://") {
                throw OrcaError(.imagePullFailed, "registry \(registry) names a token realm over plain HTTP (\(realm)); refused")
            }
            let token = try await fetchToken(realm: realm, service: service, scope: key.scope, challengeScope: scope,
                                             credentials: credentials, registry: registry)
            authorization = "Bearer \(token)"
        }
        request.headers.replaceOrAdd(name: "Authorization", value: authorization)
        let retried = try await send(request, endpoint: endpoint)
        guard retried.status != .unauthorized else {
            _ = try? await retried.body.collect(upTo: 1 << 16)
            await tokens.remove(key)
            throw Self.authenticationError(registry, credentials: credentials)
        }
        await tokens.set(key, authorization)
        return retried
    }

    /// Gets a token from a bearer realm (with basic credentials when there are some).
    func fetchToken(realm: String, service: String?, scope: String, challengeScope: String?,
                    credentials: RegistryCredentials?, registry: String) async throws -> String {
        guard var url = URLComponents(string: realm), url.scheme == "https" || url.scheme == "http" else {
            throw OrcaError(.imagePullFailed, "registry \(registry) names an invalid token realm \"\(realm)\"")
        }
        var query = url.queryItems ?? []
        if let service { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: scope))
        if let challengeScope, challengeScope != scope { query.append(URLQueryItem(name: "scope", value: challengeScope)) }
        url.queryItems = query
        guard let string = url.string else { throw OrcaError(.imagePullFailed, "cannot build a token URL from \(realm)") }
        var request = HTTPClientRequest(url: string)
        request.headers.replaceOrAdd(name: "User-Agent", value: "orca")
        if let credentials { request.headers.replaceOrAdd(name: "Authorization", value: credentials.basicAuthorization) }
        let response = try await send(request, endpoint: nil)
        let body = try await response.body.collect(upTo: 1 << 20)
        if response.status == .unauthorized || response.status == .forbidden {
            throw Self.authenticationError(registry, credentials: credentials)
        }
        guard response.status == .ok else {
            throw Self.statusError(response.status, "token request to \(realm)")
        }
        struct TokenResponse: Decodable {
            var token: String?
            var accessToken: String?
            enum CodingKeys: String, CodingKey {
                case token
                case accessToken = "access_token"
            }
        }
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: Data(body.readableBytesView)),
              let token = decoded.token ?? decoded.accessToken, !token.isEmpty else {
            throw OrcaError(.imagePullFailed, "token service \(realm) for \(registry) returned no token")
        }
        return token
    }

    /// Executes `request`, turning transport failures into retryable `unavailable` errors.
    func send(_ request: HTTPClientRequest, endpoint: RegistryConfiguration.Endpoint?) async throws -> HTTPClientResponse {
        do {
            return try await httpClient.execute(request, timeout: requestTimeout)
        } catch {
            throw OrcaError(.unavailable, "cannot reach \(endpoint?.baseURL ?? request.url)", cause: error)
        }
    }

    /// Runs `body` against each endpoint of `reference`'s registry in turn (mirrors first); a
    /// failing mirror falls through to the next endpoint, the registry's own error is thrown.
    func withEndpoints<T: Sendable>(_ reference: ImageReference,
                                    _ body: (RegistryConfiguration.Endpoint) async throws -> T) async throws -> T {
        let endpoints = configuration.endpoints(for: reference.domain)
        for endpoint in endpoints.dropLast() {
            if let result = try? await body(endpoint) { return result }
        }
        return try await body(endpoints[endpoints.count - 1])
    }

    /// Retries `body` on `unavailable` errors (network failures, 5xx, 429), up to `maxAttempts`.
    func retrying<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do { return try await body() } catch let error as OrcaError where error.code == .unavailable && attempt < maxAttempts {
                try await Task.sleep(for: Self.backoff(attempt))
                attempt += 1
            }
        }
    }

    /// The pause after failed attempt `n` (1-based): 200 ms, 400 ms, 800 ms, … at most 5 s.
    static func backoff(_ attempt: Int) -> Duration { .milliseconds(min(5000, 200 << min(attempt - 1, 5))) }

    static func authenticationError(_ registry: String, credentials: RegistryCredentials?) -> OrcaError {
        if let credentials {
            return OrcaError(.unauthorized, "authentication failed for \(registry): the registry rejected the credentials of user \"\(credentials.username)\"")
        }
        return OrcaError(.unauthorized, "authentication is required for \(registry): no credentials for it (add an imagePullSecret)")
    }

    /// The error for an unexpected status: 5xx and 429 are retryable (`unavailable`).
    static func statusError(_ status: HTTPResponseStatus, _ what: String) -> OrcaError {
        switch status.code {
        case 429, 500...599: return OrcaError(.unavailable, "\(what): registry answered \(status)")
        case 403: return OrcaError(.forbidden, "\(what): registry answered \(status)")
        case 404: return OrcaError(.notFound, "\(what): not found")
        default: return OrcaError(.imagePullFailed, "\(what): registry answered \(status)")
        }
    }
}
