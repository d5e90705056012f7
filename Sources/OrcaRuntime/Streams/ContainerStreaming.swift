import Foundation

/// A terminal's size in character cells.
public struct ConsoleSize: Hashable, Sendable {
    public var width: UInt16
    public var height: UInt16
    public init(width: UInt16, height: UInt16) {
        self.width = width
        self.height = height
    }
}

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

/// The caller's ends of a streamed process: input to feed it, callbacks for its output.
public struct ContainerStreamIO: Sendable {
    /// Standard input; its end closes the process's stdin. Nil: no input.
    public var stdin: AsyncStream<[UInt8]>?
    /// Terminal resizes (only used with a terminal).
    public var resize: AsyncStream<ConsoleSize>?
    /// Receives standard output (and, with a terminal, everything the terminal shows).
    public var stdout: @Sendable ([UInt8]) async throws -> Void
    /// Receives standard error.
    public var stderr: @Sendable ([UInt8]) async throws -> Void

    public init(stdin: AsyncStream<[UInt8]>? = nil, resize: AsyncStream<ConsoleSize>? = nil,
                stdout: @escaping @Sendable ([UInt8]) async throws -> Void,
                stderr: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.stdin = stdin
        self.resize = resize
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// A runtime that can run extra processes in its containers and attach to their output:
/// the boundary under `kubectl exec`, `attach` and `cp`.
public protocol ContainerStreaming: Sendable {
    /// Runs `request` inside running container `id`, streaming its I/O through `io`; returns its
    /// exit code. Cancelling the task kills the process. Throws when the container does not run
    /// or the runtime cannot start the process.
    func exec(_ id: String, _ request: ExecRequest, io: ContainerStreamIO) async throws -> Int32

    /// Streams the output of container `id` (from now on) until it exits or the task is
    /// cancelled; `io.stdin` is forwarded when the container was created with an open stdin.
    func attach(_ id: String, io: ContainerStreamIO) async throws
}
