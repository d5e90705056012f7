import Foundation
import OrcaPKI
import SwiftASN1
import Testing
import X509

@Suite struct CertificateAuthorityTests {
    func authority() throws -> (CertificateAuthority, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-ca-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"])
        return (try pki.authority, pki.caCertPEM)
    }

    @Test func signsARequestWithItsSubjectNamesAndUsages() throws {
        let (ca, caPEM) = try authority()
        let subject = CertificateAuthority.Subject(commonName: "system:node:n1", organizations: ["system:nodes"],
                                                   dnsNames: ["n1"], ipAddresses: ["10.0.0.7"])
        let (request, _) = try CertificateRequest.make(subject)
        let parsed = try CertificateRequest(pem: request)
        #expect(parsed.subject == subject)
        let now = Date()
        let pem = try ca.sign(requestPEM: request, usages: .init(keyEncipherment: true, serverAuth: true), lifetime: 3600, now: now)
        let cert = try Certificate(pemEncoded: pem)
        #expect(cert.issuer == (try Certificate(pemEncoded: caPEM)).subject)
        #expect(cert.subject.description.contains("CN=system:node:n1"))
        #expect(cert.subject.description.contains("O=system:nodes"))
        #expect(abs(cert.notValidAfter.timeIntervalSince(now) - 3600) < 2)
        let names = Array(try cert.extensions.subjectAlternativeNames ?? SubjectAlternativeNames([]))
        #expect(names.contains(.dnsName("n1")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [10, 0, 0, 7]))))
        let eku = try cert.extensions.extendedKeyUsage
        #expect(eku?.contains(.serverAuth) == true)
        #expect(eku?.contains(.clientAuth) == false)
    }

    @Test func refusesARequestThatIsNotOne() {
        #expect(throws: PKIError.self) { try CertificateRequest(pem: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n") }
    }

    @Test func kubernetesUsageWords() {
        #expect(CertificateAuthority.Usages(kubernetes: ["digital signature", "client auth"]) == .init(clientAuth: true))
        #expect(CertificateAuthority.Usages(kubernetes: ["code signing"]) == nil)
    }
}
