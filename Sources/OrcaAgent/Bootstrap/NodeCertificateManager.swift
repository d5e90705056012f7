import Foundation
import Logging
import NIOSSL
import OrcaClient
import OrcaPKI
import Synchronization
import X509

/// Keeps one of the node's certificates fresh, as the kubelet's certificate manager: the client
/// certificate it authenticates to the API server with (`system:node:<name>`), or the serving
/// certificate of its kubelet server.
///
/// When `CertificateRotation` says so (70–90 % into the certificate's lifetime, at once if that
/// has passed) it submits a new CertificateSigningRequest with a new key — authenticated with
/// the node's current client certificate, which the server's `csrapproving` approves as
/// `selfnodeclient`, or with the join token's bootstrap credential if the client certificate
/// has expired — waits for the signed certificate, writes it under `<data-dir>/tls` as
/// `NodeBootstrap` does (so a restart reuses it), and hands it to `onRotated`: the agent then
/// switches its API client (`RotatingAPIClient`) or the kubelet server's TLS identity
/// (`sslContextCallback`) to it, without restarting. A failed attempt is retried with back-off.
public final class NodeCertificateManager: Sendable {
    /// Which of the node's certificates.
    public enum Kind: Sendable, Hashable {
        /// `kubelet-client`: signer `kubernetes.io/kube-apiserver-client-kubelet`.
        case client
        /// `kubelet-serving`: signer `kubernetes.io/kubelet-serving`, naming the node and `addresses`.
        case serving(addresses: [String])
    }

    /// A certificate and its key (PEM).
    public struct Issued: Sendable, Hashable {
        public let certificatePEM: String
        public let keyPEM: String
        public let validity: CertificateRotation.Validity

        /// The pair, with the certificate's validity; throws if either does not parse or the key
        /// is not the certificate's.
        public init(certificatePEM: String, keyPEM: String) throws {
            let certificate = try Certificate(pemEncoded: certificatePEM)
            let key = try Certificate.PrivateKey(pemEncoded: keyPEM)
            guard key.publicKey == certificate.publicKey else {
                throw OrcaError(.invalid, "the private key is not the certificate's")
            }
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
            validity = CertificateRotation.Validity(certificate)
        }
    }

    /// What a certificate signing request is authenticated with.
    public enum Credential: Sendable, Hashable {
        /// The node's current client certificate.
        case node
        /// The join token's bootstrap credential (the client certificate has expired).
        case bootstrap
    }

    /// Submits a request for `subject` to `signer` with `usages` and a new key, authenticated
    /// with `credential`, and returns the signed certificate and the key (PEM) once it is signed.
    public typealias Requester = @Sendable (_ subject: CertificateAuthority.Subject, _ signer: String, _ usages: [String],
                                            _ credential: Credential) async throws -> (certificatePEM: String, keyPEM: String)

    struct State {
        var current: Issued
        /// The next renewal while the manager waits for it.
        var nextRotation: Date?
        /// The current pair as the TLS library takes it (nil if it did not parse).
        var tls: (chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource)?
    }

    public let kind: Kind
    public let nodeName: String
    let caPEM: String
    let certPath: String
    let keyPath: String
    let requester: Requester
    let onRotated: @Sendable (Issued) async -> Void
    let clock: any WallClock
    let random: @Sendable () -> Double
    /// Longest sleep between two looks at the clock (a wall clock may jump, e.g. after a suspend).
    let recheckInterval: Duration
    private let state: Mutex<State>
    let logger: Logger

    /// A manager of the `kind` certificate of `nodeName`, kept in `directory` (`<data-dir>/tls`)
    /// as `kubelet-client.crt/.key` or `kubelet-serving.crt/.key` and issued by `caPEM`; `current`
    /// is the one in use now.
    public init(kind: Kind, nodeName: String, directory: String, caPEM: String, current: Issued, requester: @escaping Requester,
                clock: any WallClock = SystemClock(), random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                recheckInterval: Duration = .seconds(3600), onRotated: @escaping @Sendable (Issued) async -> Void = { _ in }) {
        self.kind = kind
        self.nodeName = nodeName
        self.caPEM = caPEM
        let name = kind == .client ? "kubelet-client" : "kubelet-serving"
        certPath = "\(directory)/\(name).crt"
        keyPath = "\(directory)/\(name).key"
        self.requester = requester
        self.onRotated = onRotated
        self.clock = clock
        self.random = random
        self.recheckInterval = recheckInterval
        state = Mutex(State(current: current, tls: Self.tls(current)))
        logger = Logger(label: "orca.agent.certificate.\(name)")
    }

    /// The certificate in use.
    public var current: Issued { state.withLock { $0.current } }

    /// When the certificate is renewed next, while the manager waits for that (nil while it
    /// renews, backs off, or does not run).
    public var nextRotation: Date? { state.withLock { $0.nextRotation } }

