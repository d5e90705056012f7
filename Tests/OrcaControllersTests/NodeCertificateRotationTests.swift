import Foundation
import OrcaAPI
import OrcaAPIServer
import OrcaAgent
import OrcaCLI
import OrcaClient
import OrcaControllers
import OrcaPKI
import Testing
import X509

/// A node's client certificate renewed through the real CSR path: the agent's request code
/// (`NodeBootstrap.request`) submits a CertificateSigningRequest as the node itself, the
/// `csrapproving` controller approves it (`selfnodeclient`) and `csrsigning` signs it with the
/// cluster CA. The in-process client has no TLS identity, so requests are created through the
/// registry as `system:node:n1`, as the API server records a node's certificate.
@Suite struct NodeCertificateRotationTests {
    static let day: TimeInterval = 86_400
    static let pki: ClusterPKI = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-rotation-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try! ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"])
    }()
    static let node = CertificateAuthority.Subject(commonName: "system:node:n1", organizations: ["system:nodes"])
    static let nodeUser = UserInfo(name: "system:node:n1", groups: ["system:nodes", "system:authenticated"])

    /// The approver and a signer issuing for 30 days, on the cluster's clock.
    func start(_ c: ControllerTestCluster) async throws -> Task<Void, Never> {
        let approver = await CertificateSigningRequestApprover.controller(client: c.client, informers: c.informers, clock: c.clock)
        let signer = await CertificateSigningRequestSigner.controller(client: c.client, informers: c.informers,
                                                                      authority: try Self.pki.authority,
                                                                      signingDuration: 30 * Self.day, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [approver, signer])
        return Task { await manager.run() }
    }

    /// A client certificate of n1 signed `age` before the cluster's time for `lifetime`.
    func issued(_ c: ControllerTestCluster, age: TimeInterval, lifetime: TimeInterval) throws -> NodeCertificateManager.Issued {
        let usages = CertificateAuthority.Usages(keyEncipherment: true, clientAuth: true)
        let (cert, key) = try Self.pki.authority.issueWithNewKey(subject: Self.node, usages: usages, lifetime: lifetime,
                                                                 now: c.clock.now.addingTimeInterval(-age))
        return try NodeCertificateManager.Issued(certificatePEM: cert, keyPEM: key)
    }

    /// The client certificate manager of n1, asking as n1 through the agent's request code.
    func manager(_ c: ControllerTestCluster, current: NodeCertificateManager.Issued, directory: String,
                 rotations: Rotations) -> NodeCertificateManager {
        let token = NodeJoinToken(caHash: NodeJoinToken.hash(caPEM: Self.pki.caCertPEM), id: "abcdef", secret: "0123456789abcdef")
        let bootstrap = NodeBootstrap(server: "https://127.0.0.1:1", token: token, nodeName: "n1", directory: directory)
        let asNode = AsUserAPIClient(base: c.client, user: Self.nodeUser)
        return NodeCertificateManager(kind: .client, nodeName: "n1", directory: directory, caPEM: Self.pki.caCertPEM,
                                      current: current, requester: bootstrap.requester(client: asNode), clock: c.clock,
                                      random: { 0.5 }, onRotated: { await rotations.add($0) })
    }

    actor Rotations {
        var issued: [NodeCertificateManager.Issued] = []
        func add(_ i: NodeCertificateManager.Issued) { issued.append(i) }
        var count: Int { issued.count }
    }

    func requests(_ c: ControllerTestCluster) async throws -> [OrcaAPI.CertificateSigningRequest] {
        try await c.client.list(OrcaAPI.CertificateSigningRequest.self, namespace: nil)
    }

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "orca-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Checks that `renewed` replaced `old`: a new key, signed by the CA, later `notAfter`,
    /// written to the node's files, asked for by the node itself and approved automatically.
    func expectRenewed(_ c: ControllerTestCluster, _ renewed: NodeCertificateManager.Issued, replacing old: NodeCertificateManager.Issued,
                       directory: String) async throws {
        #expect(renewed != old)
        #expect(renewed.keyPEM != old.keyPEM, "a renewal has a new key")
        #expect(renewed.validity.notAfter > old.validity.notAfter)
        let cert = try Certificate(pemEncoded: renewed.certificatePEM)
        #expect(cert.issuer == (try Certificate(pemEncoded: Self.pki.caCertPEM)).subject)
        #expect(cert.subject.description.contains("CN=system:node:n1"))
        #expect(try String(contentsOfFile: directory + "/kubelet-client.crt", encoding: .utf8) == renewed.certificatePEM)
        #expect(try String(contentsOfFile: directory + "/kubelet-client.key", encoding: .utf8) == renewed.keyPEM)
        let csrs = try await requests(c)
        #expect(csrs.count == 1)
        #expect(csrs.first?.spec?.username == "system:node:n1")
        #expect(csrs.first?.spec?.signerName == "kubernetes.io/kube-apiserver-client-kubelet")
        #expect(csrs.first?.status?.conditions?.first?.type == "Approved")
        #expect(csrs.first?.status?.conditions?.first?.reason == "AutoApproved")
    }

    @Test func aCertificatePastItsDeadlineIsRenewedAtOnce() async throws {
        let c = try await ControllerTestCluster()
        let controllers = try await start(c)
        defer { controllers.cancel() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 9.5 of 10 days gone (the agent was off): past any deadline in 70–90 %.
        let old = try issued(c, age: 9.5 * Self.day, lifetime: 10 * Self.day)
        let rotations = Rotations()
        let manager = manager(c, current: old, directory: dir, rotations: rotations)
        let run = Task { await manager.run() }
        defer { run.cancel() }
        #expect(await eventually { await rotations.count == 1 })
        let renewed = try #require(await rotations.issued.first)
        #expect(manager.current == renewed)
        try await expectRenewed(c, renewed, replacing: old, directory: dir)
        #expect(renewed.validity.notAfter == c.clock.now.addingTimeInterval(30 * Self.day))
        // Then it waits for the new certificate's deadline.
        #expect(await eventually { manager.nextRotation != nil })
        #expect(manager.nextRotation == CertificateRotation.deadline(renewed.validity, jitter: 0.5))
    }

    @Test func aCertificateFarFromItsDeadlineIsKeptUntilTheDeadline() async throws {
        let c = try await ControllerTestCluster()
        let controllers = try await start(c)
        defer { controllers.cancel() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = try issued(c, age: 0, lifetime: 10 * Self.day)
        let rotations = Rotations()
        let manager = manager(c, current: old, directory: dir, rotations: rotations)
        let run = Task { await manager.run() }
        defer { run.cancel() }
        #expect(await eventually { manager.nextRotation != nil })
        let deadline = CertificateRotation.deadline(old.validity, jitter: 0.5)
        #expect(manager.nextRotation == deadline)
        #expect(deadline > c.clock.now.addingTimeInterval(7 * Self.day))
        try await Task.sleep(for: .milliseconds(100))
        #expect(await rotations.count == 0)
        #expect(try await requests(c).isEmpty)
        #expect(manager.current == old)
        #expect(!FileManager.default.fileExists(atPath: dir + "/kubelet-client.crt"))

        // Time passes to the deadline (the manager looks at the clock at least hourly).
        c.clock.advance(by: .seconds(deadline.timeIntervalSince(c.clock.now) - 60))
        #expect(await eventually {
            c.clock.advance(by: .seconds(600))
            return await rotations.count == 1
        })
        let renewed = try #require(await rotations.issued.first)
        try await expectRenewed(c, renewed, replacing: old, directory: dir)
    }

    @Test func aRotatingClientSendsToTheNewClientAndClosesTheOldAfterTheGracePeriod() async throws {
        let clock = ManualClock()
        let first = try HTTPSAPIClient(kubeconfig: Kubeconfig(server: "https://127.0.0.1:1", insecureSkipTLSVerify: true))
        let second = try HTTPSAPIClient(kubeconfig: Kubeconfig(server: "https://127.0.0.1:2", insecureSkipTLSVerify: true))
        let client = RotatingAPIClient(first)
        #expect(client.current === first)
        let rotation = Task { await client.rotate(to: second, grace: .seconds(60), clock: clock) }
        await clock.waitForSleepers(1)
        #expect(client.current === second)
        clock.advance(by: .seconds(60))
        await rotation.value
        await #expect(throws: (any Error).self, "closed after the grace period") { try await first.shutdown() }
        try await client.shutdown()
        await #expect(throws: (any Error).self, "closed with the rotating client") { try await second.shutdown() }
    }
}

