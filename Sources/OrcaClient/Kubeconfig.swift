import Foundation
import NIOSSL
import OrcaCore
import Yams

/// The current context of a kubeconfig, resolved to what a client needs to reach the API
/// server: its URL, the CA to trust, and the user's credentials — a client certificate and
/// key, a bearer token, or both. Inline `*-data` fields and file references (relative to the
/// kubeconfig's directory) are both read, as kubectl does.
///
/// Orca writes `<data-dir>/kubeconfig.yaml` (`ClusterPKI.adminKubeconfig`) with inline data
/// and the admin client certificate.
public struct Kubeconfig: Sendable, Hashable {
    /// The API server base URL without a trailing slash, e.g. `https://127.0.0.1:6443`.
    public var server: String
    /// PEM of the CA that signed the server's certificate; nil trusts the system roots.
    public var certificateAuthorityPEM: [UInt8]?
    /// PEM of the user's client certificate (chain).
    public var clientCertificatePEM: [UInt8]?
    /// PEM of the client certificate's private key.
    public var clientKeyPEM: [UInt8]?
    /// A bearer token (`token`, or the contents of `tokenFile`).
    public var token: String?
    /// `insecure-skip-tls-verify`: do not verify the server's certificate.
    public var insecureSkipTLSVerify: Bool
    /// The context's default namespace (`default` when unset).
    public var namespace: String

    public init(server: String, certificateAuthorityPEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil,
                clientKeyPEM: [UInt8]? = nil, token: String? = nil, insecureSkipTLSVerify: Bool = false,
                namespace: String = "default") {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.token = token
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.namespace = namespace
    }

    /// Reads and parses the kubeconfig at `path`.
    public init(path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw OrcaError(.notFound, "cannot read kubeconfig \(path)", cause: error)
        }
        try self.init(yaml: text, directory: (path as NSString).deletingLastPathComponent)
    }

    /// Parses kubeconfig YAML (its `current-context`, or the first context when unset);
    /// relative file references resolve against `directory`.
    public init(yaml: String, directory: String = ".") throws {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: yaml) } catch {
            throw OrcaError(.invalid, "kubeconfig is not valid YAML", cause: error)
        }
        guard let root = loaded as? [String: Any] else {
            throw OrcaError(.invalid, "kubeconfig is not a YAML mapping")
        }
        func named(_ list: String, _ name: String?, _ field: String) -> [String: Any]? {
            let entries = root[list] as? [[String: Any]] ?? []
            let entry = name.flatMap { n in entries.first { $0["name"] as? String == n } } ?? entries.first
            return entry?[field] as? [String: Any]
        }
        func string(_ map: [String: Any], _ key: String) -> String? {
            guard let value = map[key] else { return nil }
            if let s = value as? String { return s }
            return "\(value)"
        }
        func file(_ path: String) -> String {
            path.hasPrefix("/") ? path : directory + "/" + path
        }
        func pem(_ map: [String: Any], data: String, file key: String) throws -> [UInt8]? {
            if let b64 = string(map, data), !b64.isEmpty {
                guard let decoded = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) else {
                    throw OrcaError(.invalid, "kubeconfig field \(data) is not base64")
                }
                return Array(decoded)
            }
            if let path = string(map, key), !path.isEmpty {
                guard let contents = FileManager.default.contents(atPath: file(path)) else {
                    throw OrcaError(.notFound, "cannot read \(file(path)) (kubeconfig \(key))")
                }
                return Array(contents)
            }
            return nil
        }
        let contextName = root["current-context"] as? String
        let context = named("contexts", contextName.flatMap { $0.isEmpty ? nil : $0 }, "context")
        guard let cluster = named("clusters", context.flatMap { string($0, "cluster") }, "cluster"),
              let server = string(cluster, "server"), !server.isEmpty else {
            throw OrcaError(.invalid, "kubeconfig has no cluster with a server")
        }
        let user = named("users", context.flatMap { string($0, "user") }, "user") ?? [:]
        var token = string(user, "token").flatMap { $0.isEmpty ? nil : $0 }
        if token == nil, let path = string(user, "tokenFile"), !path.isEmpty {
            guard let contents = FileManager.default.contents(atPath: file(path)) else {
                throw OrcaError(.notFound, "cannot read \(file(path)) (kubeconfig tokenFile)")
            }
            token = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let certificate = try pem(user, data: "client-certificate-data", file: "client-certificate")
        let key = try pem(user, data: "client-key-data", file: "client-key")
        if (certificate == nil) != (key == nil) {
            throw OrcaError(.invalid, "kubeconfig user has a client certificate without its key, or a key without its certificate")
        }
        let insecure: Bool
        switch cluster["insecure-skip-tls-verify"] {
        case let b as Bool: insecure = b
        case let s as String: insecure = s == "true"
        default: insecure = false
        }
        self.init(server: server,
                  certificateAuthorityPEM: try pem(cluster, data: "certificate-authority-data", file: "certificate-authority"),
                  clientCertificatePEM: certificate, clientKeyPEM: key, token: token, insecureSkipTLSVerify: insecure,
                  namespace: context.flatMap { string($0, "namespace") }.flatMap { $0.isEmpty ? nil : $0 } ?? "default")
    }

    /// True when the user authenticates with a client certificate.
    public var hasClientCertificate: Bool { clientCertificatePEM != nil && clientKeyPEM != nil }

    /// The `Authorization` header value for the bearer token, if there is one.
    public var authorization: String? { token.map { "Bearer \($0)" } }

    /// A client TLS configuration that trusts the kubeconfig's CA (the system roots without
    /// one) and presents its client certificate, if it has one.
    public func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let certificateAuthorityPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(certificateAuthorityPEM))
        }
        if let clientCertificatePEM, let clientKeyPEM {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(clientCertificatePEM).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: clientKeyPEM, format: .pem))
        }
        if insecureSkipTLSVerify { tls.certificateVerification = .none }
        return tls
    }
}
