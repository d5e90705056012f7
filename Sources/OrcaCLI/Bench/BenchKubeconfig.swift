import Foundation
import NIOSSL
import OrcaCore
import Yams

/// The parts of a kubeconfig the benchmarks need: the current context's server URL, its CA and
/// the user's client certificate and key (inline `*-data` fields or file paths).
struct BenchKubeconfig: Sendable {
    /// The API server base URL, e.g. `https://127.0.0.1:6443`.
    var server: String
    var caPEM: [UInt8]?
    var clientCertificatePEM: [UInt8]
    var clientKeyPEM: [UInt8]
    /// The context's default namespace (`default` when unset).
    var namespace: String

    /// Reads and parses the kubeconfig at `path`.
    init(path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw OrcaError(.notFound, "cannot read kubeconfig \(path)", cause: error)
        }
        try self.init(yaml: text, directory: (path as NSString).deletingLastPathComponent)
    }

    /// Parses kubeconfig YAML; relative file references resolve against `directory`.
    init(yaml: String, directory: String = ".") throws {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any] else {
            throw OrcaError(.invalid, "kubeconfig is not a YAML mapping")
        }
        func named(_ list: String, _ name: String?, _ field: String) -> [String: Any]? {
            let entries = root[list] as? [[String: Any]] ?? []
            let entry = name.flatMap { n in entries.first { $0["name"] as? String == n } } ?? entries.first
            return entry?[field] as? [String: Any]
        }
        let contextName = root["current-context"] as? String
        let context = named("contexts", contextName, "context")
        guard let cluster = named("clusters", context?["cluster"] as? String, "cluster"),
              let server = cluster["server"] as? String else {
            throw OrcaError(.invalid, "kubeconfig has no cluster with a server")
        }
        guard let user = named("users", context?["user"] as? String, "user") else {
            throw OrcaError(.invalid, "kubeconfig has no user")
        }
        func pem(_ map: [String: Any], data: String, file: String) throws -> [UInt8]? {
            if let b64 = map[data] as? String {
                guard let decoded = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) else {
                    throw OrcaError(.invalid, "kubeconfig field \(data) is not base64")
                }
                return Array(decoded)
            }
            if let path = map[file] as? String {
                let full = path.hasPrefix("/") ? path : directory + "/" + path
                guard let contents = FileManager.default.contents(atPath: full) else {
                    throw OrcaError(.notFound, "cannot read \(full) (kubeconfig \(file))")
                }
                return Array(contents)
            }
            return nil
        }
        guard let cert = try pem(user, data: "client-certificate-data", file: "client-certificate"),
              let key = try pem(user, data: "client-key-data", file: "client-key") else {
            throw OrcaError(.invalid, "kubeconfig user has no client certificate and key (the benchmarks authenticate with one)")
        }
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.caPEM = try pem(cluster, data: "certificate-authority-data", file: "certificate-authority")
        self.clientCertificatePEM = cert
        self.clientKeyPEM = key
        self.namespace = context?["namespace"] as? String ?? "default"
    }

    /// A client TLS configuration that trusts the kubeconfig's CA (the system roots without one)
    /// and presents its client certificate.
    func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(caPEM))
        }
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(clientCertificatePEM).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: clientKeyPEM, format: .pem))
        return tls
    }
}
