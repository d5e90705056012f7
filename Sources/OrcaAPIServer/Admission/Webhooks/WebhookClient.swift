import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import OrcaAPI

/// Calls admission and conversion webhooks (kube-apiserver's webhook client manager): POSTs an
/// AdmissionReview or ConversionReview as JSON over HTTPS to the configuration's `url`, or to a ready endpoint of its Service
/// (`https://<service>.<namespace>.svc:<port><path>`, the certificate verified for that name),
/// trusting only the configuration's `caBundle` (the system's roots when it has none). The
/// webhook's `timeoutSeconds` bounds the whole exchange, connecting included.
public struct WebhookClient: Sendable {
    /// A call that failed: unreachable, timed out, refused by TLS, or answered with something
    /// other than a valid AdmissionReview. `reason` reads as kube's (`failed to call webhook:
    /// Post "https://…?timeout=10s": context deadline exceeded`).
    public struct CallError: Error, Sendable, CustomStringConvertible {
        public var reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// The most bytes of an answer read (a patch of a large object still fits).
    static let maxResponseBytes = 16 << 20

    public init() {}

    /// Sends `review` to `hook` and checks the answer against `uid`.
    func review(_ review: JSONValue, uid: String, version: String, hook: AdmissionWebhook,
                registry: Registry) async throws(CallError) -> AdmissionReview.Response {
        let body = try await post(review, to: hook.clientConfig, timeoutSeconds: hook.timeoutSeconds, registry: registry)
        return try AdmissionReview.response(body, uid: uid, version: version, mutating: hook.kind == .mutating)
    }

    /// POSTs `body` to the webhook of `clientConfig` (an admission or a conversion webhook) and
    /// returns the JSON it answered with (status 2xx).
    func post(_ body: JSONValue, to clientConfig: AdmissionregistrationV1WebhookClientConfig, timeoutSeconds: Int,
              registry: Registry) async throws(CallError) -> JSONValue {
        let seconds = max(timeoutSeconds, 1)
        let url: String
        var dnsOverride: [String: String] = [:]
        if let service = clientConfig.service {
            let name = service.name ?? "", namespace = service.namespace ?? ""
            let port = Int(service.port ?? 443)
            let host = "\(name).\(namespace).svc"
            let path = Self.path(service.path)
            do {
                let target = try await WebhookServiceResolver(registry: registry).resolve(namespace: namespace, name: name, port: port)
                url = "https://\(host):\(target.port)\(path)?timeout=\(seconds)s"
                dnsOverride[host] = target.address
            } catch let failure as WebhookServiceResolver.Failure {
                throw CallError("failed to call webhook: Post \"https://\(host):\(port)\(path)?timeout=\(seconds)s\": \(failure.message)")
            } catch {
                throw CallError("failed to call webhook: \(error)")
            }
        } else {
            url = (clientConfig.url ?? "") + "?timeout=\(seconds)s"
        }
        let tls: TLSConfiguration
        do { tls = try Self.tlsConfiguration(caBundle: clientConfig.caBundle) } catch {
            throw CallError("could not get REST client: unable to load root certificates: \(error)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, */*")
        request.body = .bytes(ByteBuffer(bytes: body.encoded()))
        // A Service is reached by its endpoint's address and verified for its DNS name: that needs
        // a client of its own (the override is per client); URLs share one for the process.
        let client: HTTPClient
        if dnsOverride.isEmpty {
            request.tlsConfiguration = tls
            client = BackendHTTPClient.shared
        } else {
            client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                configuration: BackendHTTPClient.configuration(tls: tls, dnsOverride: dnsOverride))
        }
        let outcome: Result<JSONValue, CallError>
        let prepared = request
        do {
            outcome = .success(try await withDeadline(.seconds(seconds)) {
                try await Self.exchange(prepared, client: client, seconds: seconds)
            })
        } catch let e as CallError {
            outcome = .failure(CallError("failed to call webhook: \(e.reason)"))
        } catch {
            outcome = .failure(CallError("failed to call webhook: Post \(GoFormat.quote(url)): \(Self.describe(error, url: url))"))
        }
        if client !== BackendHTTPClient.shared { try? await client.shutdown() }
        return try outcome.get()
    }

    /// Sends the request and reads the whole answer: JSON of a 2xx, else the status as kube's
    /// REST client words it.
    static func exchange(_ request: HTTPClientRequest, client: HTTPClient, seconds: Int) async throws -> JSONValue {
        let response = try await client.execute(request, timeout: .seconds(Int64(seconds)))
        let bytes = try await response.body.collect(upTo: maxResponseBytes)
        guard (200..<300).contains(Int(response.status.code)) else {
            let text = String(buffer: bytes).trimmingCharacters(in: .whitespacesAndNewlines)
            if let status = try? JSONValue.parse(text), status.kind == "Status", let message = status["message"]?.stringValue {
                throw CallError(message)
            }
            if text.isEmpty {
                throw CallError("the server responded with the status code \(response.status.code) but did not return more information")
            }
            throw CallError("an error on the server (\(GoFormat.quote(String(text.prefix(1024))))) has prevented the request from succeeding")
        }
        do { return try JSONValue.parse(bytes.readableBytesView) } catch {
            throw CallError("couldn't get version/kind; json parse error: \(error)")
        }
    }

    /// `service.path`, or `/`.
    static func path(_ path: String?) -> String {
        guard let path, !path.isEmpty else { return "/" }
        return path.hasPrefix("/") ? path : "/" + path
    }

    /// The TLS of a call: the PEM certificates of `caBundle` (base64) as the only roots, or the
    /// system's when it is empty.
    static func tlsConfiguration(caBundle: String?) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let caBundle, !caBundle.isEmpty {
            guard let pem = Data(base64Encoded: caBundle) else { throw CallError("caBundle is not base64") }
            let roots = try NIOSSLCertificate.fromPEMBytes(Array(pem))
            guard !roots.isEmpty else { throw CallError("caBundle holds no PEM certificate") }
            tls.trustRoots = .certificates(roots)
        }
        return tls
    }


    /// An error of the HTTP client in the words of Go's (`context deadline exceeded`,
    /// `connect: connection refused`), as kube's messages carry them.
    static func describe(_ error: any Error, url: String) -> String {
        if let e = error as? OrcaError, e.code == .timeout { return "context deadline exceeded" }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "context deadline exceeded"
            case .cancelled: return "context canceled"
            default: break
            }
        }
        if error is CancellationError { return "context canceled" }
        let text = String(describing: error)
        if text.contains("Connection refused") || text.contains("connectionRefused") || text.contains("ECONNREFUSED") {
            let components = URLComponents(string: url)
            let host = components?.host ?? ""
            let port = components?.port ?? 443
            return "dial tcp \(host.contains(":") ? "[\(host)]" : host):\(port): connect: connection refused"
        }
        if text.contains("SSL") || text.contains("TLS") || text.contains("certificate") || text.contains("handshake") {
            return "tls: failed to verify certificate: \(text)"
        }
        return text
    }
}
