#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import OrcaCore
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// One run of a host binary (unshare, nsenter, a CNI plugin): an absolute path, arguments,
/// an environment and standard input; output is collected, never parsed by a shell.
struct HostCommand: Sendable {
    /// What a finished command produced.
    struct Output: Sendable {
        var exitCode: Int32
        var standardOutput: [UInt8]
        var standardError: [UInt8]

        var succeeded: Bool { exitCode == 0 }
        var stdoutText: String { String(decoding: standardOutput, as: UTF8.self) }
        var stderrText: String { String(decoding: standardError, as: UTF8.self) }
    }

    /// Absolute path of the executable.
    var executable: String
    var arguments: [String] = []
    /// The full environment of the child; `nil` inherits ours.
    var environment: [String: String]? = nil
    var standardInput: [UInt8] = []

    /// The most output collected from either stream.
    static let outputLimit = 4 << 20

    /// Runs the command to completion; a nonzero exit is a normal result.
    func run() async throws -> Output {
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
        // Standard input comes from an unlinked temporary file, not a pipe: a plugin that exits without
        // reading it (CNI skel ignores stdin for VERSION) cannot SIGPIPE us, and nothing can block.
        let inputFD = try SystemCall.readableTemporaryFile(standardInput)
        defer { _ = SystemCall.retryingEINTR { close(inputFD) } }
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: Arguments(arguments),
                environment: env,
                input: .fileDescriptor(FileDescriptor(rawValue: inputFD), closeAfterSpawningProcess: false),
                output: .bytes(limit: Self.outputLimit),
                error: .bytes(limit: Self.outputLimit)
            )
            let code: Int32
            switch result.terminationStatus {
            case .exited(let c): code = c
            case .signaled(let s): code = 128 + s
            }
            return Output(exitCode: code, standardOutput: result.standardOutput, standardError: result.standardError)
        } catch {
            throw OrcaError(.system, "cannot run \(executable)", cause: error)
        }
    }

    /// Runs the command and throws an `OrcaError` with its standard error when it exits nonzero.
    @discardableResult
    func checked() async throws -> Output {
        let out = try await run()
        guard out.succeeded else {
            let detail = out.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw OrcaError(.system, "\(([executable] + arguments).joined(separator: " ")) exited \(out.exitCode): \(detail)")
        }
        return out
    }
}
