import Foundation
import Synchronization
import OrcaCore
import OrcaRuntime

/// An `exec` probe or hook: a command run inside the container (`runc exec`, with the
/// container's environment, user and working directory), its combined output collected up to
/// 10 KiB. A timeout kills the process.
struct ExecAction: Sendable {
    var command: [String]

    /// Output kept, as the kubelet's probes keep it.
    static let outputLimit = 10 * 1024

    struct Outcome: Sendable {
        /// The exit code; nil when the command could not run or timed out.
        var exitCode: Int32?
        var output: String
        var timedOut = false
        var error: String?
    }

    func run(in containerID: String, runtime: any ContainerRuntime, timeout: TimeInterval?) async -> Outcome {
        guard let streaming = runtime as? any ContainerStreaming else {
            return Outcome(exitCode: nil, output: "", error: "this node's runtime cannot exec in containers")
        }
        let buffer = OutputBuffer()
        let request = ExecRequest(command: command)
        let io = ProcessStreams(stdout: { buffer.append($0) }, stderr: { buffer.append($0) })
        let command = self.command
        let result: Result<Int32, any Error>? = await withTaskGroup(of: Result<Int32, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await streaming.exec(containerID, request, io: io)) } catch { return .failure(error) }
            }
            if let timeout {
                group.addTask {
                    try? await Task.sleep(for: .seconds(clamping: timeout))
                    return nil
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch result {
        case .none:
            return Outcome(exitCode: nil, output: buffer.text, timedOut: true,
                           error: "command \"\(command.joined(separator: " "))\" timed out")
        case .success(let code):
            return Outcome(exitCode: code, output: buffer.text)
        case .failure(let error):
            return Outcome(exitCode: nil, output: buffer.text, error: "\(error)")
        }
    }

    /// Collects output from the exec's callbacks.
    final class OutputBuffer: Sendable {
        private let bytes = Mutex<[UInt8]>([])

        func append(_ chunk: [UInt8]) {
            bytes.withLock { bytes in
                let room = ExecAction.outputLimit - bytes.count
                if room > 0 { bytes += chunk.prefix(room) }
            }
        }

        var text: String { bytes.withLock { String(decoding: $0, as: UTF8.self) } }
    }
}
