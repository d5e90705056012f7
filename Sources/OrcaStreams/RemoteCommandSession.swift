import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import OrcaAPI

/// One `exec` or `attach` over WebSocket, in the channel protocol (`v4.channel.k8s.io`,
/// `v5.channel.k8s.io`): every binary message starts with its channel — 0 stdin, 1 stdout,
/// 2 stderr, 3 the final `Status` (JSON), 4 terminal resize (`{"Width":…,"Height":…}`); v5
/// adds 255 `[255, channel]`, the client closing a channel (stdin's end of file).
///
/// The older protocols client libraries still use are served too: `channel.k8s.io` (the
/// error channel carries the error's text, not a Status), and the `base64.` variants
/// (`base64.channel.k8s.io`, `v4.base64.channel.k8s.io`), whose text messages start with the
/// channel as an ASCII digit followed by the data in base64.
public struct RemoteCommandSession: Sendable {
    public static let v4 = "v4.channel.k8s.io"
    public static let v5 = "v5.channel.k8s.io"
    public static let v4Base64 = "v4.base64.channel.k8s.io"
    public static let v1 = "channel.k8s.io"
    public static let v1Base64 = "base64.channel.k8s.io"

    /// Messages in base64 text rather than binary.
    var base64: Bool { protocolName.contains("base64.") }
    /// The error channel carries a JSON Status (v4 and later) rather than the error's text.
    var statusOnErrorChannel: Bool { protocolName.hasPrefix("v4.") || protocolName.hasPrefix("v5.") }

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
        let base64 = self.base64
        let send: @Sendable (Channel, [UInt8]) async throws -> Void = { channel, bytes in
            if base64 {
                try await outbound.writeTextMessage(String(channel.rawValue) + Data(bytes).base64EncodedString())
                return
            }
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
                        guard let (channel, payload) = Self.frame(message) else { continue }
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
        if statusOnErrorChannel {
            try? await send(.error, status.encoded())
        } else if status["status"]?.stringValue != "Success" {
            // Before v4 the error channel carries the error's text, and nothing on success.
            try? await send(.error, Array((status["message"]?.stringValue ?? "").utf8))
        }
    }

    /// The channel and payload of a client message: binary `[channel, data…]`, or base64 text
    /// `"<digit><base64 data>"`; nil for anything else.
    static func frame(_ message: WebSocketMessage) -> (Channel, [UInt8])? {
        switch message {
        case .binary(var data):
            guard let raw = data.readInteger(as: UInt8.self), let channel = Channel(rawValue: raw) else { return nil }
            return (channel, data.readBytes(length: data.readableBytes) ?? [])
        case .text(let text):
            guard let first = text.first, let digit = first.wholeNumberValue, let channel = Channel(rawValue: UInt8(digit)),
                  let payload = Data(base64Encoded: String(text.dropFirst())) else { return nil }
            return (channel, Array(payload))
        }
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
