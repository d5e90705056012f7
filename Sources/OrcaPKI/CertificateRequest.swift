import Crypto
import Foundation
import SwiftASN1
import X509

/// A PKCS#10 certificate signing request, as `certificates.k8s.io/v1` carries it in
/// `spec.request` (PEM "CERTIFICATE REQUEST").
public struct CertificateRequest: Sendable {
    public let csr: CertificateSigningRequest
    /// Subject and requested names (from the extension request attribute).
    public let subject: CertificateAuthority.Subject

    /// Parses and checks a PEM request: its self-signature must verify.
    public init(pem: String) throws {
        let csr: CertificateSigningRequest
        do { csr = try CertificateSigningRequest(pemEncoded: pem) } catch {
            throw PKIError("the request is not a PEM-encoded PKCS#10 certificate request: \(error)")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw PKIError("the request's signature does not verify")
        }
        self.csr = csr
        let cn = csr.subject.commonName
        let orgs = csr.subject.organizations
        var dns: [String] = []
        var ips: [String] = []
        if let names = try? csr.attributes.extensionRequest?.extensions.subjectAlternativeNames {
            for name in names {
                switch name {
                case .dnsName(let d): dns.append(d)
                case .ipAddress(let octets) where octets.bytes.count == 4:
                    ips.append(octets.bytes.map(String.init).joined(separator: "."))
                default: break
                }
            }
        }
        subject = .init(commonName: cn, organizations: orgs, dnsNames: dns, ipAddresses: ips)
    }

    /// A new P-256 key and a request for `subject`, both PEM.
    public static func make(_ subject: CertificateAuthority.Subject) throws -> (requestPEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        return (try make(subject, key: key), key.pemRepresentation)
    }

    /// A request for `subject` signed by an existing PEM key (a renewal may keep its key).
    public static func make(_ subject: CertificateAuthority.Subject, keyPEM: String) throws -> String {
        try make(subject, key: try P256.Signing.PrivateKey(pemRepresentation: keyPEM))
    }

    static func make(_ s: CertificateAuthority.Subject, key: P256.Signing.PrivateKey) throws -> String {
        let name = try DistinguishedName {
            for o in s.organizations { OrganizationName(o) }
            CommonName(s.commonName)
        }
        var names: [GeneralName] = s.dnsNames.map { .dnsName($0) }
        for ip in s.ipAddresses {
            if let bytes = ClusterPKI.ipBytes(ip) { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))) }
        }
        var attributes = CertificateSigningRequest.Attributes()
        if !names.isEmpty {
            let extensions = try Certificate.Extensions { SubjectAlternativeNames(names) }
            attributes.insert(try .init(ExtensionRequest(extensions: extensions)))
        }
        let csr = try CertificateSigningRequest(version: .v1, subject: name, privateKey: .init(key),
                                                attributes: attributes, signatureAlgorithm: .ecdsaWithSHA256)
        return try csr.serializeAsPEM().pemString
    }
}

/// A PKI failure with a message for people (a bad request, a token that does not parse).
public struct PKIError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ message: String) { description = message }
}
