import Crypto
import Foundation
import OrcaCore
import _CryptoExtras

/// The private key the API server signs ServiceAccount tokens with (kube-apiserver's
/// `--service-account-signing-key-file`): RSA, RS256.
public struct ServiceAccountSigningKey: Sendable {
    let privateKey: _RSA.Signing.PrivateKey
    /// The public half, which verifies the tokens and is published in the JWKS.
    public let publicKey: ServiceAccountPublicKey

    /// The `kid` header of every token this key signs (see `ServiceAccountPublicKey.keyID`).
    public var keyID: String { publicKey.keyID }

    /// The public key as a JWK, for `/openid/v1/jwks`.
    public var jwk: JSONValue { publicKey.jwk }

    init(_ privateKey: _RSA.Signing.PrivateKey) throws {
        self.privateKey = privateKey
        self.publicKey = try ServiceAccountPublicKey(privateKey.publicKey)
    }

    /// Reads a PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`) PEM block.
    public init(pemRepresentation: String) throws {
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: pemRepresentation)
        } catch {
            throw OrcaError(.invalid, "not an RSA private key of at least 2048 bits: \(error)")
        }
        try self.init(key)
    }

    /// A fresh 2048-bit key.
    public static func generate() throws -> ServiceAccountSigningKey {
        try ServiceAccountSigningKey(_RSA.Signing.PrivateKey(keySize: .bits2048))
    }

    /// The key in `path`, or a new one written there (mode 0600, atomically) when the file
    /// does not exist. The parent directory is created (0700) if missing. A file that exists
    /// but cannot be read as an RSA key is an error, never overwritten.
    public static func loadOrCreate(path: String) throws -> ServiceAccountSigningKey {
        if FileManager.default.fileExists(atPath: path) {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw OrcaError(.system, "read \(path): \(error)")
            }
            do {
                return try ServiceAccountSigningKey(pemRepresentation: text)
            } catch let e as OrcaError {
                throw OrcaError(.invalid, "\(path): \(e.message)")
            }
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try PrivateFiles.directory(directory, mode: 0o700)
        }
        let key = try generate()
        try PrivateFiles.write(Array(key.pemRepresentation.utf8), to: path, mode: 0o600)
        return key
    }

    /// The PKCS#1 `RSA PRIVATE KEY` PEM block (as `openssl genrsa` and kubeadm write it).
    public var pemRepresentation: String { privateKey.pemRepresentation }

    /// The RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256) of `message`.
    public func signature(for message: some DataProtocol) throws -> Data {
        try privateKey.signature(for: SHA256.hash(data: Data(message)), padding: .insecurePKCS1v1_5).rawRepresentation
    }
}
