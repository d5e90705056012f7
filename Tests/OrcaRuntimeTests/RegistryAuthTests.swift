import Foundation
import OrcaCore
import Testing
@testable import OrcaRuntime

/// Registry authentication: the challenge parser, pull-secret parsing, and a private repository
/// behind htpasswd on a real registry.
@Suite struct RegistryAuthTests {
    @Test(arguments: [
        (#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
         RegistryAuthChallenge.bearer(realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull")),
        (#"bearer realm="https://ghcr.io/token", service="ghcr.io""#,
         .bearer(realm: "https://ghcr.io/token", service: "ghcr.io", scope: nil)),
        (#"Bearer realm="https://r.example/t",scope="repository:a/b:pull,push",error="insufficient_scope""#,
         .bearer(realm: "https://r.example/t", service: nil, scope: "repository:a/b:pull,push")),
        (#"Basic realm="orca-test""#, .basic(realm: "orca-test")),
        (#"Basic realm="a \"quoted\" realm", charset="UTF-8""#, .basic(realm: #"a "quoted" realm"#)),
        (#"Negotiate, Basic realm=plain"#, .basic(realm: "plain")),
    ])
    func challengesParse(header: String, expected: RegistryAuthChallenge) {
        #expect(RegistryAuthChallenge(header: header) == expected)
    }

    @Test(arguments: ["", "Negotiate", "Bearer service=\"x\"", "Digest realm=\"x\", nonce=\"y\""])
    func unusableChallengesAreNil(header: String) {
        #expect(RegistryAuthChallenge(header: header) == nil)
    }

    @Test func dockerConfigJSONSecretsAreMatchedByHost() throws {
        let secret = Data("""
        {"auths": {
          "https://index.docker.io/v1/": {"auth": "\(Data("hub:hubpass".utf8).base64EncodedString())"},
          "quay.io": {"username": "q", "password": "qp", "auth": "ignored"},
          "http://127.0.0.1:5000/v2/": {"auth": "\(Data("local:with:colon".utf8).base64EncodedString())"},
          "empty.example": {}
        }}
        """.utf8)
        let keyring = try RegistryKeyring(dockerConfigJSON: secret)
        #expect(keyring.credentials(for: "docker.io") == RegistryCredentials(username: "hub", password: "hubpass"))
        #expect(keyring.credentials(for: "registry-1.docker.io")?.username == "hub")
        #expect(keyring.credentials(for: "quay.io") == RegistryCredentials(username: "q", password: "qp"))
        #expect(keyring.credentials(for: "127.0.0.1:5000") == RegistryCredentials(username: "local", password: "with:colon"))
        #expect(keyring.credentials(for: "127.0.0.1:5001") == nil)
        #expect(keyring.credentials(for: "empty.example") == nil)
        #expect(throws: OrcaError.self) { try RegistryKeyring(dockerConfigJSON: Data("[]".utf8)) }

        // Legacy .dockercfg: the map without the "auths" wrapper.
        let legacy = try RegistryKeyring(dockerCfg: Data(#"{"docker.io": {"username": "old", "password": "p"}}"#.utf8))
        #expect(legacy.credentials(for: "index.docker.io")?.username == "old")
        #expect(legacy.merging(keyring).credentials(for: "docker.io")?.username == "old")
        #expect(legacy.merging(keyring).credentials(for: "quay.io")?.username == "q")
    }

    @Test func endpointsUseMirrorsFirstAndDockerHubsAPIHost() {
        let configuration = RegistryConfiguration(registries: [
            "docker.io": .init(mirrors: ["https://mirror.example/"]),
            "127.0.0.1:5000": .init(insecure: true),
        ])
        #expect(configuration.endpoints(for: "docker.io").map(\.baseURL) == ["https://mirror.example", "https://registry-1.docker.io"])
        #expect(configuration.endpoints(for: "docker.io").map(\.isMirror) == [true, false])
        #expect(configuration.endpoints(for: "127.0.0.1:5000").map(\.baseURL) == ["http://127.0.0.1:5000"])
        #expect(configuration.endpoints(for: "quay.io").map(\.baseURL) == ["https://quay.io"])
        #expect(configuration.endpoints(for: "127.0.0.1:5000")[0].host == "127.0.0.1:5000")
    }

    @Test
    func privateRepositoryNeedsCredentials() async throws {
        let dir = NSTemporaryDirectory() + "orca-registry-images-\(uniqueSuffix())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (layout, manifest) = try await TestImageLayout.simple(
            in: dir, tag: "v1", name: "private", config: ImageConfig(cmd: ["sh"]))
        let user = RegistryCredentials(username: "orca-\(uniqueSuffix())", password: "pw-\(uniqueSuffix())")
        try await TestRegistry.run(credentials: user) { registry in
            try await registry.push(layout.directory, tag: "v1", to: "test/private")
            try await registry.withPuller { puller, store in
                let name = "\(registry.host)/test/private:v1"
                let anonymous = await #expect(throws: OrcaError.self) { try await puller.pull(name) }
                #expect(anonymous?.code == .unauthorized)
                #expect(anonymous?.message.contains("authentication is required for \(registry.host)") == true)

                let wrong = RegistryKeyring([registry.host: RegistryCredentials(username: user.username, password: "nope")])
                let rejected = await #expect(throws: OrcaError.self) { try await puller.pull(name, keyring: wrong) }
                #expect(rejected?.code == .unauthorized)
                #expect(rejected?.message.contains("rejected") == true)
                #expect(try store.image(name) == nil)

                let auth = Data("\(user.username):\(user.password)".utf8).base64EncodedString()
                let secret = Data(#"{"auths":{"http://\#(registry.host)/v2/":{"auth":"\#(auth)"}}}"#.utf8)
                let image = try await puller.pull(name, keyring: RegistryKeyring(dockerConfigJSON: secret))
                #expect(image.manifestDigest == manifest.digest)
                let root = try #require(image.layers.first)
                #expect(try String(contentsOfFile: "\(root)/etc/private", encoding: .utf8) == "private\n")
            }
        }
    }
}
