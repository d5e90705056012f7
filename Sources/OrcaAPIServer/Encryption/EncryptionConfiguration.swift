import Crypto
import Foundation
import OrcaCore

/// How the API server encrypts resources at rest: kube-apiserver's
/// `--encryption-provider-config` file (`apiserver.config.k8s.io/v1`, kind
/// `EncryptionConfiguration`), YAML or JSON.
///
/// ```yaml
/// apiVersion: apiserver.config.k8s.io/v1
/// kind: EncryptionConfiguration
/// resources:
///   - resources: ["secrets"]
///     providers:
///       - aesgcm: {keys: [{name: key1, secret: <base64 of 16, 24 or 32 bytes>}]}
///       - identity: {}
/// ```
///
/// The first provider (its first key) encrypts every write; all listed providers and keys
/// decrypt, so a new key is rolled out by listing it first and the old one after it.
/// Orca supports the `aesgcm`, `aescbc` and `identity` providers (not `secretbox` or `kms`).
public struct EncryptionConfiguration: Sendable, Equatable {
    /// One named key of an `aesgcm` or `aescbc` provider. Its description never shows the secret.
    public struct Key: Sendable, Equatable, CustomStringConvertible {
        /// The name written into the stored data (`k8s:enc:aesgcm:v1:<name>:`).
        public var name: String
        /// The raw key (the config file holds it base64-encoded).
        public var secret: [UInt8]

        public init(name: String, secret: [UInt8]) {
            self.name = name
            self.secret = secret
        }

        public var description: String { "Key(name: \(name), secret: <redacted>)" }
    }

    /// One element of `providers`.
    public enum Provider: Sendable, Equatable, CustomStringConvertible {
        /// AES-GCM with a random 12-byte nonce; the storage key is the authenticated data.
        case aesgcm(keys: [Key])
        /// AES-CBC with a random 16-byte IV and PKCS#7 padding.
        case aescbc(keys: [Key])
        /// No encryption: data is stored as it is.
        case identity

        /// The provider's name in the file (`aesgcm`, `aescbc`, `identity`).
        public var name: String {
            switch self {
            case .aesgcm: "aesgcm"
            case .aescbc: "aescbc"
            case .identity: "identity"
            }
        }

        public var description: String {
            switch self {
            case .aesgcm(let keys), .aescbc(let keys): "\(name)(\(keys.map(\.name).joined(separator: ", ")))"
            case .identity: "identity"
            }
        }
    }

    /// One element of `resources`: which resources (`secrets`, `deployments.apps`,
    /// `*.apps`, `*.` for the core group, `*.*` for all) use which providers.
    public struct ResourceConfiguration: Sendable, Equatable {
        public var resources: [String]
        public var providers: [Provider]

        public init(resources: [String], providers: [Provider]) {
            self.resources = resources
            self.providers = providers
        }
    }

    public static let apiVersion = "apiserver.config.k8s.io/v1"
    public static let kind = "EncryptionConfiguration"

    public var resources: [ResourceConfiguration]

    public init(resources: [ResourceConfiguration]) {
        self.resources = resources
    }

    // MARK: which resources

    /// The providers for a resource (`secrets`, `deployments.apps`), or nil when the
    /// configuration does not cover it (it is then stored unencrypted). As kube-apiserver
    /// does: an exact name wins over `*.<group>`, which wins over `*.*`; among equals the
    /// earlier element of `resources` wins.
    public func providers(for groupResource: String) -> [Provider]? {
        let (resource, group) = Self.split(groupResource)
        let patterns = resources.map { rc in rc.resources.map { Self.split($0) } }
        func first(_ matches: (Substring, Substring) -> Bool) -> [Provider]? {
            for (i, names) in patterns.enumerated() where names.contains(where: { matches($0.resource, $0.group) }) {
                return resources[i].providers
            }
            return nil
        }
        if let exact = first({ r, g in r != "*" && r == resource && g == group }) { return exact }
        if let inGroup = first({ r, g in r == "*" && g == group }) { return inGroup }
        return first({ r, g in r == "*" && g == "*" })
    }

    /// The transformer for a resource, or nil when the configuration does not cover it.
    public func transformer(for groupResource: String) -> StorageTransformer? {
        providers(for: groupResource).map(StorageTransformer.init(providers:))
    }

    /// `deployments.apps` → (`deployments`, `apps`); `secrets` → (`secrets`, ``); `*.` → (`*`, ``).
    static func split(_ groupResource: String) -> (resource: Substring, group: Substring) {
        guard let dot = groupResource.firstIndex(of: ".") else { return (groupResource[...], "") }
        return (groupResource[..<dot], groupResource[groupResource.index(after: dot)...])
    }

    // MARK: files

    /// Reads and validates the configuration file at `path` (YAML or JSON).
    public static func load(path: String) throws -> EncryptionConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw OrcaError(.invalid, "reading the encryption provider configuration \(path): \(error.localizedDescription)")
        }
        do {
            return try parse(text)
        } catch let e as OrcaError {
            throw OrcaError(e.code, "\(path): \(e.message)")
        }
    }

    /// Loads the configuration at `path`; when there is no file, first writes one (mode
    /// 0600) with a new random 256-bit AES-GCM key `key1` for Secrets, and `identity` after
    /// it so Secrets stored before encryption was on can still be read (each is encrypted
    /// on its next write). An existing file is never replaced.
    public static func loadOrCreate(path: String) throws -> EncryptionConfiguration {
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            if !directory.isEmpty, !fm.fileExists(atPath: directory) {
                try PrivateFiles.directory(directory, mode: 0o700)
            }
            try PrivateFiles.write(Array(generated().yaml.utf8), to: path, mode: 0o600)
        }
        return try load(path: path)
    }

    /// A configuration encrypting Secrets with one new random 256-bit AES-GCM key, then
    /// `identity` (to read data written unencrypted).
    public static func generated(keyName: String = "key1") -> EncryptionConfiguration {
        let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return EncryptionConfiguration(resources: [
            ResourceConfiguration(resources: ["secrets"],
                                  providers: [.aesgcm(keys: [Key(name: keyName, secret: secret)]), .identity]),
        ])
    }

    /// The configuration in kube-apiserver's YAML form (it holds the keys: write it only to
    /// a private file).
    public var yaml: String {
        var lines = ["apiVersion: \(Self.apiVersion)", "kind: \(Self.kind)", "resources:"]
        for rc in resources {
            lines.append("  - resources:")
            for r in rc.resources { lines.append("      - \(Self.scalar(r))") }
            lines.append("    providers:")
            for p in rc.providers {
                switch p {
                case .identity:
                    lines.append("      - identity: {}")
                case .aesgcm(let keys), .aescbc(let keys):
                    lines.append("      - \(p.name):")
                    lines.append("          keys:")
                    for k in keys {
                        lines.append("            - name: \(Self.scalar(k.name))")
                        lines.append("              secret: \(Self.scalar(Data(k.secret).base64EncodedString()))")
                    }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML scalar: plain when no YAML reader could take it for anything but a string
    /// (starts with a letter; letters, digits and `-_./+=` only; not a boolean or null word),
    /// else JSON-quoted (which is valid YAML).
    static func scalar(_ s: String) -> String {
        func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        func isPlain(_ c: Unicode.Scalar) -> Bool { isLetter(c) || ("0"..."9").contains(c) || "-_./+=".unicodeScalars.contains(c) }
        let words: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n"]
        if let first = s.unicodeScalars.first, isLetter(first), s.unicodeScalars.allSatisfy(isPlain), !words.contains(s.lowercased()) {
            return s
        }
        return JSONValue.string(s).jsonString
    }
}
