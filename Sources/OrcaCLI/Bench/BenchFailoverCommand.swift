import ArgumentParser
import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// `orca bench failover`: a node dies — its agent and containers killed with SIGKILL — and the
/// time until every replacement of its pods runs on the other nodes, step by step: node
/// Unknown, unreachable taint, eviction after the pods' `tolerationSeconds`, replacement
/// created, replacement Running.
struct BenchFailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Measure node killed → every replacement pod Running on the other nodes.",
        discussion: """
        Starts `orca server --disable-agent --node-monitor-grace-period <s>` (this executable) and N hosts \
        (network namespaces on a private bridge orcbb<hex>, 10.254.<n>.0/24) whose agents join it, like \
        `bench join`; runs a Deployment of R busybox `sleep 3600` replicas tolerating the unreachable and \
        not-ready NoExecute taints for T seconds; then kills the host running the most replicas (SIGKILL \
        to its agent, conmon, runc and containers) and, from node and pod watches opened before the kill, \
        reports kill → node Unknown → unreachable taint → evictions → replacements created → replacements \
        Running on the other nodes. Everything is removed at the end, also after an error or Ctrl-C. \
        Build with -c release; needs root.
        """
    )

    @Option(help: "Nodes (hosts with an agent); one is killed.") var nodes = 3
    @Option(help: "Replicas of the Deployment, spread over the nodes by the scheduler.") var replicas = 9
    @Option(help: "The server's --node-monitor-grace-period: seconds without a heartbeat before a node is Unknown (agents renew their lease every 10 s).")
    var nodeMonitorGracePeriod = 40
    @Option(help: "The pods' tolerationSeconds of the unreachable and not-ready NoExecute taints (Kubernetes adds 300 s when a pod has none).")
    var tolerationSeconds = 5

    func validate() throws {
        guard (2...BenchBridge.maxHosts).contains(nodes) else { throw ValidationError("--nodes must be 2 to \(BenchBridge.maxHosts)") }
        guard replicas >= 1 else { throw ValidationError("--replicas must be positive") }
        guard nodeMonitorGracePeriod > 10 else {
            throw ValidationError("--node-monitor-grace-period must be more than the agents' 10 s lease renewal, or live nodes flap to Unknown")
        }
        guard tolerationSeconds >= 0 else { throw ValidationError("--toleration-seconds must not be negative") }
        guard getuid() == 0 else { throw ValidationError("failover makes network namespaces and runs pods: it needs root") }
    }

    func run() async throws {
        let cluster = BenchCluster(nodeMonitorGracePeriod: nodeMonitorGracePeriod)
        let nodes = self.nodes, replicas = self.replicas, toleration = self.tolerationSeconds
        let timeout = Duration.seconds(nodeMonitorGracePeriod + tolerationSeconds + 300)
        let outcome = await BenchInterrupt.run {
            try await cluster.start()
            var hosts: [BenchHost] = []
            for _ in 0..<nodes {
                let host = try await cluster.addHost()
                try cluster.startAgent(host)
                hosts.append(host)
            }
            try await cluster.waitForReadyNodes(hosts)
            BenchLog.info("\(nodes) nodes Ready; deploying \(replicas) replicas")
            let bench = FailoverBenchmark(cluster: cluster, replicas: replicas, tolerationSeconds: toleration)
            let pods = try await bench.deploy()
            return try await bench.killAndMeasure(pods: pods, timeout: timeout)
        }
        if case .failure(let error) = outcome { BenchLog.info("failed: \(error)") }
        await cluster.shutdown(failed: (try? outcome.get()) == nil)
        report(try outcome.get())
    }

    private func report(_ r: FailoverBenchmark.Results) {
        let s = BenchControllersCommand.seconds
        var report = BenchReport(title: "orca bench failover (\(nodes) nodes, a Deployment of \(replicas); node \(r.victim) with \(r.doomed.count) of them killed; --node-monitor-grace-period \(nodeMonitorGracePeriod) s, tolerationSeconds \(tolerationSeconds) s)")
        for samples in [r.unready, r.evicted, r.replacementAdded, r.replacementRunning, r.addedToRunning] { report.add(samples) }

        let total = r.replacementRunning.max.map { Duration.milliseconds(Int64($0.rounded())) }
        let lastEviction = r.evicted.max.map { Duration.milliseconds(Int64($0.rounded())) }
        report.fact("node monitor grace period (--node-monitor-grace-period)", "\(nodeMonitorGracePeriod) s")
        report.fact("pods' tolerationSeconds (unreachable, not-ready NoExecute)", "\(tolerationSeconds) s")
        report.fact("pods on the killed node", "\(r.doomed.count) of \(replicas)")
        report.fact("kill → no process of the host left", s(r.killDuration))
        report.fact("victim's last lease renewal before the kill", r.heartbeatAge.map { s($0) + " earlier" } ?? "n/a")
        report.fact("kill → node Ready=Unknown", s(r.unknown))
        if let unknown = r.unknown, let age = r.heartbeatAge { report.fact("last heartbeat → node Unknown", s(unknown + age)) }
        report.fact("kill → unreachable NoExecute taint", s(r.tainted))
        if let tainted = r.tainted, let lastEviction { report.fact("taint → last eviction", s(lastEviction - tainted)) }
        if let lastEviction, let total { report.fact("last eviction → last replacement Running", s(total - lastEviction)) }
        report.fact("kill → every replacement Running (failover)", s(total))
        report.fact("replacements per node", r.replacementNodes.keys.sorted().map { "\($0): \(r.replacementNodes[$0]!)" }.joined(separator: ", "))
        report.notes.append("kill: SIGKILL to the host's agent, then to every process in its network namespaces or cgroups (conmon, runc, containers) until none is left; the clock starts at the first SIGKILL")
        report.notes.append("a node goes Unknown \(nodeMonitorGracePeriod) s after its last heartbeat (lease renewed every 10 s), so kill → Unknown depends on where in that cycle the kill fell; the controller then taints it, evicts its pods after their tolerationSeconds, and the ReplicaSet replaces them")
        report.notes.append("instants are the arrival of the first node or pod watch event showing each step (client-side); Running: phase Running with every container running")
        report.print(summary: "failover: kill → all \(r.doomed.count) replacements Running \(s(total)) (grace \(nodeMonitorGracePeriod) s, tolerationSeconds \(tolerationSeconds) s); "
            + "Unknown after \(s(r.unknown)), evicted after \(s(lastEviction)), replacement created → Running p50 \(BenchPodStartupCommand.ms(r.addedToRunning.p50))")
    }
}
