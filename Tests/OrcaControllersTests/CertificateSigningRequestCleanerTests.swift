import Foundation
import OrcaClient
import OrcaControllers
import OrcaPKI
import Testing

/// The CSR cleaner on an in-process registry and a manual clock: pending requests go after a
/// day, decided ones an hour after the decision, issued ones once their certificate expires.
@Suite struct CertificateSigningRequestCleanerTests {
    static let hour: Duration = .seconds(3600)

    @Test func aPendingRequestGoesAfterADay() async throws {
        let c = try await ControllerTestCluster()
        try await submit(c, "pending")
        c.clock.advance(by: .seconds(1))
        let run = await start(c)
        defer { run.cancel() }
        await c.clock.waitForSleepers(1)
        // A pass every hour: still there 23 h after its creation...
        for hour in 1...23 {
            c.clock.advance(by: Self.hour)
            await c.clock.waitForSleepers(1)
            try #require(try await exists(c, "pending"), "after \(hour) h")
        }
        // ...gone past 24 h.
        c.clock.advance(by: Self.hour)
        await c.clock.waitForSleepers(1)
        #expect(try await !exists(c, "pending"))
    }

    @Test func decidedRequestsGoAnHourAfterTheDecision() async throws {
        let c = try await ControllerTestCluster()
        for name in ["approved", "denied", "failed", "unissued", "younger"] { try await submit(c, name) }
        try await decide(c, "approved", "Approved", lifetime: 365 * 86_400)
        try await decide(c, "denied", "Denied")
        try await decide(c, "failed", "Failed")
        try await decide(c, "unissued", "Approved")
        c.clock.advance(by: .seconds(30 * 60))
        try await decide(c, "younger", "Approved", lifetime: 365 * 86_400)
        let run = await start(c, pollingInterval: .seconds(20 * 60))
        defer { run.cancel() }
        await c.clock.waitForSleepers(1)
        for name in ["approved", "denied", "failed", "unissued", "younger"] { #expect(try await exists(c, name), "\(name)") }

        // 50 min after the first decisions: all stay.
        c.clock.advance(by: .seconds(20 * 60))
        await c.clock.waitForSleepers(1)
        for name in ["approved", "denied", "failed", "unissued", "younger"] { #expect(try await exists(c, name), "\(name)") }

        // 70 min: the approved (and issued), denied and failed requests are gone; the one
        // approved 40 min ago stays.
        c.clock.advance(by: .seconds(20 * 60))
        await c.clock.waitForSleepers(1)
        for name in ["approved", "denied", "failed"] { #expect(try await !exists(c, name), "\(name)") }
        #expect(try await exists(c, "younger"))

        // 110 min: the younger one is past its hour too. An approved request never issued a
        // certificate is not cleaned (as in Kubernetes, only issued ones are).
        c.clock.advance(by: .seconds(40 * 60))
        await c.clock.waitForSleepers(1)
        #expect(try await !exists(c, "younger"))
        #expect(try await exists(c, "unissued"))
    }

    @Test func anIssuedRequestGoesOnceItsCertificateExpires() async throws {
        let c = try await ControllerTestCluster()
        try await submit(c, "short")
        try await submit(c, "long")
        try await decide(c, "short", "Approved", lifetime: 10 * 60)
        try await decide(c, "long", "Approved", lifetime: 365 * 86_400)
        let run = await start(c, pollingInterval: .seconds(15 * 60))
        defer { run.cancel() }
        await c.clock.waitForSleepers(1)
        #expect(try await exists(c, "short"))

        // 15 min later the approval is not yet an hour old, but the 10-minute certificate expired.
        c.clock.advance(by: .seconds(15 * 60))
        await c.clock.waitForSleepers(1)
        #expect(try await !exists(c, "short"))
        #expect(try await exists(c, "long"))
    }

    // MARK: helpers

    func start(_ c: ControllerTestCluster,
               pollingInterval: Duration = CertificateSigningRequestCleaner.defaultPollingInterval) async -> Task<Void, Never> {
        let cleaner = await CertificateSigningRequestCleaner.controller(client: c.client, informers: c.informers, clock: c.clock,
                                                                        pollingInterval: pollingInterval)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [cleaner])
        return Task { await manager.run() }
    }

    /// Creates a pending API client certificate request.
    func submit(_ c: ControllerTestCluster, _ name: String) async throws {
        let subject = CertificateAuthority.Subject(commonName: name)
        let (request, _) = try CertificateRequest.make(subject)
        try await c.client.create(CSR(metadata: ObjectMeta(name: name), spec: CertificateSigningRequestSpec(
            request: Data(request.utf8).base64EncodedString(), signerName: "kubernetes.io/kube-apiserver-client",
            usages: ["digital signature", "client auth"])))
    }

    /// Adds a condition of `type` updated now; with a `lifetime`, also issues a certificate
    /// valid from now for that long.
    func decide(_ c: ControllerTestCluster, _ name: String, _ type: String, lifetime: TimeInterval? = nil) async throws {
        var csr = try await c.client.get(CSR.self, namespace: nil, name: name)
        let now = KubernetesTime.string(c.clock.now)
        csr.status = CertificateSigningRequestStatus(conditions: [CertificateSigningRequestCondition(
            lastTransitionTime: now, lastUpdateTime: now, reason: "Test", status: "True", type: type)])
        csr = try await c.client.update(csr, subresource: type == "Failed" ? "status" : "approval")
        guard let lifetime else { return }
        let request = String(data: Data(base64Encoded: csr.spec?.request ?? "")!, encoding: .utf8)!
        let authority = try CertificateSigningRequestControllerTests.pki.authority
        let pem = try authority.sign(requestPEM: request, usages: .init(clientAuth: true), lifetime: lifetime, now: c.clock.now)
        csr.status?.certificate = Data(pem.utf8).base64EncodedString()
        try await c.client.update(csr, subresource: "status")
    }

    func exists(_ c: ControllerTestCluster, _ name: String) async throws -> Bool {
        do {
            _ = try await c.client.get(CSR.self, namespace: nil, name: name)
            return true
        } catch let e as APIError where e.isNotFound {
            return false
        }
    }
}
