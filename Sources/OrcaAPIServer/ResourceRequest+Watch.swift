import AsyncHTTPClient
import Foundation
import Hummingbird
import ServiceLifecycle
import NIOCore
import OrcaAPI
import OrcaStreams

extension ResourceRequest {
    /// A streamed watch: one JSON event per line until `timeoutSeconds` (default 30–60 min)
    /// or the client goes away (its stream or connection closes: the watch ends then, not at its
    /// next event, so a client that left a quiet watch holds nothing on the server). When
    /// allowed, BOOKMARK events come every minute and, as Kubernetes' watch cache does, once
    /// shortly before the deadline.
    ///
    /// `view` serves a resource stored as another one (events.k8s.io/v1 over core/v1 events).
    func watch(_ r: ResourceType, _ ns: String?, _ options: ListOptions, view: StorageView? = nil) async throws -> Response {
        var startRevision = Int64(options.resourceVersion ?? "0") ?? 0
        if startRevision == 0 { startRevision = try await registry.store.currentRevision() }
        let firstRevision = startRevision
        let events: AsyncThrowingStream<APIWatchEvent, any Error>
        do {
            events = try await registry.watch(view?.storage ?? r, namespace: ns, options: options)
        } catch let e as APIError where e.code == 410 {
            // As Kubernetes does: the watch starts, then reports "too old resource version" as an ERROR event.
            events = AsyncThrowingStream { $0.finish(throwing: e) }
        }
        let timeout = options.timeoutSeconds.map { max(1, $0) } ?? Int.random(in: 1800...3600)
        let convert = view?.toView
        let table = wantsTable
        let tables = handler.tables
        let includeObject = query["includeObject"]
        let bookmarks = options.allowWatchBookmarks
        let registry = self.registry
        let channel = context.channel
        let metrics = handler.metrics
        enum Item: Sendable { case event(APIWatchEvent), tick, end, failed(APIError) }
        let body = ResponseBody { writer in
            let (stream, continuation) = AsyncStream<Item>.makeStream()
            metrics.watchStarted()
            defer { metrics.watchEnded() }
            // The client goes: its HTTP/2 stream closes, or its HTTP/1.1 connection's input ends.
            let clientGone = ClientGoneSubscription(channel: channel) {
                continuation.yield(.end)
                continuation.finish()
            }
            defer { clientGone.cancel() }
            // The producer takes the next event only once the writer has written the last
            // one, so at most one event waits here; a client too slow to keep up lets the
            // store's bounded per-watcher buffer fill, which ends the watch (as in Kubernetes).
            let (written, writtenContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            let producer = Task {
                var acknowledgements = written.makeAsyncIterator()
                do {
                    for try await e in events {
                        continuation.yield(.event(e))
                        guard await acknowledgements.next() != nil else { break }
                    }
                    continuation.yield(.end)
                } catch {
                    continuation.yield(.failed(APIError.from(error, resource: r, name: nil)))
                }
                continuation.finish()
            }
            let ticker = Task {
                var elapsed = 0
                // Ends the watch at its timeout, or when the server shuts down gracefully
                // (the client then re-watches elsewhere, as with kube-apiserver).
                while !Task.isCancelled, elapsed < timeout, !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: .seconds(1))
                    elapsed += 1
                    if elapsed % 60 == 0 || (timeout > 2 && elapsed == timeout - 2) { continuation.yield(.tick) }
                }
                continuation.yield(.end)
                continuation.finish()
            }
            defer {
                producer.cancel()
                ticker.cancel()
                writtenContinuation.finish()
            }
            var lastRevision = firstRevision
            loop: for await item in stream {
                switch item {
                case .event(var e):
                    defer { writtenContinuation.yield() }
                    if let rv = e.object.resourceVersion.flatMap({ Int64($0) }) { lastRevision = max(lastRevision, rv) }
                    if let convert { e.object = convert(e.object) }
                    if e.type == "BOOKMARK", !bookmarks, options.sendInitialEvents != true { continue }
                    if table, e.type != "BOOKMARK" {
                        e.object = tables.table(r, objects: [e.object], listMeta: ["resourceVersion": e.object[path: ["metadata", "resourceVersion"]] ?? ""], includeObject: includeObject)
                    }
                    var line = e.json.encoded()
                    line.append(10)
                    try await writer.write(ByteBuffer(bytes: line))
                case .tick:
                    guard bookmarks else { continue }
                    var line = APIWatchEvent(type: "BOOKMARK", object: registry.bookmarkObject(r, revision: lastRevision)).json.encoded()
                    line.append(10)
                    try await writer.write(ByteBuffer(bytes: line))
                case .failed(let error):
                    var line = APIWatchEvent(type: "ERROR", object: error.status).json.encoded()
                    line.append(10)
                    try await writer.write(ByteBuffer(bytes: line))
                    break loop
                case .end:
                    break loop
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache, private"], body: body)
    }

    /// `pods/log`, served by the node agent through `PodStreamProvider`.
    func logs(_ r: ResourceType, _ ns: String?, _ name: String) async throws -> Response {
        let causes = Self.validateLogOptions(query)
        if !causes.isEmpty {
            throw APIError.invalid(ResourceType("", "v1", "PodLogOptions", "podlogoptions"), "", causes)
        }
        let pod = try await registry.get(r, namespace: ns, name: name)
        let nodeName = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        let metrics = handler.metrics
        if let kubelets = handler.kubelets, !nodeName.isEmpty, nodeName != handler.localNodeName || handler.podStreams == nil {
            // The pod's own kubelet serves its log.
            let nodes = registry.catalog.resource(group: "", version: "v1", resource: "nodes")!
            let node = try await registry.get(nodes, namespace: nil, name: nodeName)
            let path = KubeletClient.streamPath("log", namespace: ns ?? "default", pod: name, container: nil, rawQuery: request.uri.query)
            let response = try await kubelets.get(node: node, path: path)
            guard response.status == .ok else {
                let body = (try? await response.body.collect(upTo: 1 << 16)).map { Array($0.readableBytesView) } ?? []
                throw APIHandler.kubeletError(status: Int(response.status.code), body: body)
            }
            return APIHandler.streamed(response, channel: context.channel, started: { metrics.logStreamStarted() },
                                       ended: { metrics.logStreamEnded() })
        }
        guard let provider = handler.podStreams else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "no node agent serves logs for pod \(name)")
        }
        let stream = try await provider.logs(pod: pod, query: query)
        let channel = context.channel
        let body = ResponseBody { writer in
            metrics.logStreamStarted()
            defer { metrics.logStreamEnded() }
            try await ClientBoundBody.write(stream, to: &writer, channel: channel)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: body)
    }

    /// Kubernetes' `ValidatePodLogOptions`: tailLines ≥ 0, limitBytes ≥ 1, sinceSeconds ≥ 1,
    /// not both sinceSeconds and sinceTime; numbers must be integers.
    static func validateLogOptions(_ query: [String: String]) -> [StatusCause] {
        var causes: [StatusCause] = []
        func number(_ key: String, min: Int64, _ detail: String) {
            guard let text = query[key], !text.isEmpty else { return }
            guard let n = Int64(text) else {
                causes.append(.invalid(key, text, "must be an integer"))
                return
            }
            if n < min { causes.append(.invalid(key, text, detail)) }
        }
        number("tailLines", min: 0, "must be greater than or equal to 0")
        number("limitBytes", min: 1, "must be greater than 0")
        number("sinceSeconds", min: 1, "must be greater than 0")
        if let s = query["sinceSeconds"], !s.isEmpty, let t = query["sinceTime"], !t.isEmpty {
            causes.append(.forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
        }
        return causes
    }
}
