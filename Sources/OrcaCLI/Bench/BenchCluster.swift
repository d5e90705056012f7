import Foundation
import NIOHTTP1
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// Several nodes on this machine for the multi-node benchmarks: one `orca server
/// --disable-agent` (this executable) in the root network namespace, and `orca agent`s on
/// `BenchHost`s (network namespaces on a private `BenchBridge`) that join it over HTTPS at the
/// bridge address with its node token — the benchmark side of the E2E `MultiNodeCluster`.
///
/// Everything lives under `/tmp/orca-bench-<tag>` (`server/`, `h<i>/`) and carries the tag in
/// its name. `init` makes nothing; `start()` makes the bridge and the server, `addHost()` a
/// host; `shutdown()` removes everything whatever state a failed or interrupted run left
/// (pods first, then agents, server, processes, mounts, namespaces, bridge, cgroups, files)
/// and never fails.
///
/// `@unchecked Sendable`: driven by one benchmark at a time; `shutdown()` runs after it.
final class BenchCluster: @unchecked Sendable {
    let tag: String
    let directory: String
    /// `--node-monitor-grace-period` of the server, seconds.
    let nodeMonitorGracePeriod: Int
    /// The namespace the benchmark's pods go to.
    var namespace: String { "orca-bench-\(tag)" }
    private(set) var bridge: BenchBridge?
    private(set) var server: BenchServer?
    private var apiClient: BenchAPIClient?
    private(set) var hosts: [BenchHost] = []
    /// The server's URL as the agents reach it: the bridge address, which its certificate names.
    private(set) var agentServerURL = ""

    var tokenFile: String { directory + "/server/node-token" }

    /// The admin client of the started server.
    var client: BenchAPIClient {
        guard let apiClient else { preconditionFailure("the benchmark cluster's server did not start") }
        return apiClient
    }

    init(nodeMonitorGracePeriod: Int = 40) {
        tag = BenchServer.randomHex(6)
        directory = NSTemporaryDirectory() + "orca-bench-\(tag)"
        self.nodeMonitorGracePeriod = nodeMonitorGracePeriod
    }

