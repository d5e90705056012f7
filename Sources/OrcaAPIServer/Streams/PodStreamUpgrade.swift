import Foundation
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import OrcaAPI
import OrcaStreams
import X509

/// Decides on WebSocket upgrade requests: authenticates them (impersonation included), checks
/// that they name the `exec`, `attach`, `portforward` or `log` subresource of a pod the request
/// may reach and a subprotocol Orca speaks, and returns the session that serves the connection.
///
/// Anything it declines gets a plain 400 from the upgrader; kubectl then falls back to a SPDY
/// POST, which `ResourceRequest` answers with the real error (pod not found, bad container …).
struct PodStreamUpgrade: Sendable {
    let handler: APIHandler

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
        guard var user = await handler.authenticator.authenticate(authorization: head.headerFields[.authorization], subject: subject) else {
            return nil
        }
        if let impersonation = try Impersonation(head.headerFields) {
            user = try await impersonation.authorize(user, with: handler.authorizer, registry: handler.registry)
        }
        // A stream over WebSocket needs `create` on the subresource, whatever the method
        // (kube-apiserver's AuthorizePodWebsocketUpgradeCreatePermission), but a log `get`;
        // refused ones fall through to the plain handler, which answers 403.
        var attributes = RequestAuthorizer.attributes(user: user, method: .get, path: path, query: rawQuery)
        if !path.hasSuffix("/log") { attributes.verb = "create" }
        guard await handler.authorizer.authorize(attributes, registry: handler.registry).isAllowed else { return nil }
        guard let info = RequestInfo(path: path), info.group == "", info.resource == "pods",
              let name = info.name, let sub = info.subresource,
              let proto = PodStreamSession.chooseProtocol(sub, offered: Self.offeredProtocols(head.headerFields)),
              let pods = handler.registry.catalog.resource(group: "", version: info.version, resource: "pods") else { return nil }
        let namespace = info.namespace ?? "default"
        let pod = try await handler.registry.get(pods, namespace: namespace, name: name)
        let nodeName = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        if let local = handler.podStreams, nodeName == handler.localNodeName || handler.kubelets == nil {
            guard let session = try PodStreamSession.make(sub, protocolName: proto, provider: local, pod: pod, rawQuery: rawQuery) else {
                return nil
            }
            return (proto, { inbound, outbound, _ in try await session(inbound, outbound) })
        }
        // A pod on another node: checked here as the kubelet would, then relayed to its kubelet.
        guard let kubelets = handler.kubelets,
              let options = try PodStreamSession.validate(sub, protocolName: proto, pod: pod, rawQuery: rawQuery),
              let nodes = handler.registry.catalog.resource(group: "", version: "v1", resource: "nodes") else { return nil }
        let node = try await handler.registry.get(nodes, namespace: nil, name: nodeName)
        let kubeletPath = KubeletClient.streamPath(sub, namespace: namespace, pod: name, container: options.container, rawQuery: rawQuery)
        return (proto, { inbound, outbound, _ in
            try await kubelets.relay(node: node, path: kubeletPath, protocolName: proto, inbound: inbound, outbound: outbound)
        })
    }

    /// The subprotocols a client offers, in its order (`Sec-WebSocket-Protocol`, comma-separated, maybe repeated).
    static func offeredProtocols(_ headers: HTTPFields) -> [String] {
        headers[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

