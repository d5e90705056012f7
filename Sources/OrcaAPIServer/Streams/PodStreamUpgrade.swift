import Foundation
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import OrcaAPI
import X509

/// Decides on WebSocket upgrade requests: authenticates them, checks that they name the
/// `exec`, `attach` or `portforward` subresource of a pod the request may reach and a
/// subprotocol Orca speaks, and returns the session that serves the connection.
///
/// Anything it declines gets a plain 400 from the upgrader; kubectl then falls back to a SPDY
/// POST, which `ResourceRequest` answers with the real error (pod not found, bad container …).
struct PodStreamUpgrade: Sendable {
    let handler: APIHandler

    /// exec and attach: the channel protocols, newest first (kubectl 1.30+ asks for v5 only).
    static let remoteCommandProtocols = [RemoteCommandSession.v5, RemoteCommandSession.v4]
    /// port-forward: SPDY tunnelled through WebSocket messages (kubectl 1.31+), or the
    /// WebSocket channel protocol with the ports in the query (other clients).
    static let portForwardProtocols = [PortForwardTunnel.spdyTunnel, PortForwardChannels.v4]

    /// Frames up to 1 MiB in (kubectl cp sends 32 KiB stdin messages); pings every 30 s.
    static let webSocket = WebSocketServerConfiguration(maxFrameSize: 1 << 20)

    typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    func shouldUpgrade(_ head: HTTPRequest, _ channel: any Channel, _ logger: Logger) async throws -> ShouldUpgradeResult<Handler> {
        do {
            guard let (proto, session) = try await resolve(head, channel) else { return .dontUpgrade }
            return .upgrade([.secWebSocketProtocol: proto], session)
        } catch {
            logger.debug("declined a stream upgrade for \(head.path ?? ""): \(error)")
            return .dontUpgrade
        }
    }

    func resolve(_ head: HTTPRequest, _ channel: any Channel) async throws -> (String, Handler)? {
        let target = head.path ?? "/"
        let path = String(target.prefix { $0 != "?" })
        let rawQuery = target.firstIndex(of: "?").map { String(target[target.index(after: $0)...]) }
        let subject = await Authenticator.peerSubject(of: channel)
        guard let user = handler.authenticator.authenticate(authorization: head.headerFields[.authorization], subject: subject),
              !user.groups.contains(BootstrapAuthorizer.group) else {
            return nil
        }
        guard let info = RequestInfo(path: path), info.group == "", info.resource == "pods",
              let name = info.name, let sub = info.subresource, let provider = handler.podStreams else { return nil }
        let offered = Self.offeredProtocols(head.headerFields)
        guard let pods = handler.registry.catalog.resource(group: "", version: info.version, resource: "pods") else { return nil }
        let pod = try await handler.registry.get(pods, namespace: info.namespace ?? "default", name: name)
        switch sub {
        case "exec", "attach":
            var options = PodExecOptions(rawQuery: rawQuery)
            options.container = try PodStreamTarget.container(of: pod, options.container, sub)
            try PodStreamTarget.check(pod, sub, options)
            guard let proto = offered.first(where: Self.remoteCommandProtocols.contains) else { return nil }
            let session = RemoteCommandSession(protocolName: proto, provider: provider, pod: pod, options: options, attach: sub == "attach")
            return (proto, { inbound, outbound, _ in try await session.run(inbound: inbound, outbound: outbound) })
        case "portforward":
            try PodStreamTarget.check(pod, sub, nil)
            guard let proto = offered.first(where: Self.portForwardProtocols.contains) else { return nil }
            if proto == PortForwardChannels.v4 {
                let ports = PodExecOptions.parse(rawQuery)["ports"]?.flatMap { $0.split(separator: ",") }.compactMap { Int($0) } ?? []
                // Two channels per port, numbered by one byte.
                guard !ports.isEmpty, ports.count <= 127, ports.allSatisfy({ (1...65535).contains($0) }) else { return nil }
                let session = PortForwardChannels(provider: provider, pod: pod, ports: ports)
                return (proto, { inbound, outbound, _ in try await session.run(inbound: inbound, outbound: outbound) })
            }
            let tunnel = PortForwardTunnel(provider: provider, pod: pod)
            return (proto, { inbound, outbound, _ in try await tunnel.run(inbound: inbound, outbound: outbound) })
        default:
            return nil
        }
    }

    /// The subprotocols a client offers, in its order (`Sec-WebSocket-Protocol`, comma-separated, maybe repeated).
    static func offeredProtocols(_ headers: HTTPFields) -> [String] {
        headers[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// Checks shared by the WebSocket upgrade and the plain HTTP request of a streaming subresource.
enum PodStreamTarget {
    /// The container the request names, or the pod's only container; throws 400 as Kubernetes does.
    static func container(of pod: JSONValue, _ requested: String?, _ sub: String) throws -> String {
        let spec = pod["spec"]
        let main = (spec?["containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let others = ((spec?["initContainers"]?.arrayValue ?? []) + (spec?["ephemeralContainers"]?.arrayValue ?? []))
            .compactMap { $0["name"]?.stringValue }
        let podName = pod.metadataName ?? ""
        if let requested, !requested.isEmpty {
            guard main.contains(requested) || others.contains(requested) else {
                throw APIError.badRequest("container \(requested) is not valid for pod \(podName)")
            }
            return requested
        }
        guard main.count == 1 else {
            throw APIError.badRequest("a container name must be specified for pod \(podName), choose one of: [\(main.joined(separator: " "))]")
        }
        return main[0]
    }

    /// The pod runs on a node and is not finished; exec and attach ask for at least one stream.
    static func check(_ pod: JSONValue, _ sub: String, _ options: PodExecOptions?) throws {
        let podName = pod.metadataName ?? ""
        if let options {
            guard options.stdin || options.stdout || options.stderr else {
                throw APIError.badRequest("you must specify at least 1 of stdin, stdout, stderr")
            }
            if sub == "exec", options.command.isEmpty {
                throw APIError.badRequest("you must specify a command to run")
            }
        }
        guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else {
            throw APIError.badRequest("pod \(podName) does not have a host assigned")
        }
        let phase = pod[path: ["status", "phase"]]?.stringValue ?? ""
        if phase == "Succeeded" || phase == "Failed" {
            let verb = sub == "portforward" ? "forward ports to" : sub == "attach" ? "attach to" : "exec into"
            throw APIError.badRequest("cannot \(verb) a container in a completed pod; current phase is \(phase)")
        }
    }
}
