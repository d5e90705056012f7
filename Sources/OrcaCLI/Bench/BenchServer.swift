import Foundation
import OrcaClient
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// An `orca server` child process (this same executable) on a temporary data dir and a free
/// loopback port, for benchmarks that start their own. `stop()` ends it (SIGTERM, then SIGKILL)
/// and `removeDataDirectory()` deletes everything it wrote.
///
/// `@unchecked Sendable`: its only state is immutable but for Foundation's `Process`, which is
/// not marked Sendable yet is thread-safe for the calls made here (isRunning, terminate,
/// processIdentifier, waitUntilExit).
final class BenchServer: @unchecked Sendable {
    /// The temporary data dir (`/tmp/orca-bench-<hex>`), also holding `server.log`.
    let dataDir: String
    private let process = Process()

    var kubeconfigPath: String { dataDir + "/kubeconfig.yaml" }
    var logPath: String { dataDir + "/server.log" }
    /// The server's process id.
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// A fresh temporary directory name with a random suffix.
    static func temporaryDirectory(prefix: String) -> String {
        NSTemporaryDirectory() + "\(prefix)-\(randomHex(8))"
    }

    /// `count` random lowercase hex digits.
    static func randomHex(_ count: Int) -> String {
        String((0..<count).map { _ in "0123456789abcdef".randomElement()! })
    }

    /// The path of the running executable, so the child is the same `orca` build.
    static var executable: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    }

    /// Starts `orca server --data-dir <tmp> --https-port 0 --bind-address 127.0.0.1 <extra>` and
    /// waits until it has written its kubeconfig and answers `/readyz`; returns it with a client.
    static func start(dataDir: String, extraArguments: [String]) async throws -> (BenchServer, BenchAPIClient) {
        let server = try BenchServer(dataDir: dataDir, extraArguments: extraArguments)
        do {
            let client = try await server.waitForKubeconfig()
            do { try await client.waitReady() } catch { await client.shutdown(); throw error }
            return (server, client)
        } catch {
            await server.stop()
            server.removeDataDirectory()
            throw error
        }
    }

    /// A server with its agent, as the pod benchmarks run it: data dir `/tmp/orca-bench-<tag>`,
    /// a private bridge `orcb<tag>` and a free pod subnet, node `bench-<tag>`.
    static func startWithAgent(tag: String) async throws -> (server: BenchServer, client: BenchAPIClient, bridge: String, subnet: String, dir: String) {
        let bridge = "orcb\(tag)"
        let subnet = try await BenchPodStartupCommand.freeSubnet()
        let dir = NSTemporaryDirectory() + "orca-bench-\(tag)"
        let (server, client) = try await start(dataDir: dir, extraArguments: [
            "--pod-cidr", subnet, "--bridge-name", bridge, "--run-dir", dir + "/run", "--pod-log-dir", dir + "/logs",
            "--node-name", "bench-\(tag)", "--log-level", "warning",
        ])
        return (server, client, bridge, subnet, dir)
    }

    private init(dataDir: String, extraArguments: [String]) throws {
        self.dataDir = dataDir
        let fm = FileManager.default
        try fm.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        _ = fm.createFile(atPath: dataDir + "/server.log", contents: nil)
        guard let log = FileHandle(forWritingAtPath: dataDir + "/server.log") else {
            throw OrcaError(.system, "cannot open \(dataDir)/server.log")
        }
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["server", "--data-dir", dataDir, "--https-port", "0", "--bind-address", "127.0.0.1"] + extraArguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        BenchLog.info("started orca server (pid \(process.processIdentifier)): \(Self.executable) \(process.arguments!.joined(separator: " "))")
    }

    /// Waits for the kubeconfig the server writes once it listens, and makes a client from it.
    private func waitForKubeconfig() async throws -> BenchAPIClient {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while clock.now < deadline {
            guard process.isRunning else {
                throw OrcaError(.unavailable, "orca server exited (\(process.terminationStatus)):\n\(logTail())")
            }
            if let config = try? Kubeconfig(path: kubeconfigPath) {
                return try BenchAPIClient(kubeconfig: config)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw OrcaError(.timeout, "orca server wrote no kubeconfig in 120 s:\n\(logTail())")
    }

    /// Stops the server: SIGTERM, and SIGKILL if it has not exited after `grace`.
    func stop(grace: Duration = .seconds(30)) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while process.isRunning, clock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            BenchLog.info("orca server did not stop in \(grace); killing it")
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// Unmounts anything still mounted under the data dir (reported), then deletes the dir.
    func removeDataDirectory() {
        let leftovers = MountTable.mountPoints(under: dataDir)
        for mount in leftovers {
            BenchLog.info("warning: unmounting leftover mount \(mount)")
            _ = umount2(mount, Int32(MNT_DETACH))
        }
        do { try FileManager.default.removeItem(atPath: dataDir) } catch {
            BenchLog.info("warning: cannot remove \(dataDir): \(error)")
        }
    }

    /// Waits (up to `timeout`) until the agent removed every container: a pod is gone from the
    /// API before its agent finishes cleaning up, and stopping the server then leaves mounts.
    func waitForContainersRemoved(timeout: Duration = .seconds(60)) async {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let dir = dataDir + "/runtime/containers"
        while clock.now < deadline {
            if ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).isEmpty { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
        BenchLog.info("warning: containers still present after \(timeout)")
    }

    /// Ends a benchmark's server with its agent: shows the log tail after a failure, closes
    /// `client`, stops the server, removes leftover containers, veths and `bridge`, then the dir.
    func finish(client: BenchAPIClient, bridge: String, failed: Bool) async {
        if failed { BenchLog.info("server log tail:\n\(logTail())") }
        await client.shutdown()
        await stop()
        await BenchPodStartupCommand.removeLeftovers(runcRoot: dataDir + "/runtime/runc", bridge: bridge)
        removeDataDirectory()
    }

    /// The last lines of the server log, for error messages.
    func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// The resident set size of process `pid` in bytes (`VmRSS` of /proc/<pid>/status).
    static func residentBytes(pid: Int32) -> Int? { ProcessUsage.of(pid: pid)?.residentBytes }
}
