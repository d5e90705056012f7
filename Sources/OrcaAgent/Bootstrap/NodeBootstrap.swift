import Foundation
import Logging
import OrcaClient
import OrcaPKI
import SwiftASN1
import X509

/// How a node agent joins a server (the kubelet's TLS bootstrap):
///
/// 1. it fetches the server's CA from `/cacerts` without trusting it, and keeps it only if its
///    hash is the join token's, so the agent needs no trust on first use;
/// 2. it authenticates with the token's bootstrap credential and submits a
///    CertificateSigningRequest for `system:node:<name>` in `system:nodes` (signer
///    `kubernetes.io/kube-apiserver-client-kubelet`), which the server approves and signs;
/// 3. from then on it authenticates with that certificate, kept under `<data-dir>/tls`, and
///    asks the same way for the serving certificate of its kubelet server.
///
/// A certificate still valid from an earlier start is reused. While the agent runs,
/// `NodeCertificateManager` renews both before they expire.
public struct NodeBootstrap: Sendable {
    public var server: String
    public var token: NodeJoinToken
    public var nodeName: String
    /// Where the CA and the node's keys and certificates are kept.
    public var directory: String
    /// How long to wait for the server to sign a request.
    public var signingTimeout: Duration = .seconds(120)
    let logger = Logger(label: "orca.agent.bootstrap")

    public init(server: String, token: NodeJoinToken, nodeName: String, directory: String) {
        self.server = server
        self.token = token
        self.nodeName = nodeName
        self.directory = directory
    }

    var caPath: String { directory + "/ca.crt" }

    /// A file pair under the directory: `kubelet-client` or `kubelet-serving`.
    func paths(_ name: String) -> (cert: String, key: String) { ("\(directory)/\(name).crt", "\(directory)/\(name).key") }

    /// The cluster CA, fetched and checked against the token (or the copy checked before).
    public func certificateAuthority() async throws -> String {
        try PrivateFiles.directory(directory, mode: 0o700)
        if let pem = try? String(contentsOfFile: caPath, encoding: .utf8), token.matches(caPEM: pem) { return pem }
        let rest = try RESTClient(kubeconfig: Kubeconfig(server: server, insecureSkipTLSVerify: true))
        let response: RESTClient.Response
        do { response = try await rest.send(.GET, "/cacerts", json: nil) } catch {
            try? await rest.shutdown()
            throw OrcaError(.unavailable, "cannot reach the server at \(server): \(error)")
        }
        try? await rest.shutdown()
        guard response.isSuccess else {
            throw OrcaError(.unavailable, "the server at \(server) answered \(response.status) for /cacerts: is it an orca server?")
        }
        let pem = response.text
        guard token.matches(caPEM: pem) else {
            throw OrcaError(.invalid, "the server at \(server) presents a CA whose hash is not the join token's: refusing to trust it (wrong token or wrong server)")
        }
        try PrivateFiles.write(Array(pem.utf8), to: caPath, mode: 0o644)
        return pem
    }

    /// A kubeconfig authenticating as the node, bootstrapping its client certificate if needed.
    public func clientKubeconfig(now: Date = Date()) async throws -> Kubeconfig {
        let ca = try await certificateAuthority()
        let (certPath, keyPath) = paths("kubelet-client")
        if let pair = Self.validPair(certPath, keyPath, caPEM: ca, now: now) {
            return kubeconfig(ca: ca, cert: pair.cert, key: pair.key)
        }
        let client = try bootstrapClient(ca: ca)
        let subject = CertificateAuthority.Subject(commonName: "system:node:\(nodeName)", organizations: ["system:nodes"])
        let (cert, key): (String, String)
        do {
            (cert, key) = try await request(subject, signer: "kubernetes.io/kube-apiserver-client-kubelet",
                                            usages: ["digital signature", "key encipherment", "client auth"], client: client)
            try? await client.shutdown()
        } catch {
            // The temporary client is closed on every path before the process goes on.
            try? await client.shutdown()
            if let e = error as? APIError, e.code == 401 {
                throw OrcaError(.invalid, "the server refused the join token (401 Unauthorized): use the token in the server's <data-dir>/node-token")
            }
            throw error
        }
        try Self.save(cert: cert, key: key, certPath: certPath, keyPath: keyPath)
        logger.info("node \(nodeName) joined \(server) with a new client certificate")
        return kubeconfig(ca: ca, cert: cert, key: key)
    }

