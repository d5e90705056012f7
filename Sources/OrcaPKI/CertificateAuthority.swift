import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster CA as a signer: issues certificates for keys it generates (the server's own
/// certificates) and for CertificateSigningRequests (nodes' client and serving certificates).
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    let key: Certificate.PrivateKey

    /// The CA from its PEM certificate and P-256 key.
    public init(certificatePEM: String, keyPEM: String) throws {
        certificate = try Certificate(pemEncoded: certificatePEM)
        key = .init(try P256.Signing.PrivateKey(pemRepresentation: keyPEM))
    }

    init(certificate: Certificate, key: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.key = .init(key)
    }

    /// What a certificate is for: Kubernetes' key usage words (`certificates.k8s.io/v1`
    /// `spec.usages`: "digital signature", "key encipherment", "client auth", "server auth").
    public struct Usages: Sendable, Equatable {
        public var digitalSignature = true
        public var keyEncipherment = false
        public var clientAuth = false
        public var serverAuth = false

        public init(digitalSignature: Bool = true, keyEncipherment: Bool = false, clientAuth: Bool = false, serverAuth: Bool = false) {
            self.digitalSignature = digitalSignature
            self.keyEncipherment = keyEncipherment
            self.clientAuth = clientAuth
            self.serverAuth = serverAuth
        }

        /// The usages of a CSR's `spec.usages`; nil when one is unknown to Orca's signers.
        public init?(kubernetes words: [String]) {
            digitalSignature = false
            for word in words {
                switch word {
                case "digital signature": digitalSignature = true
                case "key encipherment": keyEncipherment = true
                case "client auth": clientAuth = true
                case "server auth": serverAuth = true
                default: return nil
                }
            }
        }
    }

    /// Who a certificate names: subject and subject alternative names.
    public struct Subject: Sendable, Equatable {
        public var commonName: String
        public var organizations: [String]
        public var dnsNames: [String]
        public var ipAddresses: [String]

        public init(commonName: String, organizations: [String] = [], dnsNames: [String] = [], ipAddresses: [String] = []) {
            self.commonName = commonName
            self.organizations = organizations
            self.dnsNames = dnsNames
            self.ipAddresses = ipAddresses
        }
    }

    /// A certificate for `publicKey`, valid from an hour before `now` (clock skew) for `lifetime`,
    /// never past the CA's own expiry. Returns PEM.
    public func issue(publicKey: Certificate.PublicKey, subject s: Subject, usages: Usages,
                      lifetime: TimeInterval, now: Date = Date()) throws -> String {
        let subject = try DistinguishedName {
            for o in s.organizations { OrganizationName(o) }
            CommonName(s.commonName)
        }
        var names: [GeneralName] = s.dnsNames.map { .dnsName($0) }
        for ip in s.ipAddresses {
            if let bytes = ClusterPKI.ipBytes(ip) { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))) }
        }
        let notAfter = min(now.addingTimeInterval(lifetime), certificate.notValidAfter)
        var purposes: [ExtendedKeyUsage.Usage] = []
        if usages.serverAuth { purposes.append(.serverAuth) }
        if usages.clientAuth { purposes.append(.clientAuth) }
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: notAfter,
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: usages.digitalSignature, keyEncipherment: usages.keyEncipherment))
                if !purposes.isEmpty { try ExtendedKeyUsage(purposes) }
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: key)
        return try cert.serializeAsPEM().pemString
    }

    /// A new P-256 key and a certificate for it (PEM both): what the server issues for itself,
    /// such as its embedded node's kubelet serving certificate.
    public func issueWithNewKey(subject: Subject, usages: Usages, lifetime: TimeInterval,
                                now: Date = Date()) throws -> (certificatePEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let pem = try issue(publicKey: .init(key.publicKey), subject: subject, usages: usages, lifetime: lifetime, now: now)
        return (pem, key.pemRepresentation)
    }

    /// Signs a PEM CSR (PKCS#10) whose signature must verify; the subject and names come from
    /// the request, the usages and lifetime from the signer's decision.
    public func sign(requestPEM: String, usages: Usages, lifetime: TimeInterval, now: Date = Date()) throws -> String {
        let request = try CertificateRequest(pem: requestPEM)
        return try issue(publicKey: request.csr.publicKey, subject: request.subject, usages: usages, lifetime: lifetime, now: now)
    }

    /// The CA certificate as PEM.
    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }
}

extension CertificateAuthority {
    /// The `notAfter` of the first PEM block of `pem` (a CSR's `status.certificate`, decoded
    /// from base64); nil when that block is not a certificate that parses.
    public static func notAfter(ofPEM pem: String) -> Date? {
        guard let first = try? PEMDocument.parseMultiple(pemString: pem).first,
              let certificate = try? Certificate(pemDocument: first) else { return nil }
        return certificate.notValidAfter
    }
}
