import AsyncHTTPClient
import Foundation
import Glibc
import OrcaCore
import Testing
@testable import OrcaRuntime

/// A real `docker-registry` (distribution v2) on 127.0.0.1 and a free port, storing in a temporary
/// directory, optionally behind htpasswd basic auth. `run` stops the process and removes every
/// file it made, also when the body throws.
struct TestRegistry {
    static let registryPath = "/usr/bin/docker-registry"
    static let skopeoPath = "/usr/bin/skopeo"
    static let htpasswdPath = "/usr/bin/htpasswd"

    /// The temporary directory: `config.yml`, `storage/`, `htpasswd`, `registry.log`.
    let directory: String
    let port: Int
    let pid: pid_t
    /// `username:password` when the registry requires them.
    let credentials: RegistryCredentials?

    /// `127.0.0.1:<port>`: the registry domain of image names pushed here.
    var host: String { "127.0.0.1:\(port)" }
    /// Where the registry keeps blobs: `<storage>/docker/registry/v2/blobs/sha256/<2>/<hex>/data`.
    func blobDataPath(_ digest: ContentDigest) -> String {
        "\(directory)/storage/docker/registry/v2/blobs/sha256/\(digest.hex.prefix(2))/\(digest.hex)/data"
    }

    /// Starts a registry (with htpasswd auth for `credentials`), runs `body`, stops and removes it.
    /// Token authentication: clients get tokens from `realm`; tokens must be signed by the key of
    /// the certificate in `rootCertBundle` and name `service` and `issuer`.
    struct TokenAuth {
        var realm: String
        var service: String
        var issuer: String
        var rootCertBundle: String
    }

    static func run(credentials: RegistryCredentials? = nil, tokenAuth: TokenAuth? = nil,
                    _ body: (TestRegistry) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "orca-registry-test-\(uniqueSuffix())"
        try FileManager.default.createDirectory(atPath: "\(directory)/storage", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        if let credentials {
            let out = try await SubprocessCommandRunner().checked(htpasswdPath, ["-Bbn", credentials.username, credentials.password])
            try Data(out.standardOutput).write(to: URL(fileURLWithPath: "\(directory)/htpasswd"))
        }
        let registry = try await start(directory: directory, credentials: credentials, tokenAuth: tokenAuth)
        defer { registry.stop() }
        try await body(registry)
    }

    private static func start(directory: String, credentials: RegistryCredentials?, tokenAuth: TokenAuth?) async throws -> TestRegistry {
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try LoopbackPort.free()
            var config = """
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: \(directory)/storage
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            """
            if credentials != nil {
                config += "\nauth:\n  htpasswd:\n    realm: orca-test\n    path: \(directory)/htpasswd\n"
            } else if let t = tokenAuth {
                config += "\nauth:\n  token:\n    realm: \(t.realm)\n    service: \(t.service)\n    issuer: \(t.issuer)\n    rootcertbundle: \(t.rootCertBundle)\n"
            }
            try Data(config.utf8).write(to: URL(fileURLWithPath: "\(directory)/config.yml"))
            let log = "\(directory)/registry.log"
            let pid = try Syscall.spawn(argv: [registryPath, "serve", "\(directory)/config.yml"], env: ["PATH=/usr/bin:/bin"]) { actions in
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            }
            let registry = TestRegistry(directory: directory, port: port, pid: pid, credentials: credentials)
            do {
                try await registry.waitUntilServing()
                return registry
            } catch {
                registry.stop()
                lastError = error
            }
        }
        throw lastError ?? OrcaError(.unavailable, "docker-registry did not start")
    }

    /// Polls `GET /v2/` until it answers (200 or 401), for at most 20 s.
    private func waitUntilServing() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var serving = false
        for _ in 0..<200 where !serving {
            guard Syscall.isAlive(pid) else { break }
            if let response = try? await client.execute(HTTPClientRequest(url: "http://\(host)/v2/"), timeout: .seconds(2)),
               response.status == .ok || response.status == .unauthorized {
                serving = true
            } else {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        try? await client.shutdown()
        if serving { return }
        throw OrcaError(.unavailable, "docker-registry on \(host) did not answer: \(self.log)")
    }

    /// Stops the registry (SIGTERM, then SIGKILL) and reaps it.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<50 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    /// The registry's log (access log lines included).
    var log: String { (try? String(contentsOfFile: "\(directory)/registry.log", encoding: .utf8)) ?? "" }

    /// How many access-log lines show `GET <path>` (e.g. `/v2/test/app/manifests/v1`) answered `status`.
    func requests(_ path: String, status: Int = 200) -> Int {
        log.split(separator: "\n").filter { $0.contains("\"GET \(path) HTTP/1.1\" \(status) ") }.count
    }

    /// Pushes the OCI layout `layout` (`tag` in its index.json) to `repository:tag` here with skopeo.
    func push(_ layout: String, tag: String, to repository: String, all: Bool = false) async throws {
        var args = ["copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests"]
        if all { args.append("--all") }
        if let credentials { args += ["--dest-creds", "\(credentials.username):\(credentials.password)"] }
        args += ["oci:\(layout):\(tag)", "docker://\(host)/\(repository):\(tag)"]
        try await SubprocessCommandRunner().checked(Self.skopeoPath, args, environment: ["PATH": "/usr/bin:/bin", "HOME": directory])
    }

    /// A store in a temporary directory and a puller for this registry (plain HTTP), cleaned up after `body`.
    func withPuller(_ body: (ImagePuller, ImageStore) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "orca-pull-test-\(uniqueSuffix())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ImageStore(root: dir)
        let puller = ImagePuller(store: store, configuration: .insecure(host))
        do { try await body(puller, store) } catch {
            try? await puller.shutdown()
            throw error
        }
        try await puller.shutdown()
    }
}

