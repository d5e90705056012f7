import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import OrcaAgent
import OrcaCore
import OrcaPKI
import Testing
import X509

/// The node's certificate managers with the signing step injected (signed here with a real
/// CA): which credential a request is authenticated with, what is refused, what is written, and
/// that a TLS server following the serving manager hands new connections the renewed
/// certificate. The CSR round trip through the real approver and signer is in
/// OrcaControllersTests' `NodeCertificateRotationTests`.
@Suite struct NodeCertificateManagerTests {
    static let day: TimeInterval = 86_400
    static let pki = makePKI()
    static let otherPKI = makePKI()

    static func makePKI() -> ClusterPKI {
        let dir = NSTemporaryDirectory() + "orca-pki-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try! ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"])
    }

    static let client = CertificateAuthority.Subject(commonName: "system:node:n1", organizations: ["system:nodes"])
    static let serving = CertificateAuthority.Subject(commonName: "system:node:n1", organizations: ["system:nodes"],
                                                      dnsNames: ["n1"], ipAddresses: ["127.0.0.1"])

    /// A certificate of `subject` from `pki`, signed at `now` for `lifetime`.
    static func issue(_ subject: CertificateAuthority.Subject, by pki: ClusterPKI = pki, now: Date,
                      lifetime: TimeInterval) throws -> NodeCertificateManager.Issued {
        let usages = CertificateAuthority.Usages(keyEncipherment: true, clientAuth: subject.dnsNames.isEmpty, serverAuth: !subject.dnsNames.isEmpty)
        let (cert, key) = try pki.authority.issueWithNewKey(subject: subject, usages: usages, lifetime: lifetime, now: now)
        return try NodeCertificateManager.Issued(certificatePEM: cert, keyPEM: key)
    }

    /// The requests the injected signing step saw.
    actor Requests {
        var seen: [(signer: String, subject: CertificateAuthority.Subject, credential: NodeCertificateManager.Credential)] = []
        func add(_ signer: String, _ subject: CertificateAuthority.Subject, _ credential: NodeCertificateManager.Credential) {
            seen.append((signer, subject, credential))
        }
        var count: Int { seen.count }
    }

    /// Polls `condition` with short real sleeps until it holds.
    static func eventually(_ tries: Int = 2000, _ condition: () async throws -> Bool) async rethrows -> Bool {
        for _ in 0..<tries {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "orca-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A requester signing with `pki` for 30 days at the clock's time (the first `foreign`
    /// requests with another CA).
    static func requester(_ requests: Requests, clock: any WallClock, foreign: Int = 0) -> NodeCertificateManager.Requester {
        { subject, signer, _, credential in
            await requests.add(signer, subject, credential)
            let issued = try issue(subject, by: await requests.count <= foreign ? otherPKI : pki, now: clock.now, lifetime: 30 * day)
            return (issued.certificatePEM, issued.keyPEM)
        }
    }

    @Test(arguments: [true, false])
    func anExpiredClientCertificateIsRenewedWithTheBootstrapCredential(client: Bool) async throws {
        let clock = ManualClock()
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let requests = Requests()
        // Issued 20 days ago for 10: the agent was off.
        let old = try Self.issue(client ? Self.client : Self.serving, now: clock.now.addingTimeInterval(-20 * Self.day), lifetime: 10 * Self.day)
        let manager = NodeCertificateManager(kind: client ? .client : .serving(addresses: ["127.0.0.1"]), nodeName: "n1", directory: dir,
                                             caPEM: Self.pki.caCertPEM, current: old,
                                             requester: Self.requester(requests, clock: clock), clock: clock, random: { 0.5 })
        let run = Task { await manager.run() }
        defer { run.cancel() }
        #expect(await Self.eventually { manager.nextRotation != nil })
        let seen = await requests.seen
        #expect(seen.count == 1)
        // The serving certificate is asked for with the node's client identity, which its own
        // manager keeps valid.
        #expect(seen.first?.credential == (client ? .bootstrap : .node))
        #expect(seen.first?.signer == (client ? "kubernetes.io/kube-apiserver-client-kubelet" : "kubernetes.io/kubelet-serving"))
        #expect(seen.first?.subject == (client ? Self.client : Self.serving))
        let renewed = manager.current
        #expect(renewed.validity.notAfter == clock.now.addingTimeInterval(30 * Self.day))
        let name = client ? "kubelet-client" : "kubelet-serving"
        #expect(try String(contentsOfFile: "\(dir)/\(name).crt", encoding: .utf8) == renewed.certificatePEM)
        #expect(try String(contentsOfFile: "\(dir)/\(name).key", encoding: .utf8) == renewed.keyPEM)
        #expect(manager.nextRotation == CertificateRotation.deadline(renewed.validity, jitter: 0.5))
    }

    @Test func aCertificateFromAnotherCAIsRefusedAndAskedForAgainAfterABackoff() async throws {
        let clock = ManualClock()
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let requests = Requests()
        // 9.5 days into 10: past its deadline.
        let old = try Self.issue(Self.client, now: clock.now.addingTimeInterval(-9.5 * Self.day), lifetime: 10 * Self.day)
        let manager = NodeCertificateManager(kind: .client, nodeName: "n1", directory: dir, caPEM: Self.pki.caCertPEM, current: old,
                                             requester: Self.requester(requests, clock: clock, foreign: 1), clock: clock, random: { 0.5 })
        let run = Task { await manager.run() }
        defer { run.cancel() }
        #expect(await Self.eventually { await requests.count == 1 })
        #expect(manager.current == old)
        #expect(!FileManager.default.fileExists(atPath: dir + "/kubelet-client.crt"))
        // The retry comes after the back-off (2 s and jitter).
        #expect(await Self.eventually {
            clock.advance(by: .seconds(1))
            return manager.nextRotation != nil
        })
        #expect(await requests.seen.map(\.credential) == [.node, .node])
        #expect(manager.current != old)
        let issuer = try Certificate(pemEncoded: manager.current.certificatePEM).issuer
        #expect(issuer == (try Certificate(pemEncoded: Self.pki.caCertPEM)).subject)
        #expect(try String(contentsOfFile: dir + "/kubelet-client.crt", encoding: .utf8) == manager.current.certificatePEM)
    }

    @Test func newTLSConnectionsGetTheRenewedServingCertificate() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let requests = Requests()
        let first = try Self.issue(Self.serving, now: Date(), lifetime: 10 * Self.day)
        let manager = NodeCertificateManager(kind: .serving(addresses: ["127.0.0.1"]), nodeName: "n1", directory: dir,
                                             caPEM: Self.pki.caCertPEM, current: first,
                                             requester: Self.requester(requests, clock: SystemClock()))
        // The server is configured with the first certificate, and follows the manager.
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(first.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(first.keyPEM.utf8), format: .pem)))
        tls.sslContextCallback = manager.sslContextCallback
        let serverContext = try NIOSSLContext(configuration: tls)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = server.localAddress!.port!

        #expect(try await Self.peerCertificate(port: port) == (try Certificate(pemEncoded: first.certificatePEM)))
        let renewed = try await manager.rotate(expired: false)
        #expect(renewed != first)
        #expect(try await Self.peerCertificate(port: port) == (try Certificate(pemEncoded: renewed.certificatePEM)))
    }

    /// The certificate a TLS server on loopback `port` presents, verified against the CA.
    static func peerCertificate(port: Int) async throws -> Certificate {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(pki.caCertPEM.utf8), format: .pem)])
        tls.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: tls)
        let handshake = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Void.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: handshake))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            handshake.fail(error)
            throw error
        }
        defer { channel.close(promise: nil) }
        try await handshake.futureResult.get()
        guard let peer = try await channel.nioSSL_peerCertificate().get() else { throw OrcaError(.invalid, "no peer certificate") }
        return try Certificate(derEncoded: try peer.toDERBytes())
    }
}

/// Completes `promise` when the TLS handshake has completed, or fails it.
private final class HandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>
    var done = false

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func complete(_ result: Result<Void, any Error>) {
        if done { return }
        done = true
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? TLSUserEvent, case .handshakeCompleted = e { complete(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(.failure(OrcaError(.unavailable, "the connection closed before the TLS handshake completed")))
        context.fireChannelInactive()
    }
}