    /// Makes the bridge and starts the server, listening on every address (loopback for this
    /// process, the bridge address for the agents; its certificate names the bridge address).
    func start() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let bridge = try await BenchBridge.create(tag: tag)
        self.bridge = bridge
        BenchLog.info("bridge \(bridge.name) at \(bridge.gateway)/24")
        // The later --bind-address wins over BenchServer's 127.0.0.1.
        let (server, client) = try await BenchServer.start(dataDir: directory + "/server", extraArguments: [
            "--disable-agent", "--bind-address", "0.0.0.0", "--tls-san", bridge.gateway,
            "--node-monitor-grace-period", String(nodeMonitorGracePeriod), "--log-level", "warning",
        ])
        self.server = server
        apiClient = client
        guard let port = URL(string: client.base)?.port else { throw OrcaError(.internalError, "no port in the server URL \(client.base)") }
        agentServerURL = "https://\(bridge.gateway):\(port)"
        try await APIBenchmark(client: client).createNamespace(namespace)
    }

    /// Makes the next host (namespace, veth, address); starts no agent.
    func addHost() async throws -> BenchHost {
        guard let bridge else { preconditionFailure("start() the cluster first") }
        guard hosts.count < BenchBridge.maxHosts else { throw OrcaError(.invalid, "at most \(BenchBridge.maxHosts) hosts") }
        let host = try await BenchHost.create(tag: tag, index: hosts.count, bridge: bridge, clusterDirectory: directory)
        hosts.append(host)
        return host
    }

    /// Starts the agent of `host` against the server (log level warning, as the server's).
    func startAgent(_ host: BenchHost) throws {
        try host.startAgent(server: agentServerURL, tokenFile: tokenFile, extra: ["--log-level", "warning"])
    }

    /// Waits until the nodes of `hosts` are Ready with a pod CIDR; fails early when one of their agents exits.
    func waitForReadyNodes(_ hosts: [BenchHost], timeout: Duration = .seconds(180)) async throws {
        let client = self.client
        let names = Set(hosts.map(\.nodeName))
        let seen = LastSeen()
        try await BenchWatch.until("nodes \(names.sorted()) Ready with a pod CIDR", timeout: timeout, interval: .milliseconds(250),
                                   progress: { "\(await seen.text)\n\(self.agentLogs())" }) {
            if let dead = hosts.first(where: { !$0.agentIsRunning }) {
                throw OrcaError(.unavailable, "the agent of \(dead.nodeName) exited:\n\(dead.agentLogTail())")
            }
            let nodes = try await client.expect(.GET, "/api/v1/nodes")["items"]?.arrayValue ?? []
            let ready = nodes.filter { node in
                WatchTimeline.nodeMarks("MODIFIED", node).contains("ready") && !(node[path: ["spec", "podCIDR"]]?.stringValue ?? "").isEmpty
            }.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
            await seen.set("Ready with a pod CIDR: \(ready.sorted())")
            return names.isSubset(of: ready) ? () : nil
        }
    }

    /// The last lines of every agent's log, for failure messages.
    func agentLogs(_ lines: Int = 15) -> String {
        hosts.map { "---- agent of \($0.nodeName) (\($0.agentIsRunning ? "running" : "not running")):\n\($0.agentLogTail(lines))" }
            .joined(separator: "\n")
    }

    // MARK: shutdown

    /// Removes everything the cluster made. Never fails; safe to call twice.
    func shutdown(failed: Bool) async {
        if failed, let server {
            BenchLog.info("server log tail:\n\(server.logTail())")
            if !hosts.isEmpty { BenchLog.info("agent logs:\n\(agentLogs())") }
        }
        BenchLog.info("removing the cluster")
        if let server, server.isRunning, let apiClient { await deletePods(apiClient) }
        // Agents stop together (SIGTERM, SIGKILL after 10 s): running containers stay, for below.
        for host in hosts { host.signalAgentToStop() }
        for host in hosts { await host.waitForAgentExit(timeout: .seconds(10)) }
        await apiClient?.shutdown()
        apiClient = nil
        await server?.stop()
        for host in hosts { await host.tearDown() }
        await bridge?.remove()
        server?.removeDataDirectory()
        for point in MountTable.mountPoints(under: directory) { umount2(point, Int32(MNT_DETACH)) }
        // Never recurse into a file system still mounted below.
        if MountTable.mountPoints(under: directory).isEmpty {
            try? FileManager.default.removeItem(atPath: directory)
        } else {
            BenchLog.info("warning: mounts left under \(directory); not removing it")
        }
    }

    /// Deletes the namespace's Deployments and ReplicaSets (orphaning their pods, so nothing
    /// replaces them) and its pods, waits a while for the running agents to stop their
    /// containers, then force-deletes what is left (pods of dead nodes never finish terminating).
    private func deletePods(_ client: BenchAPIClient) async {
        let ns = "/namespaces/\(namespace)"
        for collection in ["/apis/apps/v1\(ns)/deployments", "/apis/apps/v1\(ns)/replicasets"] {
            for name in await names(client, collection) {
                _ = try? await client.send(.DELETE, "\(collection)/\(name)?propagationPolicy=Orphan")
            }
        }
        let pods = "/api/v1\(ns)/pods"
        let names = await names(client, pods)
        guard !names.isEmpty else { return }
        BenchLog.info("deleting \(names.count) pods")
        await withTaskGroup(of: Void.self) { group in
            for (i, name) in names.enumerated() {
                if i >= 16 { await group.next() }
                group.addTask { _ = try? await client.send(.DELETE, "\(pods)/\(name)?gracePeriodSeconds=1") }
            }
        }
        let live = hosts.filter(\.agentIsRunning)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(max(45, names.count))
        while clock.now < deadline {
            let items = (try? await client.expect(.GET, pods)["items"]?.arrayValue) ?? []
            let onLiveNodes = items.filter { pod in live.contains { $0.nodeName == pod[path: ["spec", "nodeName"]]?.stringValue } }
            var containers = 0
            for host in live {
                let out = await BenchSystem.output(BenchSystem.runc, ["--root", host.runcRoot, "list", "-q"])
                containers += out.split(whereSeparator: \.isNewline).count
            }
            if onLiveNodes.isEmpty && containers == 0 { break }
            try? await Task.sleep(for: .milliseconds(500))
        }
        for name in await self.names(client, pods) {
            _ = try? await client.send(.DELETE, "\(pods)/\(name)?gracePeriodSeconds=0")
        }
    }

    private func names(_ client: BenchAPIClient, _ collection: String) async -> [String] {
        let items = (try? await client.expect(.GET, collection)["items"]?.arrayValue) ?? []
        return items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
    }

    /// The last progress text of a wait, for its timeout message.
    private actor LastSeen {
        var text = ""
        func set(_ value: String) { text = value }
    }
}
