/// A terminal's size in character cells (the `{"Width": …, "Height": …}` of the resize channel).
public struct TerminalSize: Hashable, Sendable {
    public var width: UInt16
    public var height: UInt16
    public init(width: UInt16, height: UInt16) {
        self.width = width
        self.height = height
    }
}

/// The caller's ends of a streamed process (exec, attach): input to feed it, callbacks for
/// its output. The API server fills it from the client's channels; the runtime drives it.
public struct ProcessStreams: Sendable {
    /// Standard input; its end closes the process's stdin. Nil: no input.
    public var stdin: AsyncStream<[UInt8]>?
    /// Terminal resizes (only used with a terminal).
    public var resize: AsyncStream<TerminalSize>?
    /// Receives standard output (and, with a terminal, everything the terminal shows).
    public var stdout: @Sendable ([UInt8]) async throws -> Void
    /// Receives standard error.
    public var stderr: @Sendable ([UInt8]) async throws -> Void

    public init(stdin: AsyncStream<[UInt8]>? = nil, resize: AsyncStream<TerminalSize>? = nil,
                stdout: @escaping @Sendable ([UInt8]) async throws -> Void,
                stderr: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.stdin = stdin
        self.resize = resize
        self.stdout = stdout
        self.stderr = stderr
    }
}
