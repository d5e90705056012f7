import ArgumentParser
import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// `orca bench agent-idle`: what a node agent costs while it holds N idle running pods — its
/// CPU (1 s samples) and resident memory — as a separate `orca agent` process joined to an
/// `orca server --disable-agent`.
struct BenchAgentIdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-idle",
        abstract: "Measure the agent's idle CPU and RSS while it runs N pods.",
        discussion: """
        Starts `orca server --disable-agent` (this executable) and one host — a network namespace on a \
        private bridge orcbb<hex>, 10.254.<n>.0/24 — whose `orca agent` joins it, like `bench join`; creates \
        N pods of the built-in busybox image running `sleep 3600`, waits until all are Running, lets the \
        agent settle, then samples the agent process every second for S seconds: CPU from its process \
        CPU-time clock plus the children it reaped (runc, CNI plugins), RSS from /proc. The conmons and \
        the server are reported beside it. Everything is removed at the end, also after an error or \
        Ctrl-C. Build with -c release; needs root.
        """
    )

    @Option(help: "Idle pods on the agent's node (at most its 110).") var pods = 100
    @Option(help: "Seconds of 1 s samples.") var seconds = 60
    @Option(help: "Seconds to wait after all pods are Running before sampling.") var settleSeconds = 10

    func validate() throws {
        guard (3...110).contains(pods) else { throw ValidationError("--pods must be 3 to 110 (a node's pod capacity)") }
        guard seconds >= 2 else { throw ValidationError("--seconds must be at least 2") }
        guard settleSeconds >= 0 else { throw ValidationError("--settle-seconds must not be negative") }
        guard getuid() == 0 else { throw ValidationError("agent-idle makes a network namespace and runs pods: it needs root") }
    }

    /// One reading of the agent process.
    struct Sample: Sendable {
        var at: ContinuousClock.Instant
        /// Its own CPU seconds plus its reaped children's.
        var cpuSeconds: Double
        var residentBytes: Int
        var anonymousBytes: Int
    }

    /// What one run measured.
    struct Results: Sendable {
        var node: String
        var allRunning: Duration
        var samples: [Sample]
        /// The conmons and the server at the first and the last sample.
        var conmons: (first: ProcessUsage, last: ProcessUsage)
        var server: (first: ProcessUsage, last: ProcessUsage)
        var runningAtEnd: Int
    }

    func run() async throws {
        let cluster = BenchCluster()
        let pods = self.pods, seconds = self.seconds, settle = self.settleSeconds
        let outcome = await BenchInterrupt.run {
            try await cluster.start()
            let host = try await cluster.addHost()
            try cluster.startAgent(host)
            try await cluster.waitForReadyNodes([host])
            BenchLog.info("node \(host.nodeName) Ready; starting \(pods) pods")
            return try await Self.measure(cluster: cluster, host: host, pods: pods, seconds: seconds, settle: settle)
        }
        if case .failure(let error) = outcome { BenchLog.info("failed: \(error)") }
        await cluster.shutdown(failed: (try? outcome.get()) == nil)
        report(try outcome.get())
    }

    static func measure(cluster: BenchCluster, host: BenchHost, pods: Int, seconds: Int, settle: Int) async throws -> Results {
        let clock = ContinuousClock()
        let bench = PodStartupBenchmark(client: cluster.client, namespace: cluster.namespace)
        let start = clock.now
        _ = try await bench.run(count: 1, burst: pods - 2)  // one, one, then the rest at once: `pods` in all
        let allRunning = start.duration(to: clock.now)
        BenchLog.info("all \(pods) pods Running after \(BenchControllersCommand.seconds(allRunning)); settling \(settle) s")
        try await Task.sleep(for: .seconds(settle))

        guard let agent = host.agentPID, let serverPID = cluster.server?.pid else {
            throw OrcaError(.unavailable, "the agent of \(host.nodeName) is not running:\n\(host.agentLogTail())")
        }
        func read() throws -> Sample {
            guard let own = ProcessUsage.cpuClockSeconds(pid: agent), let children = ProcessUsage.reapedChildrenCPUSeconds(pid: agent),
                  let usage = ProcessUsage.of(pid: agent) else {
                throw OrcaError(.unavailable, "the agent of \(host.nodeName) exited while sampled:\n\(host.agentLogTail())")
            }
            return Sample(at: clock.now, cpuSeconds: own + children, residentBytes: usage.residentBytes, anonymousBytes: usage.anonymousBytes)
        }
        func others() -> (ProcessUsage, ProcessUsage) {
            (ProcessUsage.of(pids: BenchHostProcesses.conmons(of: host)), ProcessUsage.of(pid: serverPID) ?? .zero)
        }
        BenchLog.info("sampling the agent (pid \(agent)) every second for \(seconds) s")
        let (conmonsFirst, serverFirst) = others()
        var samples = [try read()]
        let first = samples[0].at
        for i in 1...seconds {
            try await clock.sleep(until: first + .seconds(i))
            samples.append(try read())
        }
        let (conmonsLast, serverLast) = others()
        let items = try await cluster.client.expect(.GET, bench.podsPath)["items"]?.arrayValue ?? []
        return Results(node: host.nodeName, allRunning: allRunning, samples: samples, conmons: (conmonsFirst, conmonsLast),
                       server: (serverFirst, serverLast), runningAtEnd: items.filter(PodRunningTracker.isRunning).count)
    }

    private func report(_ r: Results) {
        // LatencySamples for its nearest-rank percentiles; the values here are percent and bytes.
        var cpu = LatencySamples(name: "agent CPU %")
        var rss = LatencySamples(name: "agent RSS")
        var anon = LatencySamples(name: "agent anonymous RSS")
        for (a, b) in zip(r.samples, r.samples.dropFirst()) {
            let wall = LatencySamples.milliseconds(a.at.duration(to: b.at)) / 1000
            if wall > 0 { cpu.record(milliseconds: (b.cpuSeconds - a.cpuSeconds) / wall * 100) }
        }
        for s in r.samples {
            rss.record(milliseconds: Double(s.residentBytes))
            anon.record(milliseconds: Double(s.anonymousBytes))
        }
        let window = r.samples.first.flatMap { first in r.samples.last.map { LatencySamples.milliseconds(first.at.duration(to: $0.at)) / 1000 } } ?? 0
        func percent(_ v: Double?) -> String { v.map { String(format: "%.2f %%", $0) } ?? "n/a" }
        func mib(_ v: Double?) -> String { v.map { BenchReport.format(bytes: Int($0)) } ?? "n/a" }
        func meanCPU(_ first: Double, _ last: Double) -> String { window > 0 ? percent((last - first) / window * 100) : "n/a" }
        let agentMean = meanCPU(r.samples.first?.cpuSeconds ?? 0, r.samples.last?.cpuSeconds ?? 0)

        var report = BenchReport(title: "orca bench agent-idle (one orca agent with \(pods) idle busybox `sleep 3600` pods, \(seconds) s of 1 s samples)")
        report.fact("pods Running (at the end)", "\(r.runningAtEnd) of \(pods) on \(r.node); all Running \(BenchControllersCommand.seconds(r.allRunning)) after the first create")
        report.fact("agent CPU, 1 s samples (\(cpu.count))", "median \(percent(cpu.p50)), p99 \(percent(cpu.p99)), max \(percent(cpu.max)) of one core")
        report.fact("agent CPU, mean over \(String(format: "%.0f", window)) s", agentMean)
        report.fact("agent RSS (VmRSS)", "median \(mib(rss.p50)), max \(mib(rss.max))")
        report.fact("agent anonymous RSS (RssAnon)", "median \(mib(anon.p50)), max \(mib(anon.max))")
        report.fact("conmons (\(r.conmons.last.processes) processes)",
                    "RSS \(BenchReport.format(bytes: r.conmons.last.residentBytes)) in all; CPU mean \(meanCPU(r.conmons.first.cpuSeconds, r.conmons.last.cpuSeconds))")
        report.fact("server (--disable-agent)",
                    "RSS \(BenchReport.format(bytes: r.server.last.residentBytes)); CPU mean \(meanCPU(r.server.first.cpuSeconds, r.server.last.cpuSeconds))")
        report.notes.append("agent CPU: Δ(the agent process's CPU-time clock, all its threads, + CPU of the children it reaped) ÷ Δwall, per 1 s sample, in % of one core")
        report.notes.append("the agent is a separate `orca agent --log-level warning` in its own network namespace, joined to `orca server --disable-agent`; sampling starts \(settleSeconds) s after the last pod was Running")
        report.notes.append("conmon and server CPU: /proc clock ticks (user + system, with reaped children) over the same window")
        report.print(summary: "agent-idle: \(pods) pods, agent CPU median \(percent(cpu.p50)), p99 \(percent(cpu.p99)) (mean \(agentMean)); RSS median \(mib(rss.p50)), max \(mib(rss.max))")
    }
}
