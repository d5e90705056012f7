import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import Testing

/// The API server's connections under misbehaving or vanishing clients (issue 15 items 11 and
/// 12): a request that fails on one HTTP/2 stream must not drop the others on the same
/// connection (Go clients see such a drop as "unexpected EOF" and never retry a POST), and a
/// watch whose client went away must end at once, not hold its resources for up to an hour.
@Suite(.serialized) struct APIConnectionTests {
    typealias Stream = NIOAsyncChannel<HTTP2Frame.FramePayload, HTTP2Frame.FramePayload>

    /// A raw HTTP/2 client on one connection: one stream runs a short watch, another sends a
    /// header block HTTP/2 forbids (an upper-case field name). The bad stream is reset, the
    /// watch ends normally at its timeout, and the connection still takes new requests.
    @Test func aBadStreamLeavesTheConnectionsOtherRequestsAlone() async throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let server = try s.k("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}")
        let port = try #require(URLComponents(string: server)?.port)
        let token = try String(contentsOfFile: s.dataDir + "/tls/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(s.dataDir + "/tls/ca.crt")
        tls.certificateVerification = .noHostnameVerification
        tls.applicationProtocols = ["h2"]
        let ssl = try NIOSSLContext(configuration: tls)
        var http2 = NIOHTTP2Handler.Configuration()
        // The client must be able to send what a server has to refuse.
        http2.connection.headerBlockValidation = .disabled
        let multiplexer = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ssl, serverHostname: nil))
                return try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(mode: .client, configuration: http2) { stream in
                    stream.eventLoop.makeCompletedFuture { try Stream(wrappingChannelSynchronously: stream) }
                }
            }
        }
        func open() async throws -> Stream {
            try await multiplexer.openStream { stream in stream.eventLoop.makeCompletedFuture { try Stream(wrappingChannelSynchronously: stream) } }
        }
        func headers(_ path: String, extra: [(String, String)] = []) -> HTTP2Frame.FramePayload {
            .headers(.init(headers: HPACKHeaders([(":method", "GET"), (":scheme", "https"), (":authority", "127.0.0.1"),
                                                  (":path", path), ("authorization", "Bearer \(token)")] + extra), endStream: true))
        }
        /// Sends one request and reads its answer: the status, the body, and whether the stream
        /// ended normally (END_STREAM) rather than by a reset or a closed connection.
        func exchange(_ stream: Stream, _ request: HTTP2Frame.FramePayload) async -> (status: String?, body: String, ended: Bool) {
            var status: String?
            var body = ""
            var ended = false
            do {
                try await stream.executeThenClose { inbound, outbound in
                    try await outbound.write(request)
                    for try await frame in inbound {
                        switch frame {
                        case .headers(let h):
                            status = status ?? h.headers.first(name: ":status")
                            if h.endStream { ended = true }
                        case .data(let d):
                            if case .byteBuffer(let b) = d.data { body += String(buffer: b) }
                            if d.endStream { ended = true }
                        default:
                            break
                        }
                        if ended { break }
                    }
                }
            } catch {
                body += " [error: \(error)]"
            }
            return (status, body, ended)
        }
        let watchStream = try await open()
        async let watch = exchange(watchStream, headers("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=4"))
        try await Task.sleep(for: .milliseconds(500))
        let bad = await exchange(try await open(), headers("/api/v1/namespaces/default/configmaps", extra: [("X-Upper", "1")]))
        #expect(!bad.ended, "the malformed request is reset: \(bad)")
        let after = await exchange(try await open(), headers("/api/v1/namespaces/default/configmaps"))
        #expect(after.status == "200" && after.ended, "a request after the error is answered: \(after)")
        let watched = await watch
        try await group.shutdownGracefully()
        #expect(watched.status == "200" && watched.ended, "the watch ends at its timeout, not with the connection: \(watched)")
    }

    /// Open watches, from the server's `/metrics`.
    static func openWatches(_ api: RawAPI) throws -> Int {
        try longRunning(api, #"{verb="WATCH"}"#)
    }

    /// The server's `apiserver_longrunning_requests` with `labels`, from `/metrics` (-1 if absent).
    static func longRunning(_ api: RawAPI, _ labels: String) throws -> Int {
        let text = try api.call("GET", "/metrics").text
        let line = text.split(separator: "\n").first { $0.hasPrefix("apiserver_longrunning_requests" + labels + " ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    @Test(arguments: ["--http2", "--http1.1"])
    func aWatchEndsWhenItsClientGoes(_ httpVersion: String) throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let api = try RawAPI(s)
        _ = try s.k("create", "namespace", "quiet")
        let base = try Self.openWatches(api)
        #expect(base >= 0)
        // A watch on a namespace where nothing happens: the server never has an event to write.
        let curl = try BackgroundProcess("/usr/bin/curl", ["-sN", httpVersion] + api.tls
                                         + [api.server + "/api/v1/namespaces/quiet/configmaps?watch=1"], env: [:])
        defer { curl.stop() }
        try curl.waitForOutput("the initial event") { $0.contains("\"ADDED\"") }
        #expect(try Self.openWatches(api) == base + 1)
        // The client goes away (killed: it closes nothing politely).
        kill(curl.process.processIdentifier, SIGKILL)
        _ = try curl.waitForExit(timeout: 10)
        try s.eventually("the watch ends with its client", timeout: 30) { try Self.openWatches(api) == base }
    }

    /// A followed log whose container writes nothing more ends when its client goes, not with
    /// the container (it kept reading the log file until then).
    @Test(arguments: ["--http2", "--http1.1"])
    func aFollowedLogEndsWhenItsClientGoes(_ httpVersion: String) throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let api = try RawAPI(s)
        let logs = #"{resource="pods",subresource="log",verb="GET"}"#
        _ = try s.k("apply", "-f", "-", stdin: """
            apiVersion: v1
            kind: Pod
            metadata: {name: quiet}
            spec:
              restartPolicy: Never
              containers:
              - {name: c, image: \(PodConformanceTests.image), command: ["sh", "-c", "echo hello; exec sleep 3600"]}
            """)
        try s.eventually("the pod runs", timeout: 90) { try s.k("get", "pod", "quiet", "-o", "jsonpath={.status.phase}") == "Running" }
        #expect(try Self.longRunning(api, logs) == 0)
        let curl = try BackgroundProcess("/usr/bin/curl", ["-sN", httpVersion] + api.tls
                                         + [api.server + "/api/v1/namespaces/default/pods/quiet/log?follow=true"], env: [:])
        defer { curl.stop() }
        try curl.waitForOutput("the log's line") { $0.contains("hello") }
        #expect(try Self.longRunning(api, logs) == 1)
        kill(curl.process.processIdentifier, SIGKILL)
        _ = try curl.waitForExit(timeout: 10)
        try s.eventually("the log stream ends with its client", timeout: 30) { try Self.longRunning(api, logs) == 0 }
    }

    /// `nodes/proxy` reaches the kubelet's `/logs/` (the node's /var/log), by the node's name and
    /// with its kubelet port, as the conformance tests "should proxy logs on node" ask.
    @Test func nodesProxyServesTheNodesLogs() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let node = try s.k("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")
        let port = try s.k("get", "node", node, "-o", "jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}")
        let entries = try FileManager.default.contentsOfDirectory(atPath: "/var/log").sorted()
        let first = try #require(entries.first)
        for id in [node, "\(node):\(port)"] {
            let listing = try s.k("get", "--raw", "/api/v1/nodes/\(id)/proxy/logs/")
            #expect(listing.contains("<pre>") && listing.contains(">\(first)"), "\(id): \(listing.prefix(300))")
        }
        // Another port of the node is dialled at its address (nothing listens on port 1), unless
        // that address is loopback (a machine without another one), which a proxy never dials.
        let address = try s.k("get", "node", node, "-o", "jsonpath={.status.addresses[?(@.type=='InternalIP')].address}")
        let other = try s.kubectl(["get", "--raw", "/api/v1/nodes/\(node):1/proxy/logs/"])
        let refusal = address.hasPrefix("127.") ? "address not allowed" : "connection refused"
        #expect(other.status != 0 && other.err.contains(refusal), "\(address): \(other.err)")
        let outside = try s.kubectl(["get", "--raw", "/api/v1/nodes/\(node)/proxy/logs/../../etc/passwd"])
        #expect(outside.status != 0 || !outside.out.contains("root:"), "\(outside.out.prefix(200))")
    }
}
