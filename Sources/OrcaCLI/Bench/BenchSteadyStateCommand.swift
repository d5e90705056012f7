import ArgumentParser
import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// `orca bench steady-state`: what N idle running pods cost over time. Orca (the server with its
/// agent, and the conmons it started) and then podman (`podman kube play` of the same pods, its
/// conmons) each hold the pods for the same minutes; every interval the report shows resident and
/// anonymous memory and CPU per pod, so a leak shows as a rising line and polling as CPU.
struct BenchSteadyStateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steady-state",
        abstract: "Hold N idle pods for M minutes; report memory every interval and CPU per pod, against podman.",
        discussion: """
        Starts `orca server` (this executable, with the agent) on a temporary data dir, a free loopback \
        port, a private bridge and pod subnet, like `pod-startup`; creates the pods (busybox `sleep 3600`), \
        waits until all run, then samples /proc. Podman (when installed) then holds the same pods on \
        private storage. Everything is removed at the end. Needs root.
        """
    )

    @Option(help: "Idle pods held.") var pods = 100
    @Option(help: "Minutes each system holds the pods.") var minutes = 30
    @Option(help: "Seconds between samples.") var intervalSeconds = 60
    @Flag(help: "Do not run the podman comparison.") var skipPodman = false

    func validate() throws {
        guard pods >= 3, minutes > 0, intervalSeconds > 0 else {
            throw ValidationError("--pods must be at least 3; --minutes and --interval-seconds positive")
        }
        guard getuid() == 0 else { throw ValidationError("steady-state runs real pods and needs root") }
    }

    /// One sample of one system.
    struct Sample: Sendable {
        var elapsed: Double
        var server: ProcessUsage
        var all: ProcessUsage
    }

    func run() async throws {
        let tag = BenchServer.randomHex(6)
        let (server, client, bridge, _, dir) = try await BenchServer.startWithAgent(tag: tag)
        let bench = PodStartupBenchmark(client: client, namespace: "orca-bench-\(tag)")
        var orca: [Sample] = []
        var failure: (any Error)?
        do {
            _ = try await bench.waitNodeReady()
            try await APIBenchmark(client: client).createNamespace(bench.namespace)
            BenchLog.info("orca: starting \(pods) pods")
            _ = try await bench.run(count: 1, burst: pods - 2)
            let serverPID = server.pid
            orca = try await sample(label: "orca") {
                (ProcessUsage.of(pid: serverPID) ?? .zero, ProcessUsage.of(pids: ProcessUsage.pids(commandLineContaining: dir)))
            }
            do { try await bench.deleteAllPods() } catch { failure = failure ?? error }
            await server.waitForContainersRemoved()
        } catch {
            failure = error
        }
        await server.finish(client: client, bridge: bridge, failed: failure != nil)
        if let failure { throw failure }

        var podman: [Sample] = []
        var notes: [String] = []
        if skipPodman {
            notes.append("podman comparison skipped (--skip-podman)")
        } else if let podmanPath = PodmanStartupBenchmark.find() {
            let podmanDir = NSTemporaryDirectory() + "orca-bench-podman-\(tag)"
            let bench = PodmanStartupBenchmark(podman: podmanPath, dir: podmanDir)
            let preexisting = PodmanStartupBenchmark.existingHostPaths()
            do {
                try await bench.setup()
                BenchLog.info("podman: starting \(pods) pods")
                _ = try await bench.run(count: 1, burst: pods - 2)
                podman = try await sample(label: "podman") {
                    (.zero, ProcessUsage.of(pids: ProcessUsage.pids(commandLineContaining: podmanDir)))
                }
            } catch {
                notes.append("podman comparison failed: \(error)")
            }
            await bench.cleanup(preexisting: preexisting)
        } else {
            notes.append("podman comparison skipped: podman is not installed (apt-get install podman)")
        }
        print(report(orca: orca, podman: podman, notes: notes))
        fflush(nil)  // all streams: `stdout` is a C global Swift 6 will not touch
    }

    /// Samples `measure` at the start and then every interval for `minutes`.
    func sample(label: String, _ measure: @Sendable () -> (ProcessUsage, ProcessUsage)) async throws -> [Sample] {
        let clock = ContinuousClock()
        let start = clock.now
        var samples: [Sample] = []
        let total = Double(minutes * 60)
        while true {
            let elapsed = Double(start.duration(to: clock.now).components.seconds)
            let (server, all) = measure()
            samples.append(Sample(elapsed: elapsed, server: server, all: all))
            BenchLog.info("\(label): \(Int(elapsed)) s, \(all.processes) processes, RSS \(BenchReport.format(bytes: all.residentBytes))")
            if elapsed >= total { break }
            try await Task.sleep(for: .seconds(min(Double(intervalSeconds), total - elapsed)))
        }
        return samples
    }

    func report(orca: [Sample], podman: [Sample], notes: [String]) -> String {
        func mib(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }
        func cpuPerPod(_ a: Sample, _ b: Sample) -> Double {
            let wall = b.elapsed - a.elapsed
            return wall > 0 ? (b.all.cpuSeconds - a.all.cpuSeconds) / wall / Double(pods) * 100 : 0
        }
        var out = "\n== orca bench steady-state (\(pods) idle busybox pods, \(minutes) min each, sample every \(intervalSeconds) s) ==\n"
        out += "minute  orca server RSS MiB  server anon MiB  orca+conmons RSS MiB  orca CPU %/pod  podman conmons RSS MiB  podman CPU %/pod\n"
        for i in orca.indices {
            let o = orca[i]
            let p = i < podman.count ? podman[i] : nil
            let oc = i > 0 ? String(format: "%.3f", cpuPerPod(orca[i - 1], o)) : "-"
            let pc = (i > 0 && p != nil) ? String(format: "%.3f", cpuPerPod(podman[i - 1], p!)) : "-"
            out += String(format: "%6.1f", o.elapsed / 60) + "  " + mib(o.server.residentBytes).leftPadded(19) + "  "
                + mib(o.server.anonymousBytes).leftPadded(15) + "  " + mib(o.all.residentBytes).leftPadded(20) + "  " + oc.leftPadded(14)
                + "  " + (p.map { mib($0.all.residentBytes) } ?? "-").leftPadded(22) + "  " + pc.leftPadded(16) + "\n"
        }
        var summary = "steady-state: \(pods) pods"
        if let first = orca.first, let last = orca.last {
            let growth = Double(last.server.anonymousBytes - first.server.anonymousBytes) / 1_048_576
            let cpu = cpuPerPod(first, last)
            out += String(format: "orca: server anonymous memory %+.1f MiB over %.0f min; CPU %.3f %% of a core per pod (server, its reaped children and conmons)\n",
                          growth, (last.elapsed - first.elapsed) / 60, cpu)
            summary += String(format: "; orca server RSS %@ → %@ MiB, CPU %.3f %%/pod", mib(first.server.residentBytes), mib(last.server.residentBytes), cpu)
            if let pFirst = podman.first, let pLast = podman.last {
                let pCPU = cpuPerPod(pFirst, pLast)
                out += String(format: "podman: conmons RSS %@ MiB; CPU %.3f %% of a core per pod\n", mib(pLast.all.residentBytes), pCPU)
                summary += String(format: "; podman CPU %.3f %%/pod, RSS %@ MiB", pCPU, mib(pLast.all.residentBytes))
            }
        }
        for note in notes { out += "note: \(note)\n" }
        out += "note: CPU per pod = Δ(user+system seconds of the processes whose command line names the system's private dir, with reaped children) ÷ Δwall ÷ pods\n"
        out += "summary: \(summary)\n"
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
