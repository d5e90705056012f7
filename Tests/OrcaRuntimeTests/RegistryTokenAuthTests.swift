import Crypto
import Foundation
import Glibc
import OrcaCore
import Testing
@testable import OrcaRuntime

/// The bearer-token flow against a real `docker-registry` with token auth. The token service is
/// Python's static file server handing out one token this test signed (ES256, with the
/// certificate the registry trusts in `x5c`) — enough to see the 401 → realm → retry dance,
/// and that a token is fetched once per scope.
@Suite struct RegistryTokenAuthTests {
    @Test func bearerTokensAreFetchedFromTheRealmAndCached() async throws {
        let dir = NSTemporaryDirectory() + "orca-token-test-\(uniqueSuffix())"
        try FileManager.default.createDirectory(atPath: "\(dir)/www", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let runner = SubprocessCommandRunner()
        try await runner.checked("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "\(dir)/key.pem", "-out", "\(dir)/cert.pem", "-days", "2", "-subj", "/CN=orca-test-token",
        ])
        try await runner.checked("/usr/bin/openssl", ["x509", "-in", "\(dir)/cert.pem", "-outform", "DER", "-out", "\(dir)/cert.der"])
        let (service, issuer) = ("orca-test-registry", "orca-test-issuer")
        let token = try Self.signedToken(
            key: String(contentsOfFile: "\(dir)/key.pem", encoding: .utf8),
            certificate: Data(contentsOf: URL(fileURLWithPath: "\(dir)/cert.der")),
            issuer: issuer, service: service, repositories: ["test/token"])
        try Data(#"{"token":"\#(token)"}"#.utf8).write(to: URL(fileURLWithPath: "\(dir)/www/token"))

        let port = try LoopbackPort.free()
        let log = "\(dir)/token-server.log"
        let pid = try Syscall.spawn(argv: ["/usr/bin/python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", "\(dir)/www"],
                                    env: ["PATH=/usr/bin:/bin", "PYTHONUNBUFFERED=1"]) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        func tokenRequests() -> [String] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { $0.contains("\"GET /token?") }.map(String.init)
        }

        let (layout, manifest) = try await TestImageLayout.simple(
            in: "\(dir)/layout", tag: "v1", name: "token", config: ImageConfig(cmd: ["sh"]))
        try layout.tag([("v1", manifest), ("v2", manifest)])
        let auth = TestRegistry.TokenAuth(realm: "http://127.0.0.1:\(port)/token", service: service, issuer: issuer,
                                          rootCertBundle: "\(dir)/cert.pem")
        try await TestRegistry.run(tokenAuth: auth) { registry in
            try await registry.push(layout.directory, tag: "v1", to: "test/token")
            try await registry.push(layout.directory, tag: "v2", to: "test/token")
            let pushed = tokenRequests().count
            try await registry.withPuller { puller, store in
                let image = try await puller.pull("\(registry.host)/test/token:v1")
                #expect(image.manifestDigest == manifest.digest)
                let requests = tokenRequests().dropFirst(pushed)
                #expect(requests.count == 1)
                #expect(requests.first?.contains("service=\(service)") == true)
                #expect(requests.first?.removingPercentEncoding?.contains("scope=repository:test/token:pull") == true)
                #expect(registry.requests("/v2/test/token/manifests/v1", status: 401) == 1)

                // Same scope: the cached token goes along at once, no new token, no 401.
                _ = try await puller.pull("\(registry.host)/test/token:v2")
                #expect(tokenRequests().count == pushed + 1)
                #expect(registry.requests("/v2/test/token/manifests/v2", status: 401) == 0)
                #expect(registry.requests("/v2/test/token/manifests/v2") == 1)
            }
        }
    }

    /// A registry token (JWT, ES256) granting pull and push on `repositories`, valid for an hour.
    static func signedToken(key pem: String, certificate der: Data, issuer: String, service: String,
                            repositories: [String]) throws -> String {
        func base64URL(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        func json(_ object: Any) throws -> Data { try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) }
        let now = Int(Date().timeIntervalSince1970)
        let header = try json(["alg": "ES256", "typ": "JWT", "x5c": [der.base64EncodedString()]])
        let claims = try json([
            "iss": issuer, "sub": "orca-test", "aud": service, "iat": now - 60, "nbf": now - 60, "exp": now + 3600,
            "jti": UUID().uuidString,
            "access": repositories.map { ["type": "repository", "name": $0, "actions": ["pull", "push"]] },
        ] as [String: Any])
        let signingInput = base64URL(header) + "." + base64URL(claims)
        let signature = try P256.Signing.PrivateKey(pemRepresentation: pem).signature(for: Data(signingInput.utf8))
        return signingInput + "." + base64URL(signature.rawRepresentation)
    }
}
