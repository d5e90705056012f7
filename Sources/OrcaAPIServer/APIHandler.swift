import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import OrcaAPI
import Synchronization

/// The Kubernetes REST API over HTTP: authentication, discovery, OpenAPI and the
/// resource endpoints. Handlers only decode, check and call the `Registry`.
public struct APIHandler: HTTPResponder {
    public typealias Context = APIServerContext

    public let registry: Registry
    public let discovery: Discovery
    public let openapi: OpenAPIDocuments
    public let tables: TableConvertor
    public let authenticator: Authenticator
    /// Decides what each authenticated user may do (Node, RBAC).
    public let authorizer: RequestAuthorizer
    /// Issues ServiceAccount tokens and publishes their issuer (nil: none are issued).
    public let serviceAccountTokens: ServiceAccountTokens?
    /// Answers `pods/log`, `exec`, `attach` and `portforward` for pods of the embedded node.
    public let podStreams: (any PodStreamProvider)?
    /// The embedded node's name (its pods' streams are served in-process).
    public let localNodeName: String?
    /// Reaches the kubelets of other nodes (streams, `nodes/proxy`).
    public let kubelets: KubeletClient?
    /// Bounds the requests served at once (429 beyond it).
    public let inflight: InflightLimiter
    /// The cluster CA (PEM), served at `/cacerts` for agents that check it against their join token.
    public let caCertPEM: String?
    /// What `/metrics` reports.
    public let metrics = APIServerMetrics()
    let logger = Logger(label: "orca.apiserver")

    public init(registry: Registry, discovery: Discovery, openapi: OpenAPIDocuments,
                authenticator: Authenticator, authorizer: RequestAuthorizer = RequestAuthorizer(),
                serviceAccountTokens: ServiceAccountTokens? = nil, podStreams: (any PodStreamProvider)? = nil, localNodeName: String? = nil,
                kubelets: KubeletClient? = nil, inflight: InflightLimiter = InflightLimiter(), caCertPEM: String? = nil) {
        self.localNodeName = localNodeName
        self.kubelets = kubelets
        self.inflight = inflight
        self.caCertPEM = caCertPEM
        self.registry = registry
        self.discovery = discovery
        self.openapi = openapi
        self.tables = TableConvertor(now: registry.clock, served: registry.served)
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.serviceAccountTokens = serviceAccountTokens
        self.podStreams = podStreams
    }

    static let publicPaths: Set<String> = ["/healthz", "/livez", "/readyz", "/version", "/cacerts"]

    public func respond(to request: Request, context: Context) async throws -> Response {
        var path = request.uri.path
        // `/version/`, `/api/` and the like are the same as without the slash (the Python client asks for `/version/`).
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        do {
            if APIHandler.publicPaths.contains(path) {
                return try await route(request, context: context, path: path)
            }
            let subject = await context.peerSubject()
            guard var user = await authenticator.authenticate(authorization: request.headers[.authorization], subject: subject) else {
                throw APIError.unauthorized()
            }
            if let impersonation = try Impersonation(request.headers) {
                user = try await impersonation.authorize(user, with: authorizer, registry: registry)
            }
            var context = context
            context.user = user
            let info = RequestInfo(path: path)
            try await authorizer.check(RequestAuthorizer.attributes(user: user, method: request.method, path: path, query: request.uri.query),
                                       registry: registry)
            // Long-running requests hold no slot; masters and node heartbeats are exempt.
            let longRunning = ProxyTarget(path: path) != nil || InflightLimiter.isLongRunning(
                subresource: info?.subresource, query: ResourceRequest.parseQuery(request.uri.query))
            return try await inflight.serve(mutating: InflightLimiter.isMutating(request.method),
                                            exempt: longRunning || InflightLimiter.isExempt(user: user, info: info)) {
                try await route(request, context: context, path: path)
            }
        } catch {
            let e = APIError.from(error, resource: nil, name: nil)
            if e.code >= 500 { logger.error("\(request.method) \(path): \(e)") }
            var headers: HTTPFields = [:]
            if let seconds = e.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
            return APIHandler.json(e.status, status: e.code, headers: headers)
        }
    }

