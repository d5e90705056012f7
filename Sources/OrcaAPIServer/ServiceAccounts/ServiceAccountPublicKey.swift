import Crypto
import Foundation
import OrcaAPI
import OrcaCore
import _CryptoExtras

/// A key that verifies ServiceAccount tokens (RS256): the public half of the signing key,
/// or an extra one kept for rotation (kube-apiserver's `--service-account-key-file`).
public struct ServiceAccountPublicKey: Sendable {
    let key: _RSA.Signing.PublicKey
    /// kube-apiserver's key ID: unpadded base64url of the SHA-256 of the PKIX DER public key.
    public let keyID: String
    /// The key as a JWK, as kube-apiserver serves it at `/openid/v1/jwks`: `use`, `kty`,
    /// `kid`, `alg`, `n`, `e` (big-endian without leading zeros, unpadded base64url).
    public let jwk: JSONValue

    init(_ key: _RSA.Signing.PublicKey) throws {
        self.key = key
        let keyID = Base64URL.encode(Data(SHA256.hash(data: key.derRepresentation)))
        let primitives = try key.getKeyPrimitives()
        self.keyID = keyID
        self.jwk = [
            "use": "sig", "kty": "RSA", "kid": .string(keyID), "alg": "RS256",
            "n": .string(Base64URL.encode(Self.minimal(primitives.modulus))),
            "e": .string(Base64URL.encode(Self.minimal(primitives.publicExponent))),
        ]
    }

    /// Reads a PKIX (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`) PEM block.
    public init(pemRepresentation: String) throws {
        try self.init(try Self.parse { try _RSA.Signing.PublicKey(pemRepresentation: pemRepresentation) })
    }

    /// Reads PKIX or PKCS#1 DER.
    public init(derRepresentation: some DataProtocol) throws {
        try self.init(try Self.parse { try _RSA.Signing.PublicKey(derRepresentation: derRepresentation) })
    }

    /// Reads an RSA JSON Web Key (`kty: RSA`, base64url `n` and `e`), as served in a JWKS.
    public init(jwk: JSONValue) throws {
        guard jwk["kty"]?.stringValue == "RSA" else { throw OrcaError(.invalid, "JWK: kty is not RSA") }
        guard let n = jwk["n"]?.stringValue.flatMap(Base64URL.decode), !n.isEmpty,
              let e = jwk["e"]?.stringValue.flatMap(Base64URL.decode), !e.isEmpty else {
            throw OrcaError(.invalid, "JWK: n and e must be unpadded base64url")
        }
        try self.init(try Self.parse { try _RSA.Signing.PublicKey(n: n, e: e) })
    }

    /// The PKIX (SubjectPublicKeyInfo) DER encoding, what the key ID is a hash of.
    public var derRepresentation: Data { key.derRepresentation }

    /// The `PUBLIC KEY` PEM block.
    public var pemRepresentation: String { key.pemRepresentation }

    /// Whether `signature` is this key's RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256)
    /// of `message`.
    public func isValidSignature(_ signature: some DataProtocol, for message: some DataProtocol) -> Bool {
        key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature),
                             for: SHA256.hash(data: Data(message)), padding: .insecurePKCS1v1_5)
    }

    /// The key `body` reads, or `OrcaError.invalid`.
    private static func parse(_ body: () throws -> _RSA.Signing.PublicKey) throws -> _RSA.Signing.PublicKey {
        do {
            return try body()
        } catch {
            throw OrcaError(.invalid, "not an RSA public key of at least 2048 bits: \(error)")
        }
    }

    /// `bytes` without leading zero bytes (a JWK's numbers are minimal, as Go's `big.Int.Bytes`).
    private static func minimal(_ bytes: Data) -> Data {
        let trimmed = bytes.drop { $0 == 0 }
        return trimmed.isEmpty ? Data([0]) : Data(trimmed)
    }
}
