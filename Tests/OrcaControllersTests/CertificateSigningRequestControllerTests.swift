import Foundation
import OrcaAPI
import OrcaAPIServer
import OrcaClient
import OrcaControllers
import OrcaPKI
import Testing
import X509

typealias CSR = OrcaAPI.CertificateSigningRequest

/// Node certificates: the approver takes bootstrap and self-renewal requests of node client
/// certificates and a node's own serving request; the signer issues them with the cluster CA.
@Suite struct CertificateSigningRequestControllerTests {
    static let pki: ClusterPKI = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-csr-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try! ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"])
    }()

    func start(_ c: ControllerTestCluster) async throws -> Task<Void, Never> {
        let approver = await CertificateSigningRequestApprover.controller(client: c.client, informers: c.informers, clock: c.clock)
        let signer = await CertificateSigningRequestSigner.controller(client: c.client, informers: c.informers,
                                                                      authority: try Self.pki.authority, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [approver, signer])
        return Task { await manager.run() }
    }

    /// Creates a CSR as `user` through the registry (the API server records the requester).
    func submit(_ c: ControllerTestCluster, _ name: String, subject: CertificateAuthority.Subject, signer: String,
                usages: [String], user: UserInfo) async throws {
        let (request, _) = try CertificateRequest.make(subject)
        let csr: JSONValue = [
            "metadata": ["name": .string(name)],
            "spec": ["request": .string(Data(request.utf8).base64EncodedString()), "signerName": .string(signer),
                     "usages": .array(usages.map(JSONValue.string))],
        ]
        let r = c.client.resource("certificatesigningrequests", group: "certificates.k8s.io")
        _ = try await c.registry.create(r, namespace: nil, object: csr, user: user)
    }

    func csr(_ c: ControllerTestCluster, _ name: String) async throws -> CSR {
        try await c.client.get(CSR.self, namespace: nil, name: name)
    }

    static let node = CertificateAuthority.Subject(commonName: "system:node:n1", organizations: ["system:nodes"])
    static let clientUsages = ["digital signature", "key encipherment", "client auth"]
    static let nodeUser = UserInfo(name: "system:node:n1", groups: ["system:nodes", "system:authenticated"])

    @Test func aBootstrapRequestIsApprovedAndSigned() async throws {
        let c = try await ControllerTestCluster()
        let task = try await start(c)
        defer { task.cancel() }
        try await submit(c, "boot", subject: Self.node, signer: "kubernetes.io/kube-apiserver-client-kubelet",
                         usages: Self.clientUsages, user: NodeJoinToken.bootstrapUser(id: "abcdef"))
        #expect(try await eventually { try await csr(c, "boot").status?.certificate != nil })
        let signed = try await csr(c, "boot")
        #expect(signed.spec?.username == "system:bootstrap:abcdef")
        #expect(signed.status?.conditions?.first?.type == "Approved")
        #expect(signed.status?.conditions?.first?.reason == "AutoApproved")
        let pem = String(data: Data(base64Encoded: signed.status!.certificate!)!, encoding: .utf8)!
        let cert = try Certificate(pemEncoded: pem)
        #expect(cert.issuer == (try Certificate(pemEncoded: Self.pki.caCertPEM)).subject)
        #expect(cert.subject.description.contains("CN=system:node:n1"))
        let eku = try cert.extensions.extendedKeyUsage
        #expect(eku?.contains(ExtendedKeyUsage.Usage.clientAuth) == true)
    }

    @Test func aNodeRenewsItsOwnCertificateButNotAnothers() async throws {
        let c = try await ControllerTestCluster()
        let task = try await start(c)
        defer { task.cancel() }
        try await submit(c, "self", subject: Self.node, signer: "kubernetes.io/kube-apiserver-client-kubelet",
                         usages: Self.clientUsages, user: Self.nodeUser)
        let other = CertificateAuthority.Subject(commonName: "system:node:n2", organizations: ["system:nodes"])
        try await submit(c, "other", subject: other, signer: "kubernetes.io/kube-apiserver-client-kubelet",
                         usages: Self.clientUsages, user: Self.nodeUser)
        let admin = UserInfo(name: "someone", groups: ["system:authenticated"])
        try await submit(c, "stranger", subject: other, signer: "kubernetes.io/kube-apiserver-client-kubelet",
                         usages: Self.clientUsages, user: admin)
        #expect(try await eventually { try await csr(c, "self").status?.certificate != nil })
        // The others stay pending for an operator.
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await csr(c, "other").status?.conditions == nil)
        #expect(try await csr(c, "stranger").status?.conditions == nil)
    }

    @Test func servingCertificatesOnlyForTheNodeItselfWithNames() async throws {
        let c = try await ControllerTestCluster()
        let task = try await start(c)
        defer { task.cancel() }
        let serving = CertificateAuthority.Subject(commonName: "system:node:n1", organizations: ["system:nodes"],
                                                   dnsNames: ["n1"], ipAddresses: ["10.0.0.7"])
        let usages = ["digital signature", "key encipherment", "server auth"]
        try await submit(c, "mine", subject: serving, signer: "kubernetes.io/kubelet-serving", usages: usages, user: Self.nodeUser)
        try await submit(c, "bootstrap", subject: serving, signer: "kubernetes.io/kubelet-serving", usages: usages,
                         user: NodeJoinToken.bootstrapUser(id: "abcdef"))
        // Names that are not the node's own stay pending: the API server's, or another node's address.
        let posing = CertificateAuthority.Subject(commonName: "system:node:n1", organizations: ["system:nodes"],
                                                  dnsNames: ["kubernetes.default.svc"], ipAddresses: ["10.0.0.7"])
        try await submit(c, "posing", subject: posing, signer: "kubernetes.io/kubelet-serving", usages: usages, user: Self.nodeUser)
        var other = c.readyNode("n2")
        other.status?.addresses = [NodeAddress(address: "10.0.0.9", type: "InternalIP")]
        try await c.client.create(other)
        let stealing = CertificateAuthority.Subject(commonName: "system:node:n1", organizations: ["system:nodes"],
                                                    dnsNames: ["n1"], ipAddresses: ["10.0.0.9"])
        try await submit(c, "stealing", subject: stealing, signer: "kubernetes.io/kubelet-serving", usages: usages, user: Self.nodeUser)
        #expect(try await eventually { try await csr(c, "mine").status?.certificate != nil })
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await csr(c, "bootstrap").status?.certificate == nil)
        #expect(try await csr(c, "posing").status?.conditions == nil)
        #expect(try await csr(c, "stealing").status?.conditions == nil)
    }

    @Test func anApprovedRequestTheSignerCannotHonourFails() async throws {
        let c = try await ControllerTestCluster()
        let task = try await start(c)
        defer { task.cancel() }
        // Approved by hand, but a node client certificate may not carry names.
        let named = CertificateAuthority.Subject(commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: ["n1"])
        try await submit(c, "named", subject: named, signer: "kubernetes.io/kube-apiserver-client-kubelet",
                         usages: Self.clientUsages, user: Self.nodeUser)
        var csr = try await csr(c, "named")
        csr.status = CertificateSigningRequestStatus(conditions: [
            CertificateSigningRequestCondition(reason: "ByHand", status: "True", type: "Approved")])
        _ = try await c.client.update(csr, subresource: "approval")
        #expect(try await eventually {
            let conditions = try await self.csr(c, "named").status?.conditions ?? []
            return conditions.contains { $0.type == "Failed" && $0.reason == "SignerValidationFailure" }
        })
        #expect(try await self.csr(c, "named").status?.certificate == nil)
    }
}
