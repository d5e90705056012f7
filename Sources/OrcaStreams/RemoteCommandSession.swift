import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import OrcaAPI

/// One `exec` or `attach` over WebSocket, in the channel protocol (`v4.channel.k8s.io`,
/// `v5.channel.k8s.io`): every binary message starts with its channel — 0 stdin, 1 stdout,
/// 2 stderr, 3 the final `Status` (JSON), 4 terminal resize (`{"Width":…,"Height":…}`); v5
/// adds 255 `[255, channel]`, the client closing a channel (stdin's end of file).
public struct RemoteCommandSession: Sendable {
    public static let v4 = "v4.channel.k8s.io"
    public static let v5 = "v5.channel.k8s.io"

    enum Channel: UInt8 { case stdin = 0, stdout = 1, stderr = 2, error = 3, resize = 4, close = 255 }

    let protocolName: String
    let provider: any PodStreamProvider
    let pod: JSONValue
    let options: PodExecOptions
    let attach: Bool
    let logger = Logger(label: "orca.streams")

    /// A session serving `options` for `pod` through `provider` in the channel protocol `protocolName`.
    public init(protocolName: String, provider: any PodStreamProvider, pod: JSONValue, options: PodExecOptions, attach: Bool) {
        self.protocolName = protocolName
        self.provider = provider
        self.pod = pod
        self.options = options
        self.attach = attach
    }

    /// Serves the connection until the command ends or the client goes away.
    public func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        // Back-pressure: reading the connection pauses while 1 MiB of stdin waits for the process.
        let stdinInput = ByteChannel(limit: 1 << 20)
        let stdin = stdinInput.stream
        let (resize, resizeInput) = AsyncStream<TerminalSize>.makeStream()
        let send: @Sendable (Channel, [UInt8]) async throws -> Void = { channel, bytes in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(bytes.count + 1)
            buffer.writeInteger(channel.rawValue)
            buffer.writeBytes(bytes)
            try await outbound.writeBinaryMessage(buffer)
        }
        // As the kubelet does: an empty message on the first writable channel says "ready".
        try await send(options.stdout ? .stdout : options.stderr ? .stderr : .error, [])
        let streams = ProcessStreams(
            stdin: options.stdin ? stdin : nil, resize: options.tty ? resize : nil,
            stdout: { try await send(.stdout, $0) }, stderr: { try await send(.stderr, $0) })
        let status: JSONValue = await withTaskGroup(of: JSONValue?.self) { group in
            group.addTask {
                // The client's messages; its going away ends the command.
                do {
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        guard case .binary(var data) = message, let raw = data.readInteger(as: UInt8.self),
                              let channel = Channel(rawValue: raw) else { continue }
                        let payload = data.readBytes(length: data.readableBytes) ?? []
                        switch channel {
                        case .stdin: await stdinInput.send(payload)
                        case .resize: if let size = Self.terminalSize(payload) { resizeInput.yield(size) }
                        case .close: if payload.first == Channel.stdin.rawValue { stdinInput.finish() }
                        case .stdout, .stderr, .error: break
                        }
                    }
                } catch {}
                stdinInput.finish()
                resizeInput.finish()
                return nil
            }
            group.addTask {
                do {
                    if attach {
                        try await provider.attach(pod: pod, options: options, streams: streams)
                        return Self.success
                    }
                    return Self.status(exitCode: try await provider.exec(pod: pod, options: options, streams: streams), command: options.command)
                } catch {
                    logger.debug("\(attach ? "attach" : "exec") failed: \(error)")
                    return Self.failure(error)
                }
            }
            // The session ends with the command (or attachment); a client gone first ends the command.
            var result: JSONValue?
            for await r in group {
                if let r { result = r }
                group.cancelAll()
                if result != nil { break }
            }
            stdinInput.close()
            resizeInput.finish()
            return result ?? Self.failure(APIError.internalError("the client went away"))
        }
        try? await send(.error, status.encoded())
    }

    static let success: JSONValue = ["metadata": [:], "status": "Success"]

    /// The final status: Success, or Failure with reason NonZeroExitCode and the code as an
    /// `ExitCode` cause (kubectl exits with it).
    static func status(exitCode: Int32, command: [String]) -> JSONValue {
        guard exitCode != 0 else { return success }
        return [
            "metadata": [:], "status": "Failure",
            "message": .string("command terminated with non-zero exit code: error executing command [\(command.joined(separator: " "))], exit code \(exitCode)"),
            "reason": "NonZeroExitCode",
            "details": ["causes": [["reason": "ExitCode", "message": .string(String(exitCode))]]],
        ]
    }

    /// An error that kept the command from running, as a Failure status.
    static func failure(_ error: any Error) -> JSONValue {
        var status = APIError.stream(error).status
        status["kind"] = nil
        status["apiVersion"] = nil
        return status
    }

    /// `{"Width": 80, "Height": 24}`.
    static func terminalSize(_ payload: [UInt8]) -> TerminalSize? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
              let w = (object["Width"] ?? object["width"]) as? Int, let h = (object["Height"] ?? object["height"]) as? Int,
              w >= 0, h >= 0 else { return nil }
        return TerminalSize(width: UInt16(clamping: w), height: UInt16(clamping: h))
    }
}
