import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// One machine of a multi-node benchmark, on this machine: a network namespace
/// `orca-bench-<tag>-<i>` joined to the `BenchBridge` by a veth pair (`orcbv<tag><i>` in the
/// root namespace, `eth0` inside) with its own address, `lo` up and IP forwarding on (between
/// its pod bridge and `eth0`); its own directories under `<cluster dir>/h<i>`, pod bridge
/// `orcbp<tag><i>` (inside the namespace) and cgroup root `/orca-bench-<tag>-<i>`. Unlike the
/// E2E hosts it has no default route: the server and the other hosts are on the bridge's
/// /24, so nothing it sends can leave through the root namespace.
///
/// An `orca agent` runs on it under `nsenter --net` (which execs it: the process id is the
/// agent's) — not `ip netns exec`, whose private mount namespace would hide the agent's mounts.
/// `killAll()` takes the whole host down (`BenchHostProcesses`), `tearDown()` leaves nothing.
///
/// `@unchecked Sendable`: the agent process is replaced only by the benchmark driving the
/// host, one call at a time; everything else is constant.
final class BenchHost: @unchecked Sendable {
    let index: Int
    let nodeName: String
    let netns: String
    let ip: String
    let hostVeth: String
    let bridgeName: String
    let cgroupRoot: String
    let directory: String
    var dataDir: String { directory + "/data" }
    var runDir: String { directory + "/run" }
    var podLogDir: String { directory + "/logs" }
    /// The agent's output, across restarts.
    var logPath: String { directory + "/agent.log" }
    var netnsPath: String { "/run/netns/" + netns }
    /// runc's state directory of the agent's containers.
    var runcRoot: String { dataDir + "/runtime/runc" }

    /// The running (or last) agent process.
    private(set) var agent: Process?

    private init(tag: String, index: Int, bridge: BenchBridge, clusterDirectory: String) {
        self.index = index
        nodeName = "bench-\(tag)-\(index)"
        netns = "orca-bench-\(tag)-\(index)"
        ip = bridge.address(ofHost: index)
        hostVeth = "orcbv\(tag)\(index)"
        bridgeName = "orcbp\(tag)\(index)"
        cgroupRoot = "/orca-bench-\(tag)-\(index)"
        directory = clusterDirectory + "/h\(index)"
    }

    /// Creates the namespace, veth pair, address and routes. A failure removes what was made.
    static func create(tag: String, index: Int, bridge: BenchBridge, clusterDirectory: String) async throws -> BenchHost {
        let host = BenchHost(tag: tag, index: index, bridge: bridge, clusterDirectory: clusterDirectory)
        let ip = BenchSystem.ip, ns = host.netns
        do {
            try FileManager.default.createDirectory(atPath: host.directory, withIntermediateDirectories: true)
            try await BenchSystem.must(ip, ["netns", "add", ns])
            try await BenchSystem.must(ip, ["link", "add", host.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", ns])
            try await BenchSystem.must(ip, ["link", "set", host.hostVeth, "master", bridge.name])
            try await BenchSystem.must(ip, ["link", "set", host.hostVeth, "up"])
            try await BenchSystem.must(ip, ["-n", ns, "link", "set", "lo", "up"])
            try await BenchSystem.must(ip, ["-n", ns, "addr", "add", "\(host.ip)/24", "dev", "eth0"])
            try await BenchSystem.must(ip, ["-n", ns, "link", "set", "eth0", "up"])
            // Pod addresses the host has no better route for stop here; the routes the agent
            // adds (a /24 per node through its host) take precedence.
            try await BenchSystem.must(ip, ["-n", ns, "route", "add", "unreachable", "10.42.0.0/16", "metric", "4000"])
            // The host routes between its pod bridge and eth0 (to other hosts' pods).
            try await BenchSystem.must(BenchSystem.nsenter, ["--net=\(host.netnsPath)", BenchSystem.sysctl, "-qw", "net.ipv4.ip_forward=1"])
        } catch {
            await host.tearDown()
            throw error
        }
        return host
    }

    /// The `orca agent` arguments for this host (after the executable).
    func agentArguments(server: String, tokenFile: String, extra: [String]) -> [String] {
        ["agent", "--server", server, "--token-file", tokenFile, "--node-name", nodeName, "--node-ip", ip,
         "--data-dir", dataDir, "--run-dir", runDir, "--pod-log-dir", podLogDir, "--bridge-name", bridgeName,
         "--cgroup-root", cgroupRoot] + extra
    }

    /// Starts `orca agent` (this executable) on this host in the background, its output
    /// appended to `logPath`. Returns once the process is spawned.
    func startAgent(server: String, tokenFile: String, extra: [String] = []) throws {
        if let agent, agent.isRunning { throw OrcaError(.invalid, "the agent of \(nodeName) is already running") }
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw OrcaError(.system, "cannot open \(logPath)") }
        log.seekToEndOfFile()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BenchSystem.nsenter)
        p.arguments = ["--net=\(netnsPath)", BenchServer.executable] + agentArguments(server: server, tokenFile: tokenFile, extra: extra)
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        try? log.close()  // the agent has its own descriptor
        agent = p
    }

    var agentIsRunning: Bool { agent?.isRunning ?? false }

    /// The agent's process id (nsenter execs the agent, so it is the agent's own), while it runs.
    var agentPID: Int32? { agentIsRunning ? agent?.processIdentifier : nil }

    /// The last lines of the agent's output, for failure messages.
    func agentLogTail(_ lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Sends SIGTERM to the agent (a graceful stop; its containers stay), if it runs.
    func signalAgentToStop() {
        guard let agent, agent.isRunning else { return }
        kill(agent.processIdentifier, SIGTERM)
    }

    /// Waits for the agent to exit, SIGKILL once `timeout` has passed.
    func waitForAgentExit(timeout: Duration) async {
        guard let agent else { return }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while agent.isRunning, clock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if agent.isRunning { kill(agent.processIdentifier, SIGKILL) }
        while agent.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// The host dies: `kill -9` of the agent, then of every process of the host — conmon and
    /// runc, the containers and anything else in its network namespaces or cgroups.
    func killAll() async {
        if let agent, agent.isRunning { kill(agent.processIdentifier, SIGKILL) }
        await BenchHostProcesses.killAll(of: self)
        await waitForAgentExit(timeout: .seconds(5))
    }

    /// Removes everything of this host, whatever state it is in: processes, mounts under its
    /// directory, the namespace (and so its veths and pod bridge), cgroups and files. Never fails.
    func tearDown() async {
        await killAll()
        for _ in 0..<5 {
            let points = MountTable.mountPoints(under: directory)
            if points.isEmpty { break }
            for point in points { umount2(point, Int32(MNT_DETACH)) }
        }
        _ = try? await BenchSystem.run(BenchSystem.ip, ["netns", "del", netns])
        _ = try? await BenchSystem.run(BenchSystem.ip, ["link", "del", hostVeth])
        BenchHostProcesses.removeCgroups(cgroupRoot)
        // Never recurse into a file system still mounted below.
        if MountTable.mountPoints(under: directory).isEmpty { try? FileManager.default.removeItem(atPath: directory) }
    }
}
