import ArgumentParser

/// The `orca` command: a Kubernetes-compatible pod orchestrator in one binary.
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
public struct OrcaCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "orca",
        abstract: "A Kubernetes-compatible pod orchestrator.",
        subcommands: [ServerCommand.self, AgentCommand.self, ImageCommand.self, BenchCommand.self]
    )
    public init() {}
}
