import ArgumentParser
import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// `orca bench controllers`: what the workload controllers add to pod startup, on a private
/// `orca server` with its agent. N bare pods created directly are the baseline in the same run;
/// then a Deployment of N replicas, a rolling update of it, and a Job of M completions.
struct BenchControllersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controllers",
        abstract: "Measure Deployment create and rolling update, and Job completion, against bare pods.",
        discussion: """
        Starts `orca server` (this executable, with the agent) on a temporary data dir, a free loopback \
        port, a private bridge and pod subnet, like `pod-startup`. Creates N bare busybox pods and waits \
        until all are Ready, deletes them; creates a Deployment of N replicas of the same pod and waits \
        until all are Ready, rolls it (a new template annotation, as `kubectl rollout restart` does) \
        until `kubectl rollout status` would report it complete, deletes it; runs a Job of M completions \
        of `sh -c "exit 0"` until Complete. Per-pod latencies come from a pod watch (ADDED → Ready). \
        Everything is removed at the end. Build with `-c release`; needs root.
        """
    )

    @Option(help: "Bare pods, and the Deployment's replicas.") var replicas = 100
    @Option(help: "The Job's completions.") var jobCompletions = 100
    @Option(help: "The Job's parallelism.") var jobParallelism = 10

    func validate() throws {
        guard replicas > 0, jobCompletions > 0, jobParallelism > 0 else {
            throw ValidationError("--replicas, --job-completions and --job-parallelism must be positive")
        }
        guard getuid() == 0 else { throw ValidationError("controllers runs real pods and needs root") }
    }

    /// What one run measured.
    struct Results: Sendable {
        var bare: LatencySamples
        var deployment: ControllersBenchmark.DeploymentResults
        var rollout: LatencySamples
        var job: Duration
        /// The Job as last seen (Complete).
        var jobObject: JSONValue
    }

    func run() async throws {
        let tag = BenchServer.randomHex(6)
        let (server, client, bridge, subnet, _) = try await BenchServer.startWithAgent(tag: tag)
        var bench = ControllersBenchmark(client: client, namespace: "orca-bench-\(tag)")
        bench.phaseTimeout = .seconds(max(600, 3 * max(replicas, jobCompletions)))
        var results: Results?
        var failure: (any Error)?
        do {
            let node = try await PodStartupBenchmark(client: client, namespace: bench.namespace).waitNodeReady()
            BenchLog.info("node \(node) Ready; bridge \(bridge), pod subnet \(subnet)")
            try await APIBenchmark(client: client).createNamespace(bench.namespace)
            do { results = try await measure(bench, server: server) } catch { failure = error }
            BenchLog.info("removing what is left")
            do { try await bench.removeWorkloads() } catch { failure = failure ?? error }
            await server.waitForContainersRemoved(timeout: .seconds(180))
        } catch {
            failure = error
        }
        await server.finish(client: client, bridge: bridge, failed: failure != nil)
        if let failure { throw failure }
        guard let results else { return }
        report(results)
    }

    /// The four phases, each starting with no pods and no containers left by the one before.
    private func measure(_ bench: ControllersBenchmark, server: BenchServer) async throws -> Results {
        BenchLog.info("bare pods: creating \(replicas)")
        let bare = try await bench.barePods(count: replicas)
        BenchLog.info("bare pods: all Ready after \(Self.seconds(bare.elapsed)); deleting them")
        try await PodStartupBenchmark(client: bench.client, namespace: bench.namespace).deleteAllPods()
        await server.waitForContainersRemoved(timeout: .seconds(180))

        BenchLog.info("deployment: creating \(replicas) replicas")
        let deployment = try await bench.createDeployment(replicas: replicas)
        BenchLog.info("deployment: all Ready after \(Self.seconds(deployment.ready.elapsed)); rolling update")
        let rollout = try await bench.rollingUpdate(replicas: replicas)
        BenchLog.info("deployment: rollout complete after \(Self.seconds(rollout.elapsed)); deleting it")
        try await bench.removeWorkloads()
        await server.waitForContainersRemoved(timeout: .seconds(180))

        BenchLog.info("job: \(jobCompletions) completions, parallelism \(jobParallelism)")
        let (job, jobObject) = try await bench.runJob(completions: jobCompletions, parallelism: jobParallelism)
        BenchLog.info("job: Complete after \(Self.seconds(job))")
        return Results(bare: bare, deployment: deployment, rollout: rollout, job: job, jobObject: jobObject)
    }

    private func report(_ r: Results) {
        var report = BenchReport(title: "orca bench controllers (busybox:1.35; \(replicas) bare pods, then a Deployment of \(replicas) and its rolling update; a Job of \(jobCompletions) completions, parallelism \(jobParallelism))")
        report.add(r.bare)
        report.add(r.deployment.ready)
        report.add(r.deployment.added)
        report.add(r.rollout)

        let jobRate = LatencySamples.milliseconds(r.job) > 0 ? Double(jobCompletions) / (LatencySamples.milliseconds(r.job) / 1000) : nil
        let jobRateText = jobRate.map { BenchReport.format(rate: $0) + " pods/s" } ?? "n/a"
        let overheadP50 = BenchPodStartupCommand.ratio(r.deployment.ready.p50, r.bare.p50)
        let overheadTotal = BenchPodStartupCommand.ratio(r.deployment.ready.elapsed.map(LatencySamples.milliseconds),
                                                         r.bare.elapsed.map(LatencySamples.milliseconds))
        report.fact("bare pods: first create → all \(replicas) Ready", Self.seconds(r.bare.elapsed))
        report.fact("deployment: create → \(replicas) ready replicas", Self.seconds(r.deployment.ready.elapsed))
        report.fact("rolling update: PATCH → rollout complete", Self.seconds(r.rollout.elapsed))
        report.fact("job: create → Complete", "\(Self.seconds(r.job)) (\(jobRateText))")
        report.fact("controller overhead, p50 deployment / bare", overheadP50)
        report.fact("controller overhead, total deployment / bare", overheadTotal)
        let failed = r.jobObject[path: ["status", "failed"]]?.intValue ?? 0
        if failed > 0 { report.fact("job: failed pods (retried)", String(failed)) }

        report.notes.append("per pod: a pod watch opened before the first write timestamps each pod's ADDED event and its first event with Ready=True (client-side)")
        report.notes.append("totals: from sending the first write to the watch event showing the end state (all bare pods Ready; Deployment readyReplicas = updatedReplicas = \(replicas) at its generation; rollout: observedGeneration ≥ generation, updatedReplicas = replicas = availableReplicas = \(replicas); Job Complete=True)")
        report.notes.append("bare pods: the Deployment's pod spec, created \(ControllersBenchmark.createConcurrency) at once; the rolling update patches the template annotation kubectl.kubernetes.io/restartedAt (as `kubectl rollout restart`), default strategy 25% surge / 25% unavailable")
        report.notes.append("every pod of a phase is deleted, and its containers removed, before the next phase starts")
        report.print(summary: "controllers: \(replicas) bare pods \(Self.seconds(r.bare.elapsed)) (p50 \(BenchPodStartupCommand.ms(r.bare.p50))), "
            + "deployment \(Self.seconds(r.deployment.ready.elapsed)) (p50 \(BenchPodStartupCommand.ms(r.deployment.ready.p50))); "
            + "controller overhead p50 \(overheadP50), total \(overheadTotal); rolling update \(Self.seconds(r.rollout.elapsed)); "
            + "job of \(jobCompletions) \(Self.seconds(r.job)) (\(jobRateText))")
    }

    /// A duration in seconds with two decimals, `n/a` when unknown.
    static func seconds(_ d: Duration?) -> String {
        d.map { String(format: "%.2f s", LatencySamples.milliseconds($0) / 1000) } ?? "n/a"
    }
}
