import Foundation
import OrcaCore
import Testing

/// One machine of a multi-node test, on this machine: a network namespace `orca-h<tag>-<i>`
/// joined to the `TestBridge` by a veth pair (`orcav<tag><i>` in the root namespace, `eth0`
/// inside) with its own address, `lo` up, a default route through the bridge and IP
/// forwarding on (between its pod bridge and `eth0`); its own directories under
/// `<cluster dir>/h<i>`, pod bridge `orcab<tag><i>` (inside the namespace anyway) and cgroup
/// root `/orca-e2e-<tag>-<i>`.
///
/// An `orca agent` runs on it under `nsenter --net` — not `ip netns exec`, whose private mount
/// namespace would hide the agent's mounts (and drop them when it exits). Its containers'
/// processes are found by network namespace (the host's and its pods'), by cgroup (under the
/// host's cgroup root) and by command line (naming the host's directory), which is how
/// `killAll()` takes the whole host down and `tearDown()` leaves nothing behind.
///
/// `@unchecked Sendable`: the agent process is replaced only by the test driving the host,
/// one call at a time; everything else is constant.
final class TestHost: @unchecked Sendable {
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

    /// Creates the namespace, veth pair, address and routes. A failure removes what was made.
    init(tag: String, index: Int, bridge: TestBridge, clusterDirectory: String) throws {
        self.index = index
        nodeName = "node-\(tag)-\(index)"
        netns = "orca-h\(tag)-\(index)"
        ip = bridge.address(ofHost: index)
        hostVeth = "orcav\(tag)\(index)"
        bridgeName = "orcab\(tag)\(index)"
        cgroupRoot = "/orca-e2e-\(tag)-\(index)"
        directory = clusterDirectory + "/h\(index)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try SystemCommand.must(SystemCommand.ip, ["netns", "add", netns])
            try SystemCommand.must(SystemCommand.ip, ["link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", netns])
            try SystemCommand.must(SystemCommand.ip, ["link", "set", hostVeth, "master", bridge.name])
            try SystemCommand.must(SystemCommand.ip, ["link", "set", hostVeth, "up"])
            try SystemCommand.must(SystemCommand.ip, ["-n", netns, "link", "set", "lo", "up"])
            try SystemCommand.must(SystemCommand.ip, ["-n", netns, "addr", "add", "\(ip)/24", "dev", "eth0"])
            try SystemCommand.must(SystemCommand.ip, ["-n", netns, "link", "set", "eth0", "up"])
            try SystemCommand.must(SystemCommand.ip, ["-n", netns, "route", "add", "default", "via", bridge.gateway])
            // Pod addresses the host has no better route for stop here instead of leaving the
            // machine through the root namespace's default route; any route the agent adds
            // (a /24 per node, or the /16 with the usual metric) takes precedence.
            try SystemCommand.must(SystemCommand.ip, ["-n", netns, "route", "add", "unreachable", "10.42.0.0/16", "metric", "4000"])
            // The host routes between its pod bridge and eth0 (to other hosts' pods).
            try inside("/usr/sbin/sysctl", ["-qw", "net.ipv4.ip_forward=1"])
        } catch {
            tearDown()
            throw error
        }
    }

    /// Runs a command in the host's network namespace (and nothing else's: same mounts).
    @discardableResult
    func inside(_ path: String, _ args: [String], timeout: TimeInterval = 60) throws -> String {
        try SystemCommand.must(SystemCommand.nsenter, ["--net=\(netnsPath)", path] + args, timeout: timeout)
    }

    /// The `orca agent` arguments for this host (after `orca agent`).
    func agentArguments(server: String, token: TokenSource, extra: [String] = []) -> [String] {
        var args = ["agent", "--server", server]
        switch token {
        case .file(let path): args += ["--token-file", path]
        case .text(let text): args += ["--token", text]
        }
        return args + ["--node-name", nodeName, "--node-ip", ip, "--data-dir", dataDir, "--run-dir", runDir,
                       "--pod-log-dir", podLogDir, "--bridge-name", bridgeName, "--cgroup-root", cgroupRoot] + extra
    }

    /// How the agent is given its join token.
    enum TokenSource {
        case file(String)
        case text(String)
    }

    /// Starts `orca agent` on this host in the background, its output appended to `logPath`.
    func startAgent(server: String, token: TokenSource, extra: [String] = []) throws {
        if let agent, agent.isRunning { throw E2EError("the agent of \(nodeName) is already running") }
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw E2EError("cannot open \(logPath)") }
        log.seekToEndOfFile()
        log.write(Data("==== orca agent started \(Date())\n".utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: SystemCommand.nsenter)
        p.arguments = ["--net=\(netnsPath)", OrcaServerProcess.binary] + agentArguments(server: server, token: token, extra: extra)
        p.standardOutput = log
        p.standardError = log
        try p.run()
        try? log.close()  // the agent has its own descriptor
        agent = p
    }

    /// Runs `orca agent` in the foreground until it exits (or `timeout`); for agents that must fail.
    func runAgent(server: String, token: TokenSource, timeout: TimeInterval = 90) throws -> (status: Int32, out: String, err: String) {
        try SystemCommand.run(SystemCommand.nsenter, ["--net=\(netnsPath)", OrcaServerProcess.binary] + agentArguments(server: server, token: token),
                      timeout: timeout)
    }

    var agentIsRunning: Bool { agent?.isRunning ?? false }

    /// How many files the running agent holds open whose path contains `fragment` (nsenter
    /// without `--fork` execs the agent: its pid is the process's).
    func agentOpenFiles(containing fragment: String) -> Int {
        guard let agent, agent.isRunning else { return 0 }
        let fds = "/proc/\(agent.processIdentifier)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: fds)) ?? []
        return entries.filter { ((try? FileManager.default.destinationOfSymbolicLink(atPath: fds + "/" + $0)) ?? "").contains(fragment) }.count
    }

    /// The last lines of the agent's output, for failure messages.
    func agentLogTail(_ lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// SIGTERM (a graceful stop; running containers stay), SIGKILL after `timeout`.
    func stopAgent(timeout: TimeInterval = 10) {
        guard let agent, agent.isRunning else { return }
        agent.terminate()
        waitForAgentExit(timeout: timeout)
    }

    /// Waits for a signalled agent to exit, SIGKILL once `timeout` has passed.
    func waitForAgentExit(timeout: TimeInterval) {
        guard let agent else { return }
        let deadline = Date().addingTimeInterval(timeout)
        while agent.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if agent.isRunning { kill(agent.processIdentifier, SIGKILL) }
        agent.waitUntilExit()
    }

    /// `kill -9` of the agent alone: its containers (under conmon) keep running.
    func kill9Agent() {
        guard let agent, agent.isRunning else { return }
        kill(agent.processIdentifier, SIGKILL)
        agent.waitUntilExit()
    }

    /// The host dies: `kill -9` of the agent, then of every process of the host — conmon and
    /// runc, the containers and anything else in its network namespaces or cgroups.
    func killAll() {
        kill9Agent()
        HostProcesses.killAll(of: self)
    }

    /// Removes everything of this host, whatever state it is in: processes, mounts under its
    /// directory, the namespace (and so its veths and pod bridge), cgroups and files. Never fails.
    func tearDown() {
        killAll()
        for _ in 0..<5 {
            let points = MountTable.mountPoints(under: directory)
            if points.isEmpty { break }
            for point in points { umount2(point, Int32(MNT_DETACH)) }
        }
        _ = try? SystemCommand.run(SystemCommand.ip, ["netns", "del", netns])
        _ = try? SystemCommand.run(SystemCommand.ip, ["link", "del", hostVeth])
        HostProcesses.removeCgroups(cgroupRoot)
        // Never recurse into a file system still mounted below (a hostPath volume's source).
        if MountTable.mountPoints(under: directory).isEmpty { try? FileManager.default.removeItem(atPath: directory) }
    }
}
