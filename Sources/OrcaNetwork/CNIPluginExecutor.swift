/// What a finished CNI plugin run printed and how it exited.
public struct CNIPluginOutput: Sendable, Hashable {
    /// The exit code (128 + signal when the plugin was killed).
    public var exitCode: Int32
    /// Standard output: a result or an error as JSON.
    public var standardOutput: [UInt8]
    /// Standard error: free-form diagnostics.
    public var standardError: [UInt8]
    /// Creates an output.
    public init(exitCode: Int32, standardOutput: [UInt8], standardError: [UInt8] = []) {
        self.exitCode = exitCode
        self.standardOutput = standardOutput
        self.standardError = standardError
    }
}

/// The boundary where a CNI plugin binary is run: the real one spawns it, a fake answers in tests.
public protocol CNIPluginExecutor: Sendable {
    /// Runs the plugin at `pluginPath` with exactly `environment` and the network config on stdin.
    /// A nonzero exit is returned, not thrown; only failing to run at all throws.
    func execute(pluginPath: String, environment: [String: String], standardInput: [UInt8]) async throws -> CNIPluginOutput
}

/// Runs CNI plugins as child processes through swift-subprocess.
public struct SubprocessCNIExecutor: CNIPluginExecutor {
    /// Creates the executor.
    public init() {}

    /// Spawns the plugin and collects its output.
    public func execute(pluginPath: String, environment: [String: String], standardInput: [UInt8]) async throws -> CNIPluginOutput {
        let out = try await HostCommand(executable: pluginPath, environment: environment, standardInput: standardInput).run()
        return CNIPluginOutput(exitCode: out.exitCode, standardOutput: out.standardOutput, standardError: out.standardError)
    }
}
