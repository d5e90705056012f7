import Crypto
import _CryptoExtras
import Foundation
import OrcaCore

/// Encrypts objects on their way into the store and decrypts them on the way out, in
/// kube-apiserver's stored format, so a store written by one can be read by the other:
///
/// - aesgcm: `k8s:enc:aesgcm:v1:<key name>:` + nonce (12 bytes) + ciphertext + tag (16),
///   with the storage key (`/registry/secrets/<ns>/<name>`) as authenticated data, so a
///   value copied to another key does not decrypt;
/// - aescbc: `k8s:enc:aescbc:v1:<key name>:` + IV (16 bytes) + ciphertext (PKCS#7 padded);
/// - identity: the data as it is (never starting with `k8s:enc:`).
///
/// The first provider's first key encrypts; every listed key decrypts the data that names
/// it. Its description never shows a key.
public struct StorageTransformer: Sendable, CustomStringConvertible {
    struct Entry: Sendable {
        enum Cipher: Sendable { case aesgcm, aescbc, identity }
        var cipher: Cipher
        var keyName: String
        var secret: [UInt8]
        /// `k8s:enc:aesgcm:v1:key1:`; empty for identity.
        var prefix: [UInt8]
    }

    /// Every key of every provider, in the configuration's order.
    let entries: [Entry]

    /// The start of all encrypted data.
    public static let encryptedPrefix = Array("k8s:enc:".utf8)

    public init(providers: [EncryptionConfiguration.Provider]) {
        var entries: [Entry] = []
        for p in providers {
            switch p {
            case .identity:
                entries.append(Entry(cipher: .identity, keyName: "", secret: [], prefix: []))
            case .aesgcm(let keys):
                for k in keys {
                    entries.append(Entry(cipher: .aesgcm, keyName: k.name, secret: k.secret, prefix: Array("k8s:enc:aesgcm:v1:\(k.name):".utf8)))
                }
            case .aescbc(let keys):
                for k in keys {
                    entries.append(Entry(cipher: .aescbc, keyName: k.name, secret: k.secret, prefix: Array("k8s:enc:aescbc:v1:\(k.name):".utf8)))
                }
            }
        }
        self.entries = entries
    }

    public var description: String {
        "StorageTransformer(" + entries.map { $0.cipher == .identity ? "identity" : "\($0.cipher):\($0.keyName)" }.joined(separator: ", ") + ")"
    }

    /// The stored form of `plaintext` under the first provider; `context` is the storage key.
    public func encrypt(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        guard let first = entries.first else { throw OrcaError(.internalError, "no encryption provider is configured") }
        switch first.cipher {
        case .identity:
            return plaintext
        case .aesgcm:
            let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: first.secret), nonce: AES.GCM.Nonce(),
                                       authenticating: Array(context.utf8))
            guard let combined = box.combined else { throw OrcaError(.internalError, "AES-GCM produced no combined output") }
            return first.prefix + Array(combined)
        case .aescbc:
            var generator = SystemRandomNumberGenerator()
            let ivBytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let ciphertext = try AES._CBC.encrypt(plaintext, using: SymmetricKey(data: first.secret),
                                                  iv: try AES._CBC.IV(ivBytes: ivBytes))
            return first.prefix + ivBytes + Array(ciphertext)
        }
    }

    /// The plaintext of `stored`, read by the provider and key its prefix names (data without
    /// the `k8s:enc:` prefix only when `identity` is listed, as in Kubernetes). Throws an
    /// `.internalError` that names the provider and key, never the data.
    public func decrypt(_ stored: [UInt8], context: String) throws -> [UInt8] {
        try read(stored, context: context).plaintext
    }

    /// The plaintext and whether it was written by a provider or key other than the first
    /// (the next write re-encrypts it).
    func read(_ stored: [UInt8], context: String) throws -> (plaintext: [UInt8], stale: Bool) {
        let encrypted = stored.starts(with: Self.encryptedPrefix)
        var firstError: (any Error)?
        for (i, entry) in entries.enumerated() {
            switch entry.cipher {
            case .identity:
                // Encrypted data is for the providers further down.
                if encrypted { continue }
                return (stored, i != 0)
            case .aesgcm, .aescbc:
                guard stored.starts(with: entry.prefix) else { continue }
                do {
                    return (try entry.open(Array(stored[entry.prefix.count...]), context: context), i != 0)
                } catch {
                    // Another entry may carry the same prefix (a key name reused across providers).
                    if firstError == nil { firstError = error }
                }
            }
        }
        if let firstError { throw firstError }
        if encrypted {
            throw OrcaError(.internalError, "the data was written by \(Self.writer(of: stored)), which no configured encryption provider has")
        }
        throw OrcaError(.internalError, "the data is not encrypted and the identity provider is not configured")
    }

    /// Whether `stored` was not written by the first provider and key, so the next write
    /// (even one that changes nothing) should store it again.
    public func needsReencryption(stored: [UInt8]) -> Bool {
        guard let first = entries.first else { return false }
        switch first.cipher {
        case .identity: return stored.starts(with: Self.encryptedPrefix)
        case .aesgcm, .aescbc: return !stored.starts(with: first.prefix)
        }
    }

    /// `aesgcm key "key1"` from `k8s:enc:aesgcm:v1:key1:…` (names only the provider and key).
    static func writer(of stored: [UInt8]) -> String {
        // k8s, enc, provider, version, key name: the name ends at the fifth colon.
        let head = stored.prefix(256)
        var fields: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        for i in head.indices where head[i] == UInt8(ascii: ":") {
            fields.append(head[start..<i])
            start = i + 1
            if fields.count == 5 { break }
        }
        guard fields.count == 5 else { return "an unknown encryption provider" }
        let provider = String(decoding: fields[2], as: UTF8.self)
        let name = String(decoding: fields[4], as: UTF8.self)
        return "\(provider) (\(String(decoding: fields[3], as: UTF8.self))) key \"\(name)\""
    }
}

extension StorageTransformer.Entry {
    /// Decrypts `body` (what follows the prefix).
    func open(_ body: [UInt8], context: String) throws -> [UInt8] {
        let key = SymmetricKey(data: secret)
        switch cipher {
        case .identity:
            return body
        case .aesgcm:
            guard body.count >= 12 + 16 else {
                throw OrcaError(.internalError, "aesgcm key \"\(keyName)\": the stored data is too short")
            }
            do {
                let box = try AES.GCM.SealedBox(combined: body)
                return Array(try AES.GCM.open(box, using: key, authenticating: Array(context.utf8)))
            } catch {
                // BoringSSL reports a failed tag check as its own error, not `authenticationFailure`.
                throw OrcaError(.internalError, "aesgcm key \"\(keyName)\": message authentication failed (the data was changed, was copied from another storage key, or was written with another key of this name): \(error)")
            }
        case .aescbc:
            guard body.count >= 32, body.count % 16 == 0 else {
                throw OrcaError(.internalError, "aescbc key \"\(keyName)\": the stored data is not a multiple of the block size")
            }
            do {
                let iv = try AES._CBC.IV(ivBytes: body[0..<16])
                return Array(try AES._CBC.decrypt(Array(body[16...]), using: key, iv: iv))
            } catch {
                throw OrcaError(.internalError, "aescbc key \"\(keyName)\": decryption failed (invalid padding: the data was changed or was written with another key of this name)")
            }
        }
    }
}
