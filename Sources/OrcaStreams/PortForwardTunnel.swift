import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import OrcaAPI

/// `kubectl port-forward` (1.31+): SPDY/3.1 tunnelled through WebSocket binary messages
/// (subprotocol `SPDY/3.1+portforward.k8s.io`). Per forwarded connection the client opens
/// two SPDY streams sharing a `requestID` header: `streamType: error` and `streamType: data`
/// with the `port`. Data stream bytes go to the pod's port and back; a failure to connect is
/// written on the error stream. Each outgoing frame is one WebSocket message.
public struct PortForwardTunnel: Sendable {
    public static let spdyTunnel = "SPDY/3.1+portforward.k8s.io"

    let provider: any PodStreamProvider
    let pod: JSONValue
    let logger = Logger(label: "orca.streams.portforward")

    /// A tunnel to the ports of `pod` through `provider`.
    public init(provider: any PodStreamProvider, pod: JSONValue) {
        self.provider = provider
        self.pod = pod
    }

    /// What the client does on a data stream.
    enum ClientEvent: Sendable { case data([UInt8]), reset }

    typealias Send = @Sendable (SPDYFrame) async throws -> Void

    /// Serves the connection until the client goes away.
    public func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let send: Send = { frame in try await outbound.writeBinaryMessage(ByteBuffer(bytes: frame.bytes)) }
        var parser = SPDYFrame.Parser()
        var codec = SPDYHeaderCodec()
        var errorStreams: [String: UInt32] = [:]
        var dataStreams: [UInt32: AsyncStream<ClientEvent>.Continuation] = [:]
        await withDiscardingTaskGroup { group in
            do {
                messages: for try await message in inbound.messages(maxSize: 1 << 24) {
                    guard case .binary(var buffer) = message else { continue }
                    parser.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
                    while let frame = try parser.next() {
                        switch frame {
                        case .synStream(let id, let flags, let block):
                            let headers = try codec.decode(block)
                            try await send(.synReply(streamID: id, flags: 0, headerBlock: codec.encode([])))
                            let requestID = headers["requestid"] ?? ""
                            switch headers["streamtype"] {
                            case "error":
                                errorStreams[requestID] = id
                            case "data":
                                let (events, input) = AsyncStream<ClientEvent>.makeStream()
                                if flags & SPDYFrame.flagFin != 0 { input.finish() } else { dataStreams[id] = input }
                                let port = Int(headers["port"] ?? "") ?? 0
                                let errorStream = errorStreams.removeValue(forKey: requestID)
                                group.addTask {
                                    await forward(port: port, dataStream: id, errorStream: errorStream, events: events, send: send)
                                }
                            default:
                                try await send(.rstStream(streamID: id, status: 1))
                            }
                        case .data(let id, let flags, let payload):
                            guard let input = dataStreams[id] else { continue }
                            if !payload.isEmpty { input.yield(.data(payload)) }
                            if flags & SPDYFrame.flagFin != 0 {
                                input.finish()
                                dataStreams[id] = nil
                            }
                        case .rstStream(let id, _):
                            if let input = dataStreams.removeValue(forKey: id) {
                                input.yield(.reset)
                                input.finish()
                            }
                        case .ping(let pingID):
                            try await send(.ping(id: pingID))
                        case .goAway:
                            break messages
                        case .synReply, .other:
                            break
                        }
                    }
                }
            } catch {
                logger.debug("port-forward tunnel ended: \(error)")
            }
            for input in dataStreams.values {
                input.yield(.reset)
                input.finish()
            }
            group.cancelAll()
        }
    }

    /// One forwarded connection: connects to the pod's port and copies both ways until the pod
    /// closes its side or the client resets the stream.
    func forward(port: Int, dataStream: UInt32, errorStream: UInt32?, events: AsyncStream<ClientEvent>, send: Send) async {
        let connection: PodPortConnection
        do {
            guard (1...65535).contains(port) else { throw APIError.badRequest("invalid port \(port)") }
            connection = try await provider.portForward(pod: pod, port: port)
        } catch {
            let message = "error forwarding port \(port) to pod \(pod.metadataName ?? ""): \(APIError.stream(error).message)"
            if let errorStream {
                try? await send(.data(streamID: errorStream, flags: 0, payload: Array(message.utf8)))
                try? await send(.data(streamID: errorStream, flags: SPDYFrame.flagFin, payload: []))
            }
            try? await send(.data(streamID: dataStream, flags: SPDYFrame.flagFin, payload: []))
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events {
                    switch event {
                    case .data(let bytes):
                        do { try await connection.write(bytes) } catch { return }
                    case .reset:
                        await connection.close()
                        return
                    }
                }
                await connection.closeWrite()
            }
            do {
                for try await chunk in connection.inbound {
                    try await send(.data(streamID: dataStream, flags: 0, payload: chunk))
                }
            } catch {}
            try? await send(.data(streamID: dataStream, flags: SPDYFrame.flagFin, payload: []))
            if let errorStream { try? await send(.data(streamID: errorStream, flags: SPDYFrame.flagFin, payload: [])) }
            group.cancelAll()
        }
        await connection.close()
    }
}

/// Port-forwarding in the WebSocket channel protocol (`v4.channel.k8s.io`, ports in the
/// `ports` query): for the i-th port, channel 2i carries data and 2i+1 errors; the server
/// first sends the port (16-bit little-endian) on both.
public struct PortForwardChannels: Sendable {
    public static let v4 = "v4.channel.k8s.io"

    let provider: any PodStreamProvider
    let pod: JSONValue
    let ports: [Int]

    /// Forwards `ports` of `pod` through `provider`.
    public init(provider: any PodStreamProvider, pod: JSONValue, ports: [Int]) {
        self.provider = provider
        self.pod = pod
        self.ports = ports
    }

    /// Serves the connection until the client goes away.
    public func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let send: @Sendable (Int, [UInt8]) async throws -> Void = { channel, bytes in
            try await outbound.writeBinaryMessage(ByteBuffer(bytes: [UInt8(channel)] + bytes))
        }
        var connections: [PodPortConnection?] = []
        for (i, port) in ports.enumerated() {
            let portBytes = [UInt8(port & 0xff), UInt8(port >> 8)]
            try await send(2 * i, portBytes)
            try await send(2 * i + 1, portBytes)
            do { connections.append(try await provider.portForward(pod: pod, port: port)) } catch {
                connections.append(nil)
                try await send(2 * i + 1, Array(APIError.stream(error).message.utf8))
            }
        }
        let open = connections
        await withTaskGroup(of: Void.self) { group in
            for (i, connection) in open.enumerated() {
                guard let connection else { continue }
                group.addTask {
                    do { for try await chunk in connection.inbound { try await send(2 * i, chunk) } } catch {}
                }
            }
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        guard case .binary(var data) = message, let channel = data.readInteger(as: UInt8.self),
                              channel % 2 == 0, Int(channel / 2) < open.count, let connection = open[Int(channel / 2)] else { continue }
                        let bytes = data.readBytes(length: data.readableBytes) ?? []
                        if !bytes.isEmpty { try await connection.write(bytes) }
                    }
                } catch {}
            }
            await group.next()
            group.cancelAll()
        }
        for connection in open { await connection?.close() }
    }
}