    /// Renews the certificate whenever it is due, until cancelled.
    public func run() async {
        var policy = CertificateRotation(random: random)
        var action = policy.event(.issued(current.validity, at: clock.now))
        while !Task.isCancelled {
            switch action {
            case .wait(let until):
                if case .waiting = policy.state { state.withLock { $0.nextRotation = until } }
                let seconds = min(until.timeIntervalSince(clock.now), recheckInterval.timeInterval)
                do {
                    if seconds > 0 { try await clock.sleep(for: .seconds(seconds)) }
                } catch {
                    return
                }
                action = policy.event(.tick(clock.now))
            case .rotate(let expired):
                state.withLock { $0.nextRotation = nil }
                do {
                    let issued = try await rotate(expired: expired)
                    action = policy.event(.issued(issued.validity, at: clock.now))
                    let v = issued.validity
                    if case .waiting(let deadline, _) = policy.state {
                        logger.info("renewed the \(description) certificate of node \(nodeName): valid until \(v.notAfter), renewed next at \(deadline)")
                    } else {
                        logger.warning("""
                            the new \(description) certificate of node \(nodeName) (valid \(v.notBefore) to \(v.notAfter)) is already \
                            due for renewal: are the clocks of node and server apart?
                            """)
                    }
                } catch {
                    if error is CancellationError || Task.isCancelled { return }
                    action = policy.event(.failed(at: clock.now))
                    let retry = if case .wait(let until) = action { "at \(until)" } else { "now" }
                    logger.warning("renewing the \(description) certificate of node \(nodeName) failed: \(error); retrying \(retry)")
                }
            }
        }
    }

    /// One renewal: asks for a new certificate (with the bootstrap credential if `expired` and
    /// this is the client certificate), checks it, writes it and makes it current.
    @discardableResult
    public func rotate(expired: Bool) async throws -> Issued {
        let (subject, signer, usages) = request
        let credential: Credential = kind == .client && expired ? .bootstrap : .node
        if credential == .bootstrap {
            logger.warning("the client certificate of node \(nodeName) has expired: asking for a new one with the join token")
        }
        let (certificatePEM, keyPEM) = try await requester(subject, signer, usages, credential)
        let issued = try Issued(certificatePEM: certificatePEM, keyPEM: keyPEM)
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let ca = try Certificate(pemEncoded: caPEM)
        guard certificate.issuer == ca.subject else {
            throw OrcaError(.invalid, "the new \(description) certificate is not issued by the cluster CA (issuer \(certificate.issuer))")
        }
        guard clock.now < issued.validity.notAfter else {
            throw OrcaError(.invalid, "the new \(description) certificate expired at \(issued.validity.notAfter)")
        }
        try NodeBootstrap.save(cert: certificatePEM, key: keyPEM, certPath: certPath, keyPath: keyPath)
        let tls = Self.tls(issued)
        state.withLock {
            $0.current = issued
            $0.tls = tls
        }
        await onRotated(issued)
        return issued
    }

    /// For a TLS server (`TLSConfiguration.sslContextCallback`): gives each new handshake the
    /// current certificate and key, so a renewed serving certificate is used for new
    /// connections without restarting the server (open connections keep theirs).
    public var sslContextCallback: NIOSSLContextCallback {
        { [self] _, promise in
            var override = NIOSSLContextConfigurationOverride()
            if let tls = state.withLock({ $0.tls }) {
                override.certificateChain = tls.chain
                override.privateKey = tls.key
            }
            promise.succeed(override)
        }
    }

    /// The subject, signer and usages of this kind of certificate.
    var request: (CertificateAuthority.Subject, String, [String]) {
        switch kind {
        case .client:
            return (CertificateAuthority.Subject(commonName: "system:node:\(nodeName)", organizations: ["system:nodes"]),
                    "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "key encipherment", "client auth"])
        case .serving(let addresses):
            return (CertificateAuthority.Subject(commonName: "system:node:\(nodeName)", organizations: ["system:nodes"],
                                                 dnsNames: [nodeName], ipAddresses: addresses),
                    "kubernetes.io/kubelet-serving", ["digital signature", "key encipherment", "server auth"])
        }
    }

    var description: String { kind == .client ? "client" : "serving" }

    static func tls(_ issued: Issued) -> (chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource)? {
        guard let chain = try? NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)), !chain.isEmpty,
              let key = try? NIOSSLPrivateKey(bytes: Array(issued.keyPEM.utf8), format: .pem) else { return nil }
        return (chain.map { .certificate($0) }, .privateKey(key))
    }
}

extension NodeBootstrap {
    /// The requester of the node's certificate managers: a request goes through `client` (the
    /// node's own identity, a `RotatingAPIClient` following the client certificate) or, when
    /// the client certificate has expired, through the join token's bootstrap credential.
    public func requester(client: any APIClient) -> NodeCertificateManager.Requester {
        { subject, signer, usages, credential in
            switch credential {
            case .node:
                let (cert, key) = try await self.request(subject, signer: signer, usages: usages, client: client)
                return (cert, key)
            case .bootstrap:
                let bootstrapClient = try self.bootstrapClient(ca: try await self.certificateAuthority())
                do {
                    let (cert, key) = try await self.request(subject, signer: signer, usages: usages, client: bootstrapClient)
                    try? await bootstrapClient.shutdown()
                    return (cert, key)
                } catch {
                    try? await bootstrapClient.shutdown()
                    throw error
                }
            }
        }
    }
}
