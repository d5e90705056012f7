import Foundation
import OrcaPKI
import Testing
import X509
@testable import OrcaAPIServer

/// The serving and admin certificates are renewed at start when less than 90 days remain,
/// keeping the CA; keys are private files.
@Suite struct ClusterPKIRenewalTests {
    @Test func certificatesAreRenewedWithinNinetyDaysOfExpiry() throws {
        let dir = NSTemporaryDirectory() + "orca-pki-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let first = try ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"], now: start)
        // 200 days on, 165 remain: kept.
        let kept = try ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"], now: start.addingTimeInterval(200 * 86_400))
        #expect(kept.serverCertPEM == first.serverCertPEM && kept.adminCertPEM == first.adminCertPEM)
        // 300 days on, 65 remain: renewed, under the same CA.
        let later = start.addingTimeInterval(300 * 86_400)
        let renewed = try ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"], now: later)
        #expect(renewed.caCertPEM == first.caCertPEM)
        #expect(renewed.serverCertPEM != first.serverCertPEM && renewed.adminCertPEM != first.adminCertPEM)
        for pem in [renewed.serverCertPEM, renewed.adminCertPEM] {
            let cert = try Certificate(pemEncoded: pem)
            #expect(cert.notValidAfter.timeIntervalSince(later) > 300 * 86_400)
            #expect(cert.issuer == (try Certificate(pemEncoded: first.caCertPEM)).subject)
        }
        for key in ["ca.key", "server.key", "admin.key"] {
            let mode = try #require(FileManager.default.attributesOfItem(atPath: "\(dir)/\(key)")[.posixPermissions] as? Int)
            #expect(mode == 0o600, "\(key) has mode \(String(mode, radix: 8))")
        }
        let dirMode = try #require(FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? Int)
        #expect(dirMode == 0o700)
    }
}