/// The in-process API with objects created as `user` (the registry records a CSR's requester),
/// everything else as the in-process client.
struct AsUserAPIClient: APIClient {
    let base: LocalAPIClient
    let user: UserInfo

    var catalog: ResourceCatalog { base.catalog }

    func get(_ r: ResourceType, namespace: String?, name: String) async throws -> JSONValue {
        try await base.get(r, namespace: namespace, name: name)
    }
    func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue {
        try await base.list(r, namespace: namespace, options: options)
    }
    func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error> {
        try await base.watch(r, namespace: namespace, options: options)
    }
    func create(_ r: ResourceType, namespace: String?, object: JSONValue) async throws -> JSONValue {
        try await base.registry.create(r, namespace: namespace, object: object, user: user)
    }
    func update(_ r: ResourceType, namespace: String?, name: String, object: JSONValue, subresource: String?) async throws -> JSONValue {
        try await base.update(r, namespace: namespace, name: name, object: object, subresource: subresource)
    }
    func mergePatch(_ r: ResourceType, namespace: String?, name: String, patch: JSONValue, subresource: String?) async throws -> JSONValue {
        try await base.mergePatch(r, namespace: namespace, name: name, patch: patch, subresource: subresource)
    }
    func delete(_ r: ResourceType, namespace: String?, name: String, options: DeletionOptions) async throws {
        try await base.delete(r, namespace: namespace, name: name, options: options)
    }
    func bind(namespace: String, name: String, node: String) async throws {
        try await base.bind(namespace: namespace, name: name, node: node)
    }
}
