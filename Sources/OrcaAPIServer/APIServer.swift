import Foundation
import Hummingbird
import HummingbirdHTTP2
import Logging
import NIOSSL
import OrcaPKI
import OrcaAPI
import OrcaStore
import ServiceLifecycle

/// The API server: HTTPS (HTTP/2 and HTTP/1.1) in front of the registry.
public struct APIServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var pki: ClusterPKI
        public var tokens: [String: UserInfo]
        /// Read-only requests served at once (`--max-requests-inflight`; 0: no limit).
        public var maxRequestsInflight = 400
        /// Mutating requests served at once (`--max-mutating-requests-inflight`; 0: no limit).
        public var maxMutatingRequestsInflight = 200

        public init(host: String = "0.0.0.0", port: Int = 6443, pki: ClusterPKI, tokens: [String: UserInfo] = [:]) {
            self.host = host
            self.port = port
            self.pki = pki
            self.tokens = tokens
        }
    }

    public let registry: Registry
    public let configuration: Configuration
    public let handler: APIHandler

    /// `podStreams` serves the streams of pods on the embedded node `localNodeName`; pods on
    /// other nodes are reached through their kubelets.
    public init(registry: Registry, configuration: Configuration, podStreams: (any PodStreamProvider)? = nil,
                localNodeName: String? = nil, authorizer: RequestAuthorizer = RequestAuthorizer(),
                serviceAccountTokens: ServiceAccountTokens? = nil) {
        self.registry = registry
        self.configuration = configuration
        self.handler = APIHandler(
            registry: registry,
            discovery: Discovery(served: registry.served, serverAddress: "\(configuration.host):\(configuration.port)"),
            openapi: OpenAPIDocuments(served: registry.served),
            authenticator: Authenticator(tokens: configuration.tokens, serviceAccounts: serviceAccountTokens?.authenticator,
                                         clock: APIHandler.tokenClock(registry.clock)),
            authorizer: authorizer,
            serviceAccountTokens: serviceAccountTokens,
            podStreams: podStreams, localNodeName: localNodeName,
            kubelets: try? KubeletClient(pki: configuration.pki),
            inflight: InflightLimiter(maxReadOnly: configuration.maxRequestsInflight,
                                      maxMutating: configuration.maxMutatingRequestsInflight),
            caCertPEM: configuration.pki.caCertPEM)
    }

    /// The TLS configuration: our serving certificate; client certificates optional but
    /// verified against the cluster CA when presented.
    public func tlsConfiguration() throws -> TLSConfiguration {
        let cert = try NIOSSLCertificate(bytes: Array(configuration.pki.serverCertPEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(configuration.pki.serverKeyPEM.utf8), format: .pem)
        let ca = try NIOSSLCertificate(bytes: Array(configuration.pki.caCertPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(cert)], privateKey: .privateKey(key))
        tls.trustRoots = .certificates([ca])
        tls.certificateVerification = .optionalVerification
        return tls
    }

    /// The Hummingbird application (a `Service`): HTTP/2 and HTTP/1.1 over TLS, with WebSocket
    /// upgrades for the pod streams (`Streams/`).
    public func application(logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        var log = logger
        log.logLevel = .warning
        return Application(
            responder: handler,
            server: .httpsStreaming(tlsConfiguration: try tlsConfiguration(), webSocket: PodStreamUpgrade.webSocket,
                                    shouldUpgrade: PodStreamUpgrade(handler: handler).shouldUpgrade),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: log)
    }
}