    /// The kubelet server's certificate and key (PEM), asked for with the node's own client
    /// identity: names are the node name and its addresses.
    public func servingCertificate(client: any APIClient, addresses: [String], now: Date = Date()) async throws -> (cert: String, key: String) {
        let ca = try await certificateAuthority()
        let (certPath, keyPath) = paths("kubelet-serving")
        if let pair = Self.validPair(certPath, keyPath, caPEM: ca, now: now, covering: addresses) { return pair }
        let subject = CertificateAuthority.Subject(commonName: "system:node:\(nodeName)", organizations: ["system:nodes"],
                                                   dnsNames: [nodeName], ipAddresses: addresses)
        let pair = try await request(subject, signer: "kubernetes.io/kubelet-serving",
                                     usages: ["digital signature", "key encipherment", "server auth"], client: client)
        try Self.save(cert: pair.0, key: pair.1, certPath: certPath, keyPath: keyPath)
        return (pair.0, pair.1)
    }

    /// A client authenticating with the join token's bootstrap credential (which may only
    /// create and read certificate signing requests); the caller shuts it down.
    public func bootstrapClient(ca: String) throws -> HTTPSAPIClient {
        var bootstrap = Kubeconfig(server: server, certificateAuthorityPEM: Array(ca.utf8), token: token.bootstrapToken)
        bootstrap.namespace = "default"
        return try HTTPSAPIClient(kubeconfig: bootstrap, requestTimeout: .seconds(30), maxRetries: 3)
    }

    /// A kubeconfig authenticating as the node with `cert` and `key` (PEM).
    public func kubeconfig(ca: String, cert: String, key: String) -> Kubeconfig {
        Kubeconfig(server: server, certificateAuthorityPEM: Array(ca.utf8), clientCertificatePEM: Array(cert.utf8),
                   clientKeyPEM: Array(key.utf8))
    }

    /// Submits a CSR for `subject` and waits until it is signed; a denied or failed request is an error.
    public func request(_ subject: CertificateAuthority.Subject, signer: String, usages: [String], keyPEM: String? = nil,
                        client: any APIClient) async throws -> (String, String) {
        let key: String
        let requestPEM: String
        if let keyPEM {
            key = keyPEM
            requestPEM = try CertificateRequest.make(subject, keyPEM: keyPEM)
        } else {
            (requestPEM, key) = try CertificateRequest.make(subject)
        }
        var spec = CertificateSigningRequestSpec(request: Data(requestPEM.utf8).base64EncodedString(), signerName: signer, usages: usages)
        spec.expirationSeconds = nil
        let csr = CertificateSigningRequest(metadata: ObjectMeta(generateName: "node-csr-"), spec: spec)
        let created = try await client.create(csr)
        let name = created.metadata?.name ?? ""
        logger.info("submitted certificate signing request \(name) for \(subject.commonName) (\(signer))")
        let deadline = ContinuousClock.now + signingTimeout
        while ContinuousClock.now < deadline {
            let current = try await client.get(CertificateSigningRequest.self, namespace: nil, name: name)
            if let b64 = current.status?.certificate, let data = Data(base64Encoded: b64), let pem = String(data: data, encoding: .utf8) {
                return (pem, key)
            }
            for condition in current.status?.conditions ?? [] where condition.type == "Denied" || condition.type == "Failed" {
                throw OrcaError(.invalid, "certificate signing request \(name) was \(condition.type == "Denied" ? "denied" : "not signed"): \(condition.message ?? condition.reason ?? "")")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw OrcaError(.unavailable, "certificate signing request \(name) was not signed within \(signingTimeout): is it approved? (kubectl get csr)")
    }

    /// The pair at the paths if the certificate is issued by `caPEM`, valid at `now`, for the
    /// key beside it (the two files are replaced one after the other), and names `covering`.
    static func validPair(_ certPath: String, _ keyPath: String, caPEM: String, now: Date,
                          covering addresses: [String] = []) -> (cert: String, key: String)? {
        guard let cert = try? String(contentsOfFile: certPath, encoding: .utf8),
              let key = try? String(contentsOfFile: keyPath, encoding: .utf8),
              let parsed = try? Certificate(pemEncoded: cert), let ca = try? Certificate(pemEncoded: caPEM),
              parsed.issuer == ca.subject, parsed.notValidBefore <= now, now < parsed.notValidAfter,
              let privateKey = try? Certificate.PrivateKey(pemEncoded: key), privateKey.publicKey == parsed.publicKey else { return nil }
        if !addresses.isEmpty {
            let names = Set((try? parsed.extensions.subjectAlternativeNames).map { Array($0) } ?? [])
            for a in addresses {
                let name: GeneralName = ClusterPKI.ipBytes(a).map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) } ?? .dnsName(a)
                if !names.contains(name) { return nil }
            }
        }
        return (cert, key)
    }

    static func save(cert: String, key: String, certPath: String, keyPath: String) throws {
        try PrivateFiles.write(Array(key.utf8), to: keyPath, mode: 0o600)
        try PrivateFiles.write(Array(cert.utf8), to: certPath, mode: 0o644)
    }
}
