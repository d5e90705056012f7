import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import OrcaCore
import OrcaPKI
import Synchronization

/// An HTTPS validating admission webhook on 127.0.0.1 for `orca bench api`: it allows every
/// `AdmissionReview` and remembers the name of each object it was asked about, so the bench can
/// check that every create went through it. Its serving certificate (IP 127.0.0.1) comes from a
/// throwaway CA whose PEM is `caPEM` (the configuration's `caBundle`).
struct BenchWebhookServer: Sendable {
    /// The port it listens on.
    let port: Int
    /// PEM of the CA that signed its serving certificate.
    let caPEM: String
    private let reviewed: ReviewLog

    /// The URL of the allowing webhook.
    var url: String { "https://127.0.0.1:\(port)/allow" }

    /// How many reviews it answered for objects whose name starts with `prefix`.
    func reviews(prefix: String) -> Int { reviewed.count(prefix: prefix) }

    /// Makes a CA and serving certificate, runs the server for the duration of `body`, then stops it.
    static func run<T: Sendable>(_ body: @Sendable (BenchWebhookServer) async throws -> T) async throws -> T {
        let dir = BenchServer.temporaryDirectory(prefix: "orca-bench-webhook-pki")
        let pki: ClusterPKI
        do {
            defer { try? FileManager.default.removeItem(atPath: dir) }
            pki = try ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"])
        }
        let serving = try pki.authority.issueWithNewKey(
            subject: .init(commonName: "orca-bench-webhook", ipAddresses: ["127.0.0.1"]),
            usages: .init(digitalSignature: true, keyEncipherment: true, serverAuth: true), lifetime: 3600)
        let reviewed = ReviewLog()
        let router = Router()
        router.post("allow") { request, _ -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 4 << 20)
            let review = try JSONValue.parse(bytes.readableBytesView)
            reviewed.record(review[path: ["request", "object", "metadata", "name"]]?.stringValue
                ?? review[path: ["request", "name"]]?.stringValue ?? "")
            let answer: JSONValue = [
                "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "response": ["uid": review[path: ["request", "uid"]] ?? "", "allowed": true],
            ]
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: answer.encoded())))
        }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(serving.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(serving.keyPEM.utf8), format: .pem)))
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  portSink.yield(channel.localAddress?.port ?? 0)
                                  portSink.finish()
                              },
                              logger: Logger(label: "orca-bench-webhook") { _ in SwiftLogNoOpLogHandler() })
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                defer { portSink.finish() }
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                group.cancelAll()
                throw OrcaError(.internalError, "the bench webhook server did not start")
            }
            defer { group.cancelAll() }
            return try await body(BenchWebhookServer(port: port, caPEM: pki.caCertPEM, reviewed: reviewed))
        }
    }
}

/// The object names a `BenchWebhookServer` reviewed.
private final class ReviewLog: Sendable {
    private let names = Mutex<[String]>([])

    func record(_ name: String) { names.withLock { $0.append(name) } }

    func count(prefix: String) -> Int { names.withLock { $0.filter { $0.hasPrefix(prefix) }.count } }
}
