import ArgumentParser
import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// `orca bench join`: how long a new machine takes to become a Ready node — from starting
/// `orca agent` with the join token to its Node reporting `Ready=True` — over several joins of
/// fresh hosts to one `orca server --disable-agent`.
struct BenchJoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Measure agent start → node Ready over N joins of fresh hosts.",
        discussion: """
        Starts `orca server --disable-agent` (this executable) on a temporary data dir and a free port, \
        a private bridge orcbb<hex> with a free 10.254.<n>.0/24 in the root network namespace, and then, \
        one at a time, N hosts: each a network namespace on the bridge where `orca agent` (this \
        executable, under `nsenter --net`) joins the server with its node token — bootstrap CSR, \
        approval and signing, node registration, a pod CIDR from node IPAM, the kubelet serving \
        certificate, Ready. Joined nodes stay, so later joins meet a larger cluster. A node watch \
        opened before the first join timestamps each node's first ADDED event, pod CIDR and Ready=True. \
        Everything is removed at the end, also after an error or Ctrl-C. Build with -c release; needs root.
        """
    )

    @Option(help: "Hosts that join, one after the other.") var joins = 10
    @Option(help: "Seconds to wait after a node is Ready before the next host joins.") var pauseSeconds = 1.0

    func validate() throws {
        guard (1...BenchBridge.maxHosts).contains(joins) else { throw ValidationError("--joins must be 1 to \(BenchBridge.maxHosts)") }
        guard pauseSeconds >= 0 else { throw ValidationError("--pause-seconds must not be negative") }
        guard getuid() == 0 else { throw ValidationError("join makes network namespaces and runs agents: it needs root") }
    }

    /// What the joins measured.
    struct Results: Sendable {
        var registered = LatencySamples(name: "agent start → Node created", unit: "node")
        var podCIDR = LatencySamples(name: "agent start → pod CIDR assigned", unit: "node")
        var ready = LatencySamples(name: "agent start → node Ready", unit: "node")
        /// Each agent's resident memory right after its node became Ready.
        var agentRSS: [Int] = []
        var serverRSS: Int?
    }

    func run() async throws {
        let cluster = BenchCluster()
        let joins = self.joins, pause = self.pauseSeconds
        let outcome = await BenchInterrupt.run { try await Self.measure(cluster, joins: joins, pause: pause) }
        if case .failure(let error) = outcome { BenchLog.info("failed: \(error)") }
        await cluster.shutdown(failed: (try? outcome.get()) == nil)
        report(try outcome.get())
    }

    static func measure(_ cluster: BenchCluster, joins: Int, pause: Double) async throws -> Results {
        try await cluster.start()
        let nodes = WatchTimeline(marks: WatchTimeline.nodeMarks)
        return try await BenchWatch.with(cluster.client, [("/api/v1/nodes", nodes)]) {
            let clock = ContinuousClock()
            var results = Results()
            for i in 0..<joins {
                let host = try await cluster.addHost()
                let name = host.nodeName
                let start = clock.now
                try cluster.startAgent(host)
                let ready = try await BenchWatch.until("node \(name) Ready", timeout: .seconds(180),
                                                       progress: { "node \(await nodes.objects()[name].map(WatchTimeline.describeNode) ?? "not registered")\n\(host.agentLogTail())" }) {
                    guard host.agentIsRunning else { throw OrcaError(.unavailable, "the agent of \(name) exited:\n\(host.agentLogTail())") }
                    return try await nodes.instant("ready", of: name)
                }
                results.ready.record(start.duration(to: ready))
                if let added = try await nodes.instant("added", of: name) { results.registered.record(start.duration(to: added)) }
                if let cidr = try await nodes.instant("cidr", of: name) { results.podCIDR.record(start.duration(to: cidr)) }
                if let pid = host.agentPID, let usage = ProcessUsage.of(pid: pid) { results.agentRSS.append(usage.residentBytes) }
                BenchLog.info("join \(i + 1)/\(joins): \(name) Ready \(BenchReport.format(ms: LatencySamples.milliseconds(start.duration(to: ready)))) ms after its agent started")
                if pause > 0 { try await Task.sleep(for: .seconds(pause)) }
            }
            results.serverRSS = cluster.server.flatMap { ProcessUsage.of(pid: $0.pid)?.residentBytes }
            return results
        }
    }

    private func report(_ r: Results) {
        var report = BenchReport(title: "orca bench join (\(joins) hosts join one orca server --disable-agent, one after the other)")
        report.add(r.registered)
        report.add(r.podCIDR)
        report.add(r.ready)
        report.fact("agent start → node Ready, every join in order (ms)", Self.list(r.ready))
        if let median = Self.median(r.agentRSS), let max = r.agentRSS.max() {
            report.fact("agent RSS when its node became Ready", "median \(BenchReport.format(bytes: median)), max \(BenchReport.format(bytes: max))")
        }
        if let rss = r.serverRSS { report.fact("server RSS with \(joins) nodes", BenchReport.format(bytes: rss)) }
        report.notes.append("agent start: spawning `nsenter --net=<host netns> orca agent --server https://<bridge address>:<port> --token-file …`; the end: the arrival of the first node watch event with Ready=True (client-side)")
        report.notes.append("the path: bootstrap token → client CSR approved and signed → Node created (Ready=False, no pod CIDR) → pod CIDR from node IPAM → kubelet serving CSR → Ready=True")
        report.notes.append("each host is a network namespace on a private bridge of this machine; joined nodes stay, \(pauseSeconds) s pause between joins; server and agents at --log-level warning")
        report.print(summary: "join: \(r.ready.count) joins, agent start → node Ready p50 \(BenchPodStartupCommand.ms(r.ready.p50)), p99 \(BenchPodStartupCommand.ms(r.ready.p99)), max \(BenchPodStartupCommand.ms(r.ready.max))")
    }

    /// The samples in recording order, in milliseconds.
    static func list(_ samples: LatencySamples) -> String {
        samples.milliseconds.map(BenchReport.format(ms:)).joined(separator: ", ")
    }

    /// The nearest-rank median of `values`.
    static func median(_ values: [Int]) -> Int? {
        guard !values.isEmpty else { return nil }
        return values.sorted()[(values.count + 1) / 2 - 1]
    }
}
