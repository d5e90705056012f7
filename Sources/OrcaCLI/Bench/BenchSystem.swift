import Foundation
import OrcaCore
import OrcaRuntime

/// The system commands the multi-node benchmarks run as root (`ip`, `nsenter`, `runc`,
/// `sysctl`): absolute paths and argument lists, never a shell string.
enum BenchSystem {
    static let ip = "/sbin/ip"
    static let nsenter = "/usr/bin/nsenter"
    static let runc = "/usr/sbin/runc"
    static let sysctl = "/usr/sbin/sysctl"

    /// Runs a command; a nonzero exit is a result, not an error.
    @discardableResult
    static func run(_ path: String, _ arguments: [String]) async throws -> CommandResult {
        try await SubprocessCommandRunner().run(path, arguments, environment: nil)
    }

    /// Runs a command that must succeed; returns its standard output.
    @discardableResult
    static func must(_ path: String, _ arguments: [String]) async throws -> String {
        let r = try await run(path, arguments)
        guard r.exitCode == 0 else {
            throw OrcaError(.system, "\(([path] + arguments).joined(separator: " ")) exited \(r.exitCode): \(r.errorText)")
        }
        return String(decoding: r.standardOutput, as: UTF8.self)
    }

    /// A command's standard output, "" when it cannot run or fails.
    static func output(_ path: String, _ arguments: [String]) async -> String {
        (try? await must(path, arguments)) ?? ""
    }
}
