import Foundation
import OrcaCore
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// What a finished external command produced.
public struct CommandResult: Sendable {
    /// The exit code, or 128 + the signal number when a signal ended it (as a shell reports it).
    public var exitCode: Int32
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]

    public init(exitCode: Int32, standardOutput: [UInt8] = [], standardError: [UInt8] = []) {
        self.exitCode = exitCode
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// Standard error as trimmed text.
    public var errorText: String {
        String(decoding: standardError, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Runs an external binary to completion: an absolute path and arguments, never a shell string.
///
/// The swappable boundary under `Runc` and the image tools; `SubprocessCommandRunner` is the real one.
public protocol CommandRunner: Sendable {
    /// Runs `executable` with `arguments`; `environment` nil inherits ours. A nonzero exit is a result, not an error.
    func run(_ executable: String, _ arguments: [String], environment: [String: String]?) async throws -> CommandResult
}

extension CommandRunner {
    /// Runs the command and throws an `OrcaError` (`code`) carrying its standard error when it exits nonzero.
    @discardableResult
    func checked(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                 code: OrcaError.Code = .runtimeError) async throws -> CommandResult {
        let result = try await run(executable, arguments, environment: environment)
        guard result.exitCode == 0 else {
            let line = ([executable] + arguments).joined(separator: " ")
            throw OrcaError(code, "\(line) exited \(result.exitCode): \(result.errorText)")
        }
        return result
    }
}

/// Runs commands with swift-subprocess, collecting up to `outputLimit` bytes of each stream.
public struct SubprocessCommandRunner: CommandRunner {
    /// The most output collected from either stream.
    public var outputLimit: Int

    public init(outputLimit: Int = 16 << 20) { self.outputLimit = outputLimit }

    public func run(_ executable: String, _ arguments: [String], environment: [String: String]?) async throws -> CommandResult {
        let env: Environment
        if let environment {
            var keyed: [Environment.Key: String] = [:]
            for (k, v) in environment {
                if let key = Environment.Key(rawValue: k) { keyed[key] = v }
            }
            env = .custom(keyed)
        } else {
            env = .inherit
        }
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: Arguments(arguments),
                environment: env,
                output: .bytes(limit: outputLimit),
                error: .bytes(limit: outputLimit)
            )
            let code: Int32
            switch result.terminationStatus {
            case .exited(let c): code = c
            case .signaled(let s): code = 128 + s
            }
            return CommandResult(exitCode: code, standardOutput: result.standardOutput, standardError: result.standardError)
        } catch {
            throw OrcaError(.system, "cannot run \(executable)", cause: error)
        }
    }
}
