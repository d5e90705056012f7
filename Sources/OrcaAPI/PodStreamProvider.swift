import Foundation
import OrcaCore

/// Streams the agent serves through the API server (`pods/log`, `exec`, `attach`, `portforward`;
/// the types are in `Streams/`, and the stream methods default to "not supported").
public protocol PodStreamProvider: Sendable {
    /// The log of a container; `follow` keeps the stream open.
    func logs(pod: JSONValue, query: [String: String]) async throws -> AsyncThrowingStream<[UInt8], any Error>
    /// Runs a command in a container of the pod; returns its exit code.
    func exec(pod: JSONValue, options: PodExecOptions, streams: ProcessStreams) async throws -> Int32
    /// Streams a running container's output (and stdin when it has one) until it exits.
    func attach(pod: JSONValue, options: PodExecOptions, streams: ProcessStreams) async throws
    /// Opens a TCP connection to `port` in the pod's network namespace.
    func portForward(pod: JSONValue, port: Int) async throws -> PodPortConnection
}

/// What `pods/exec` and `pods/attach` ask for: the query kubectl sends
/// (`command` repeated, `container`, `stdin`, `stdout`, `stderr`, `tty`).
public struct PodExecOptions: Sendable, Equatable {
    /// The container; nil picks the pod's only container.
    public var container: String?
    /// The command and its arguments (exec only).
    public var command: [String]
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    public var tty: Bool

    public init(container: String? = nil, command: [String] = [], stdin: Bool = false, stdout: Bool = true,
                stderr: Bool = true, tty: Bool = false) {
        self.container = container
        self.command = command
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.tty = tty
    }

    /// Reads the raw query string (repeated keys kept, `+` as space, percent-decoded).
    public init(rawQuery: String?) {
        let q = Self.parse(rawQuery)
        func flag(_ k: String) -> Bool { q[k]?.first.map { $0 == "true" || $0 == "1" } ?? false }
        container = q["container"]?.first.flatMap { $0.isEmpty ? nil : $0 }
        command = q["command"] ?? []
        stdin = flag("stdin")
        stdout = flag("stdout")
        stderr = flag("stderr")
        tty = flag("tty")
        // With a terminal, stderr is merged into stdout (as the kubelet does).
        if tty { stderr = false }
    }

    /// Every value of every key of a query string.
    public static func parse(_ raw: String?) -> [String: [String]] {
        var q: [String: [String]] = [:]
        for pair in (raw ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            q[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return q
    }
}

/// A byte stream to a port of a pod (`kubectl port-forward`).
public struct PodPortConnection: Sendable {
    /// What the pod sends; finishes when it closes its side.
    public var inbound: AsyncThrowingStream<[UInt8], any Error>
    /// Sends bytes to the pod.
    public var write: @Sendable ([UInt8]) async throws -> Void
    /// Tells the pod no more bytes come (TCP half-close).
    public var closeWrite: @Sendable () async -> Void
    /// Closes the connection.
    public var close: @Sendable () async -> Void

    public init(inbound: AsyncThrowingStream<[UInt8], any Error>, write: @escaping @Sendable ([UInt8]) async throws -> Void,
                closeWrite: @escaping @Sendable () async -> Void, close: @escaping @Sendable () async -> Void) {
        self.inbound = inbound
        self.write = write
        self.closeWrite = closeWrite
        self.close = close
    }
}

extension PodStreamProvider {
    public func exec(pod: JSONValue, options: PodExecOptions, streams: ProcessStreams) async throws -> Int32 {
        throw APIError(code: 501, reason: "NotImplemented", message: "this node does not serve exec")
    }

    public func attach(pod: JSONValue, options: PodExecOptions, streams: ProcessStreams) async throws {
        throw APIError(code: 501, reason: "NotImplemented", message: "this node does not serve attach")
    }

    public func portForward(pod: JSONValue, port: Int) async throws -> PodPortConnection {
        throw APIError(code: 501, reason: "NotImplemented", message: "this node does not serve port-forward")
    }
}
