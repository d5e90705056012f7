import ArgumentParser
import Foundation
import OrcaCore
import OrcaRuntime
#if canImport(Glibc)
import Glibc
#endif

/// `orca bench pod-startup`: create→Running latency of real pods on a private `orca server`
/// with its embedded agent, one at a time and in a burst, side by side with `podman kube play`.
struct BenchPodStartupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pod-startup",
        abstract: "Measure pod create→Running latency (and podman kube play's, when installed).",
        discussion: """
        Starts `orca server` (this executable, with the agent) on a temporary data dir, a free loopback \
        port, a private bridge (orcb<hex>) and pod subnet 10.251.<n>.0/24; deletes its pods, stops it, \
        removes the bridge and the dir at the end. Needs root, runc, conmon and the CNI plugins.
        """
    )

    @Option(help: "Pods started one at a time.") var count = 20
    @Option(help: "Pods created at once in the burst.") var burst = 50
    @Flag(help: "Do not run the podman comparison.") var skipPodman = false

    func validate() throws {
        guard count > 0, burst > 0 else { throw ValidationError("--count and --burst must be positive") }
        guard getuid() == 0 else { throw ValidationError("pod-startup runs real pods and needs root") }
    }

    func run() async throws {
        let tag = BenchServer.randomHex(6)
        var report = BenchReport(title: "orca bench pod-startup (busybox:1.35 `sleep 3600`, \(count) one at a time, burst of \(burst))")

        let (server, client, bridge, subnet, _) = try await BenchServer.startWithAgent(tag: tag)
        let bench = PodStartupBenchmark(client: client, namespace: "orca-bench-\(tag)")
        var orca: PodStartupBenchmark.Results?
        var failure: (any Error)?
        do {
            let node = try await bench.waitNodeReady()
            BenchLog.info("node \(node) Ready; bridge \(bridge), pod subnet \(subnet)")
            try await APIBenchmark(client: client).createNamespace(bench.namespace)
            do { orca = try await bench.run(count: count, burst: burst) } catch { failure = error }
            do { try await bench.deleteAllPods() } catch { failure = failure ?? error }
            await server.waitForContainersRemoved()
        } catch {
            failure = error
        }
        await server.finish(client: client, bridge: bridge, failed: failure != nil)
        if let failure { throw failure }
        guard var orca else { return }
        for keyPath in [\PodStartupBenchmark.Results.cold, \.sequential, \.burst] {
            orca[keyPath: keyPath].name = "orca: " + orca[keyPath: keyPath].name
            report.add(orca[keyPath: keyPath])
        }

        var summary = "pod-startup: orca one at a time p50 \(Self.ms(orca.sequential.p50)) p99 \(Self.ms(orca.sequential.p99)), burst of \(burst) p50 \(Self.ms(orca.burst.p50)) p99 \(Self.ms(orca.burst.p99))"
        if skipPodman {
            report.notes.append("podman comparison skipped (--skip-podman)")
        } else if let podmanPath = PodmanStartupBenchmark.find() {
            let podman = PodmanStartupBenchmark(podman: podmanPath, dir: NSTemporaryDirectory() + "orca-bench-podman-\(tag)")
            var results: PodStartupBenchmark.Results?
            let preexisting = PodmanStartupBenchmark.existingHostPaths()
            do {
                BenchLog.info("podman: importing busybox")
                try await podman.setup()
                results = try await podman.run(count: count, burst: burst)
            } catch {
                BenchLog.info("podman comparison failed: \(error)")
                report.notes.append("podman comparison failed: \(error)")
            }
            await podman.cleanup(preexisting: preexisting)
            if var p = results {
                for keyPath in [\PodStartupBenchmark.Results.cold, \.sequential, \.burst] {
                    p[keyPath: keyPath].name = "podman: " + p[keyPath: keyPath].name
                    report.add(p[keyPath: keyPath])
                }
                let seq = Self.ratio(orca.sequential.p50, p.sequential.p50), burstRatio = Self.ratio(orca.burst.p50, p.burst.p50)
                report.fact("ratio orca/podman, p50 one at a time", seq)
                report.fact("ratio orca/podman, p99 one at a time", Self.ratio(orca.sequential.p99, p.sequential.p99))
                report.fact("ratio orca/podman, p50 burst", burstRatio)
                report.fact("ratio orca/podman, p99 burst", Self.ratio(orca.burst.p99, p.burst.p99))
                report.notes.append("podman: `podman kube play --network none` of the same manifest (runc, cgroupfs), until `podman wait --condition=running` returns; orca pods also get a CNI bridge network, podman's none")
                summary += "; podman one at a time p50 \(Self.ms(p.sequential.p50)), burst p50 \(Self.ms(p.burst.p50)); orca/podman p50 \(seq) one at a time, \(burstRatio) burst"
            }
        } else {
            report.notes.append("podman comparison skipped: podman is not installed (install it with `apt-get install podman`)")
        }
        report.notes.append("orca: time from sending the pod create to the watch event showing it Running with all containers started")
        report.print(summary: summary)
    }

    static func ms(_ value: Double?) -> String { value.map { BenchReport.format(ms: $0) + " ms" } ?? "n/a" }

    static func ratio(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, b > 0 else { return "n/a" }
        return String(format: "%.2f×", a / b)
    }

    /// A 10.251.<n>.0/24 that no route or address on this machine uses.
    static func freeSubnet() async throws -> String {
        let runner = SubprocessCommandRunner()
        let routes = try await runner.run("/sbin/ip", ["-4", "route", "show", "table", "all"], environment: nil)
        let addresses = try await runner.run("/sbin/ip", ["-4", "-o", "addr"], environment: nil)
        let used = String(decoding: routes.standardOutput + addresses.standardOutput, as: UTF8.self)
        for n in (1...254).shuffled() where !used.contains("10.251.\(n).") { return "10.251.\(n).0/24" }
        throw OrcaError(.unavailable, "no free 10.251.<n>.0/24 subnet")
    }

    /// Removes what a failed run may have left: runc containers (reported), veths on the bridge
    /// and the bridge itself.
    static func removeLeftovers(runcRoot: String, bridge: String) async {
        let runner = SubprocessCommandRunner()
        if FileManager.default.fileExists(atPath: runcRoot),
           let list = try? await runner.run("/usr/sbin/runc", ["--root", runcRoot, "list", "-q"], environment: nil) {
            for id in String(decoding: list.standardOutput, as: UTF8.self).split(whereSeparator: \.isNewline) {
                BenchLog.info("warning: removing leftover runc container \(id)")
                _ = try? await runner.run("/usr/sbin/runc", ["--root", runcRoot, "delete", "--force", String(id)], environment: nil)
            }
        }
        if let links = try? await runner.run("/sbin/ip", ["-o", "link", "show", "master", bridge], environment: nil) {
            for line in String(decoding: links.standardOutput, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let fields = line.split(separator: " ")
                guard fields.count > 1 else { continue }
                let name = String(fields[1].dropLast().split(separator: "@").first ?? "")
                BenchLog.info("warning: removing leftover link \(name)")
                _ = try? await runner.run("/sbin/ip", ["link", "del", name], environment: nil)
            }
        }
        if let shown = try? await runner.run("/sbin/ip", ["link", "show", bridge], environment: nil), shown.exitCode == 0 {
            _ = try? await runner.run("/sbin/ip", ["link", "del", bridge], environment: nil)
        }
    }
}
