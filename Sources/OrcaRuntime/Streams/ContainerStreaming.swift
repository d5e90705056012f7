import Foundation
import OrcaCore

/// A command to run inside a running container (`kubectl exec`).
public struct ExecRequest: Hashable, Sendable {
    /// The command and its arguments.
    public var command: [String]
    /// Whether the caller sends standard input (else the process reads `/dev/null`).
    public var stdin: Bool
    /// Whether the process gets a terminal (its stderr then goes to stdout).
    public var tty: Bool

    public init(command: [String], stdin: Bool = false, tty: Bool = false) {
        self.command = command
        self.stdin = stdin
        self.tty = tty
    }
}

/// A runtime that can run extra processes in its containers and attach to their output:
/// the boundary under `kubectl exec`, `attach` and `cp`.
public protocol ContainerStreaming: Sendable {
    /// Runs `request` inside running container `id`, streaming its I/O through `io`; returns its
    /// exit code. Cancelling the task kills the process. Throws when the container does not run
    /// or the runtime cannot start the process.
    func exec(_ id: String, _ request: ExecRequest, io: ProcessStreams) async throws -> Int32

    /// Streams the output of container `id` (from now on) until it exits or the task is
    /// cancelled; `io.stdin` is forwarded when the container was created with an open stdin.
    func attach(_ id: String, io: ProcessStreams) async throws
}
