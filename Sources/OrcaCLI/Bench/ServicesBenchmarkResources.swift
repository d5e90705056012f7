import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// What `orca bench services` makes beside its `BenchCluster`, all named with the cluster's tag:
/// the DNS client's network namespace `orca-bench-<tag>-dns` (its `eth0` paired with
/// `orcbd<tag>` on the host's pod bridge), the scratch namespace `orca-bench-<tag>-nft` for the
/// nft-alone comparison, dnsmasq (in the host's namespace) and the files under
/// `<cluster dir>/services`.
///
/// `tearDown()` removes all of it whatever state a failed or interrupted run left — processes in
/// the two namespaces, dnsmasq, the namespaces (and with them the veth pair and the scratch
/// table), the files — and never fails. The host's own namespace, and with it the agent's table,
/// goes with `BenchCluster.shutdown()`.
///
/// `@unchecked Sendable`: the dnsmasq process is replaced only by the benchmark, one call at a
/// time; `tearDown()` runs after it.
final class ServicesBenchmarkResources: @unchecked Sendable {
    let tag: String
    let directory: String
    var dnsNamespace: String { "orca-bench-\(tag)-dns" }
    var nftNamespace: String { "orca-bench-\(tag)-nft" }
    /// The host side of the DNS client's veth pair (moved into the host's namespace).
    var clientVeth: String { "orcbd\(tag)" }
    var dnsmasqLog: String { directory + "/dnsmasq.log" }

    private var dnsmasq: Process?

    init(cluster: BenchCluster) {
        tag = cluster.tag
        directory = cluster.directory + "/services"
    }

    static func netnsPath(_ name: String) -> String { "/run/netns/" + name }

    /// Makes the files directory.
    func prepare() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Creates the namespace `name` with `lo` up (removing a leftover of the same name first).
    func addNamespace(_ name: String) async throws {
        if FileManager.default.fileExists(atPath: Self.netnsPath(name)) { await removeNamespace(name) }
        try await BenchSystem.must(BenchSystem.ip, ["netns", "add", name])
        try await BenchSystem.must(BenchSystem.ip, ["-n", name, "link", "set", "lo", "up"])
    }

    /// Kills what runs in namespace `name`, then deletes it. Never fails.
    func removeNamespace(_ name: String) async {
        let path = Self.netnsPath(name)
        guard FileManager.default.fileExists(atPath: path) else { return }
        await Self.killProcesses(inNetworkNamespace: path)
        _ = try? await BenchSystem.run(BenchSystem.ip, ["netns", "del", name])
    }

    // MARK: dnsmasq

    /// Starts `dnsmasq` in the host's namespace answering from `hostsFile` on `address:port`
    /// only, forwarding nothing, in the foreground with its output in `dnsmasqLog`.
    func startDnsmasq(path: String, hostNetns: String, address: String, port: Int, hostsFile: String) throws {
        if let dnsmasq, dnsmasq.isRunning { throw OrcaError(.invalid, "dnsmasq is already running") }
        _ = FileManager.default.createFile(atPath: dnsmasqLog, contents: nil)
        guard let log = FileHandle(forWritingAtPath: dnsmasqLog) else { throw OrcaError(.system, "cannot open \(dnsmasqLog)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BenchSystem.nsenter)
        p.arguments = ["--net=\(hostNetns)", path, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                       "--addn-hosts=\(hostsFile)", "--port=\(port)", "--listen-address=\(address)", "--bind-interfaces",
                       "--cache-size=10000", "--pid-file="]
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        try? log.close()
        dnsmasq = p
        BenchLog.info("started dnsmasq (pid \(p.processIdentifier)) on \(address):\(port) in the host's namespace")
    }

    var dnsmasqIsRunning: Bool { dnsmasq?.isRunning ?? false }

    /// dnsmasq's last lines, for failure messages.
    func dnsmasqLogTail(_ lines: Int = 10) -> String {
        let text = (try? String(contentsOfFile: dnsmasqLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Stops dnsmasq: SIGTERM, SIGKILL after 5 s. Never fails.
    func stopDnsmasq() async {
        guard let dnsmasq, dnsmasq.isRunning else { return }
        kill(dnsmasq.processIdentifier, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while dnsmasq.isRunning, clock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if dnsmasq.isRunning { kill(dnsmasq.processIdentifier, SIGKILL) }
        while dnsmasq.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    // MARK: teardown

    /// Removes everything listed above. Never fails; safe to call twice.
    func tearDown() async {
        await stopDnsmasq()
        await removeNamespace(dnsNamespace)
        await removeNamespace(nftNamespace)
        // Left in the root namespace when setup failed before moving it to the host.
        if (try? await BenchSystem.run(BenchSystem.ip, ["link", "show", clientVeth]))?.exitCode == 0 {
            _ = try? await BenchSystem.run(BenchSystem.ip, ["link", "del", clientVeth])
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// SIGKILLs every process whose network namespace is the one at `path` (the DNS client child
    /// after an interruption), until none is left (at most 5 s).
    static func killProcesses(inNetworkNamespace path: String) async {
        guard let target = BenchHostProcesses.FileID(path) else { return }
        let me = getpid()
        for _ in 0..<100 {
            var pids: [pid_t] = []
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = pid_t(name), pid > 1, pid != me,
                      let state = BenchHostProcesses.state(pid), state != "Z", state != "X",
                      BenchHostProcesses.FileID("/proc/\(name)/ns/net") == target else { continue }
                pids.append(pid)
            }
            if pids.isEmpty { return }
            for pid in pids { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        BenchLog.info("warning: processes still alive in \(path) after 5 s of SIGKILL")
    }
}
