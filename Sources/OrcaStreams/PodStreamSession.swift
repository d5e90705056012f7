import Foundation
import HummingbirdWebSocket
import NIOCore
import OrcaAPI

/// The WebSocket session that serves one pod stream (`exec`, `attach`, `portforward`, `log`) with a
/// `PodStreamProvider`: the API server's for pods of its embedded node, the kubelet server's for
/// its own pods. Both speak the same subprotocols, so the API server can relay a client's
/// connection to a kubelet message by message.
public enum PodStreamSession {
    /// Serves one upgraded connection.
    public typealias Handler = @Sendable (WebSocketInboundStream, WebSocketOutboundWriter) async throws -> Void

    /// exec and attach: the channel protocols, newest first (kubectl 1.30+ asks for v5 only; other
    /// client libraries ask for the older and base64 ones).
    public static let remoteCommandProtocols = [RemoteCommandSession.v5, RemoteCommandSession.v4, RemoteCommandSession.v4Base64,
                                                RemoteCommandSession.v1, RemoteCommandSession.v1Base64]
    /// port-forward: SPDY tunnelled through WebSocket messages (kubectl 1.31+), or the
    /// WebSocket channel protocol with the ports in the query (other clients).
    public static let portForwardProtocols = [PortForwardTunnel.spdyTunnel, PortForwardChannels.v4]
    /// log: the log's bytes as binary messages, or as base64 text (kube's wsstream reader).
    public static let logProtocols = ["binary.k8s.io", "base64.binary.k8s.io"]

    /// The subprotocol to answer with for `subresource` among those `offered`, or nil.
    public static func chooseProtocol(_ subresource: String, offered: [String]) -> String? {
        switch subresource {
        case "exec", "attach": return offered.first(where: remoteCommandProtocols.contains)
        case "portforward": return offered.first(where: portForwardProtocols.contains)
        case "log": return offered.first(where: logProtocols.contains)
        default: return nil
        }
    }

    /// The ports of a `v4.channel.k8s.io` port-forward (`ports=80,443` or repeated), or nil
    /// when they are missing or out of range (two channels per port, numbered by one byte).
    public static func ports(_ rawQuery: String?) -> [Int]? {
        let ports = PodExecOptions.parse(rawQuery)["ports"]?.flatMap { $0.split(separator: ",") }.compactMap { Int($0) } ?? []
        guard !ports.isEmpty, ports.count <= 127, ports.allSatisfy({ (1...65535).contains($0) }) else { return nil }
        return ports
    }

    /// The session for `subresource` of `pod` in `protocolName`, after checking the request as
    /// Kubernetes does (400 for a wrong container, a finished pod, no stream asked for); nil when
    /// the request cannot be served over this protocol.
    public static func make(_ subresource: String, protocolName: String, provider: any PodStreamProvider,
                            pod: JSONValue, rawQuery: String?) throws -> Handler? {
        guard let options = try validate(subresource, protocolName: protocolName, pod: pod, rawQuery: rawQuery) else { return nil }
        switch subresource {
        case "log":
            // The query as `pods/log` takes it (first value of each parameter).
            let query = PodExecOptions.parse(rawQuery).compactMapValues(\.first)
            let base64 = protocolName.hasPrefix("base64.")
            return { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await chunk in try await provider.logs(pod: pod, query: query) {
                            if base64 {
                                try await outbound.writeTextMessage(Data(chunk).base64EncodedString())
                            } else {
                                try await outbound.writeBinaryMessage(ByteBuffer(bytes: chunk))
                            }
                        }
                    }
                    group.addTask {
                        // Reading answers the pings; the client leaving ends a followed log.
                        for try await _ in inbound.messages(maxSize: 1 << 16) {}
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        case "exec", "attach":
            let session = RemoteCommandSession(protocolName: protocolName, provider: provider, pod: pod, options: options,
                                               attach: subresource == "attach")
            return { inbound, outbound in try await session.run(inbound: inbound, outbound: outbound) }
        default:
            if protocolName == PortForwardChannels.v4, let ports = ports(rawQuery) {
                let session = PortForwardChannels(provider: provider, pod: pod, ports: ports)
                return { inbound, outbound in try await session.run(inbound: inbound, outbound: outbound) }
            }
            let tunnel = PortForwardTunnel(provider: provider, pod: pod)
            return { inbound, outbound in try await tunnel.run(inbound: inbound, outbound: outbound) }
        }
    }

    /// Checks a stream request as Kubernetes does (400 for a wrong container, a finished pod, no
    /// stream asked for) and returns its options, the container resolved; nil when the request
    /// cannot be served over `protocolName` (an unknown subresource, `v4` port-forward without ports).
    public static func validate(_ subresource: String, protocolName: String, pod: JSONValue, rawQuery: String?) throws -> PodExecOptions? {
        switch subresource {
        case "exec", "attach":
            var options = PodExecOptions(rawQuery: rawQuery)
            options.container = try PodStreamTarget.container(of: pod, options.container, subresource)
            try PodStreamTarget.check(pod, subresource, options)
            return options
        case "portforward":
            try PodStreamTarget.check(pod, subresource, nil)
            if protocolName == PortForwardChannels.v4, ports(rawQuery) == nil { return nil }
            return PodExecOptions()
        case "log":
            return PodExecOptions(rawQuery: rawQuery)
        default:
            return nil
        }
    }
}

extension APIError {
    /// An error of a stream as an `APIError` (what the final `Status` or error stream carries).
    static func stream(_ error: any Error) -> APIError {
        (error as? APIError) ?? .internalError(String(describing: error))
    }
}
