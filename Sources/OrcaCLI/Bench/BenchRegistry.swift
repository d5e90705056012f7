import AsyncHTTPClient
import Foundation
import OrcaCore
import OrcaRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A `docker-registry` (distribution v2) child process on 127.0.0.1 and a free port, storing in
/// `<directory>/storage`, for benchmarks that pull from a real registry. `stop()` ends it
/// (SIGTERM, then SIGKILL); the caller removes `directory`.
///
/// `@unchecked Sendable`: its stored properties are constants; `Process` is not marked Sendable
/// but is thread-safe for the calls made here (isRunning, terminate, waitUntilExit).
final class BenchRegistry: @unchecked Sendable {
    static let registryPath = "/usr/bin/docker-registry"
    static let skopeoPath = "/usr/bin/skopeo"

    /// Holds `config.yml`, `storage/` and `registry.log`.
    let directory: String
    let port: Int
    private let process: Process

    /// `127.0.0.1:<port>`: the registry domain of image names pushed here.
    var host: String { "127.0.0.1:\(port)" }

    /// Starts a registry storing under `directory` (created) and waits until `GET /v2/` answers.
    static func start(directory: String) async throws -> BenchRegistry {
        try FileManager.default.createDirectory(atPath: directory + "/storage", withIntermediateDirectories: true)
        var lastError: (any Error)?
        for _ in 0..<3 {
            let registry = try BenchRegistry(directory: directory, port: LoopbackPort.free())
            do {
                try await registry.waitUntilServing()
                BenchLog.info("started docker-registry (pid \(registry.process.processIdentifier)) on \(registry.host)")
                return registry
            } catch {
                await registry.stop()
                lastError = error
            }
        }
        throw lastError ?? OrcaError(.unavailable, "docker-registry did not start")
    }

    private init(directory: String, port: Int) throws {
        self.directory = directory
        self.port = port
        // Errors only, no access log: the registry's own logging is not what is measured.
        let config = """
        version: 0.1
        log:
          level: error
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: \(directory)/storage
        http:
          addr: 127.0.0.1:\(port)
        """
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/config.yml"))
        _ = FileManager.default.createFile(atPath: directory + "/registry.log", contents: nil)
        guard let log = FileHandle(forWritingAtPath: directory + "/registry.log") else {
            throw OrcaError(.system, "cannot open \(directory)/registry.log")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.registryPath)
        process.arguments = ["serve", directory + "/config.yml"]
        process.environment = ["PATH": "/usr/bin:/bin"]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Polls `GET /v2/` until it answers 200, for at most 20 s.
    private func waitUntilServing() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        var serving = false
        while !serving, clock.now < deadline, process.isRunning {
            if let response = try? await client.execute(HTTPClientRequest(url: "http://\(host)/v2/"), timeout: .seconds(2)),
               response.status == .ok {
                serving = true
            } else {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        try? await client.shutdown()
        if serving { return }
        let log = (try? String(contentsOfFile: directory + "/registry.log", encoding: .utf8)) ?? ""
        throw OrcaError(.unavailable, "docker-registry on \(host) did not answer:\n\(log)")
    }

    /// Pushes the OCI layout at `layout` (`tag` in its index.json) to `<host>/<repository>:<tag>` with skopeo.
    func push(layout: String, tag: String, repository: String) async throws {
        try await Self.skopeo(["copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests",
                               "oci:\(layout):\(tag)", "docker://\(host)/\(repository):\(tag)"], home: directory)
    }

    /// Runs skopeo with `arguments` (HOME in a directory of ours); throws with its standard error when it fails.
    static func skopeo(_ arguments: [String], home: String) async throws {
        let result = try await SubprocessCommandRunner().run(skopeoPath, arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": home])
        guard result.exitCode == 0 else {
            throw OrcaError(.unavailable, "skopeo \(arguments.joined(separator: " ")) exited \(result.exitCode): \(result.errorText)")
        }
    }

    /// Stops the registry: SIGTERM, and SIGKILL if it has not exited after 5 s.
    func stop() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while process.isRunning, clock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }
}
