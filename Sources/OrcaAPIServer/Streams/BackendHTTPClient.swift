import AsyncHTTPClient
import NIOCore
import NIOSSL

/// How the API server reaches what stands behind it over HTTP: kubelets (`pods/log`,
/// `nodes/proxy`), pods and Service endpoints (`pods/proxy`, `services/proxy`) and webhooks.
/// Redirects go back to the caller, never followed; a connection (TCP and TLS) is made within
/// 10 s; and one that cannot be made fails the request at once, as kube-apiserver's "error
/// dialing backend". A client's default is to retry the connection until the request's
/// deadline: a kubelet that was down, frozen, or of another cluster held `nodes/proxy` open for
/// as long as its client waited.
enum BackendHTTPClient {
    /// The client for the life of the process (never shut down, as `HTTPClient.shared`); each
    /// request carries its own TLS configuration.
    static let shared = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration())

    /// The longest a connection takes to be made, TLS handshake included.
    static let connectTimeout = TimeAmount.seconds(10)

    /// The configuration of a backend client; `dnsOverride` is for a client of its own.
    static func configuration(tls: TLSConfiguration? = nil, dnsOverride: [String: String] = [:]) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                     timeout: .init(connect: connectTimeout), proxy: nil)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.dnsOverride = dnsOverride
        return configuration
    }

    /// TLS that accepts any serving certificate: kube-apiserver does not verify a pod's when it
    /// proxies to it over https.
    static let unverifiedTLS: TLSConfiguration = {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        return tls
    }()
}
