import Crypto
import Foundation
import SwiftASN1
import OrcaCore
import X509

/// The cluster's certificates under `<data-dir>/tls`: a self-generated CA, the API
/// server's serving certificate, the admin client certificate and the API server's client
/// certificate for kubelets. Generated once and reused across restarts.
public struct ClusterPKI: Sendable {
    public var caCertPEM: String
    public var caKeyPEM: String
    public var serverCertPEM: String
    public var serverKeyPEM: String
    public var adminCertPEM: String
    public var adminKeyPEM: String
    /// The API server's client certificate towards kubelets (`--kubelet-client-certificate`).
    public var kubeletClientCertPEM: String
    public var kubeletClientKeyPEM: String

    /// The CA as a signer of CertificateSigningRequests.
    public var authority: CertificateAuthority {
        get throws { try CertificateAuthority(certificatePEM: caCertPEM, keyPEM: caKeyPEM) }
    }

    /// Loads the PKI from `dir`, creating what is missing. `hosts` are the serving
    /// certificate's extra names (IP addresses or DNS names).
    ///
    /// The serving and admin certificates are renewed (same CA) when less than
    /// `renewBefore` (90 days, as k3s) of their validity remains at `now`.
    public static func loadOrCreate(dir: String, hosts: [String], now: Date = Date(),
                                    renewBefore: TimeInterval = 90 * 86_400) throws -> ClusterPKI {
        let fm = FileManager.default
        try PrivateFiles.directory(dir, mode: 0o700)
        func read(_ name: String) -> String? { try? String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8) }
        func write(_ name: String, _ text: String, mode: mode_t) throws {
            try PrivateFiles.write(Array(text.utf8), to: "\(dir)/\(name)", mode: mode)
        }
        let caKey: P256.Signing.PrivateKey
        let caCert: Certificate
        if let kp = read("ca.key"), let cp = read("ca.crt") {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: kp)
            caCert = try Certificate(pemEncoded: cp)
        } else {
            caKey = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName("orca-ca@\(Int(now.timeIntervalSince1970))") }
            caCert = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: .init(caKey))
            try write("ca.key", caKey.pemRepresentation, mode: 0o600)
            try write("ca.crt", try caCert.serializeAsPEM().pemString, mode: 0o644)
            for stale in ["server.crt", "server.key", "admin.crt", "admin.key", "apiserver-kubelet-client.crt", "apiserver-kubelet-client.key"] { try? fm.removeItem(atPath: "\(dir)/\(stale)") }
        }
        func issue(_ file: String, commonName: String, organization: String?, server: Bool) throws -> (String, String) {
            if let k = read("\(file).key"), let c = read("\(file).crt"), let existing = try? Certificate(pemEncoded: c),
               existing.notValidAfter.timeIntervalSince(now) >= renewBefore, existing.issuer == caCert.subject,
               !server || covers(existing, hosts) {
                return (c, k)
            }
            let key = P256.Signing.PrivateKey()
            var dns = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
            var ips = ["127.0.0.1"]
            for h in hosts { if ClusterPKI.ipBytes(h) != nil { ips.append(h) } else { dns.append(h) } }
            let subject = CertificateAuthority.Subject(commonName: commonName, organizations: organization.map { [$0] } ?? [],
                                                       dnsNames: server ? dns : [], ipAddresses: server ? ips : [])
            let pem = try CertificateAuthority(certificate: caCert, key: caKey).issue(
                publicKey: .init(key.publicKey), subject: subject,
                usages: .init(keyEncipherment: true, clientAuth: !server, serverAuth: server), lifetime: 365 * 86400, now: now)
            let pair = (pem, key.pemRepresentation)
            try write("\(file).crt", pair.0, mode: 0o644)
            try write("\(file).key", pair.1, mode: 0o600)
            return pair
        }
        func covers(_ cert: Certificate, _ hosts: [String]) -> Bool {
            guard let san = try? cert.extensions.subjectAlternativeNames else { return false }
            let have = Set(san.map { "\($0)" })
            return hosts.allSatisfy { h in
                if let ip = ClusterPKI.ipBytes(h) { return have.contains("\(GeneralName.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip))))") }
                return have.contains("\(GeneralName.dnsName(h))")
            }
        }
        let server = try issue("server", commonName: "kube-apiserver", organization: nil, server: true)
        let admin = try issue("admin", commonName: "admin", organization: "system:masters", server: false)
        let kubelet = try issue("apiserver-kubelet-client", commonName: "kube-apiserver-kubelet-client",
                                organization: "system:masters", server: false)
        return ClusterPKI(caCertPEM: try caCert.serializeAsPEM().pemString, caKeyPEM: caKey.pemRepresentation,
                          serverCertPEM: server.0, serverKeyPEM: server.1, adminCertPEM: admin.0, adminKeyPEM: admin.1,
                          kubeletClientCertPEM: kubelet.0, kubeletClientKeyPEM: kubelet.1)
    }

    /// The four bytes of a dotted IPv4 address, or nil.
    public static func ipBytes(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    /// A kubeconfig for the admin user against `server` (e.g. `https://127.0.0.1:6443`).
    public func adminKubeconfig(server: String) -> String {
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: orca
          cluster:
            server: \(server)
            certificate-authority-data: \(b64(caCertPEM))
        users:
        - name: admin
          user:
            client-certificate-data: \(b64(adminCertPEM))
            client-key-data: \(b64(adminKeyPEM))
        contexts:
        - name: orca
          context:
            cluster: orca
            user: admin
            namespace: default
        current-context: orca

        """
    }
}
