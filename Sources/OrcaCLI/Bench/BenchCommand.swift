import ArgumentParser

/// `orca bench`: measurements of a real Orca (API latency and memory, pod startup, image pull), printed as
/// small tables with one summary line each. Speed is measured here, never asserted in tests.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: API latency and memory, pod startup (optionally against podman), image pull (against skopeo), idle pods over time, workload controllers against bare pods, node join, node failover, agent idle cost.",
        subcommands: [BenchAPICommand.self, BenchPodStartupCommand.self, BenchImagePullCommand.self, BenchSteadyStateCommand.self,
                      BenchControllersCommand.self, BenchJoinCommand.self, BenchFailoverCommand.self, BenchAgentIdleCommand.self,
                      BenchServicesCommand.self]
    )
}