    func route(_ request: Request, context: Context, path: String) async throws -> Response {
        switch path {
        case "/healthz", "/livez", "/readyz":
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case "/version":
            return APIHandler.json(APIHandler.versionInfo)
        case "/metrics":
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        case "/cacerts" where caCertPEM != nil:
            // As k3s: the CA for joining agents, which trust it only if its hash is their token's.
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: caCertPEM ?? "")))
        case "/api":
            if let aggregated = aggregatedDiscovery(request, core: true) { return aggregated }
            return APIHandler.json(discovery.coreVersions)
        case "/apis":
            if let aggregated = aggregatedDiscovery(request, core: false) { return aggregated }
            return APIHandler.json(discovery.groupList)
        case OIDCDiscovery.configurationPath where serviceAccountTokens != nil:
            return Self.oidc(serviceAccountTokens!.discovery.configuration, contentType: OIDCDiscovery.configurationContentType)
        case OIDCDiscovery.keySetPath where serviceAccountTokens != nil:
            return Self.oidc(serviceAccountTokens!.discovery.keySet, contentType: OIDCDiscovery.keySetContentType)
        case "/openapi/v3":
            return APIHandler.raw(openapi.rootDocument)
        case "/openapi/v2":
            let accept = request.headers[.accept] ?? ""
            if !accept.isEmpty, !accept.contains("json"), !accept.contains("*/*") {
                throw APIError(code: 406, reason: "NotAcceptable", message: "only application/json is served")
            }
            return APIHandler.raw(openapi.swaggerDocument)
        default: break
        }
        if path == "/debug/orca/compact", request.method == .post, APIHandler.testEndpointsEnabled {
            // Test-only (ORCA_TEST_ENDPOINTS=1): compact the store's history up to now, so
            // tests can see 410 Gone for older resourceVersions.
            let revision = try await registry.store.currentRevision()
            try await registry.store.compact(revision: revision)
            return APIHandler.json(["compactedRevision": .int(revision)])
        }
        if path == "/debug/orca/token-clock", request.method == .post, APIHandler.testEndpointsEnabled {
            // Test-only (ORCA_TEST_ENDPOINTS=1): move the clock that judges token lifetimes on by
            // `advanceSeconds`, so a test sees a token expire without waiting its 10 minutes.
            let seconds = Int64(ResourceRequest.parseQuery(request.uri.query)["advanceSeconds"] ?? "") ?? 0
            let total = APIHandler.tokenClockAdvance.add(seconds, ordering: .relaxed).newValue
            return APIHandler.json(["advancedSeconds": .int(total)])
        }
        if path.hasPrefix("/openapi/v3/") {
            guard let doc = openapi.document(String(path.dropFirst("/openapi/v3/".count))) else { throw APIError.pathNotFound(path) }
            return APIHandler.raw(doc)
        }
        let segs = path.split(separator: "/").map(String.init)
        if segs.count == 2, segs[0] == "apis", let g = discovery.group(segs[1]) { return APIHandler.json(g) }
        if segs.count == 2, segs[0] == "api", let l = discovery.resourceList(group: "", version: segs[1]) { return APIHandler.json(l) }
        if segs.count == 3, segs[0] == "apis", let l = discovery.resourceList(group: segs[1], version: segs[2]) { return APIHandler.json(l) }
        if let target = ProxyTarget(path: request.uri.path) {
            return try await proxy(target, request: request, channel: context.channel)
        }
        guard let info = RequestInfo(path: path) else { throw APIError.pathNotFound(path) }
        return try await ResourceRequest(handler: self, request: request, context: context, info: info).serve()
    }

    /// Whether test-only endpoints (`POST /debug/orca/compact`, `POST /debug/orca/token-clock`)
    /// are served: `ORCA_TEST_ENDPOINTS=1`.
    static let testEndpointsEnabled = ProcessInfo.processInfo.environment["ORCA_TEST_ENDPOINTS"] == "1"

    /// Seconds the test-only token clock runs ahead of the server's (0 unless a test moved it).
    static let tokenClockAdvance = Atomic<Int64>(0)

    /// The clock that judges token lifetimes: `clock`, plus what a test moved it on.
    static func tokenClock(_ clock: @escaping @Sendable () -> Date) -> @Sendable () -> Date {
        guard testEndpointsEnabled else { return clock }
        return { clock().addingTimeInterval(TimeInterval(tokenClockAdvance.load(ordering: .relaxed))) }
    }

    static let versionInfo: JSONValue = [
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-orca", "gitCommit": "orca", "gitTreeState": "clean",
        "buildDate": "2026-11-23T00:00:00Z", "goVersion": "swift6", "compiler": "swiftc", "platform": "linux/amd64",
    ]

    /// An OIDC discovery document, cacheable as kube-apiserver serves it.
    static func oidc(_ document: JSONValue, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType, .cacheControl: OIDCDiscovery.cacheControl],
                 body: .init(byteBuffer: ByteBuffer(bytes: document.encoded())))
    }

    /// A JSON response.
    public static func json(_ value: JSONValue, status: Int = 200, headers: HTTPFields = [:]) -> Response {
        raw(value.encoded(), status: status, headers: headers)
    }

    static func raw(_ bytes: [UInt8], status: Int = 200, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

