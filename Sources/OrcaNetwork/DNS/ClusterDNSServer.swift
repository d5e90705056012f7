import Logging
import NIOCore
import NIOPosix
import OrcaCore
import Synchronization

/// The cluster DNS: serves `ClusterDNSRecords` over UDP and TCP on one address and port and
/// forwards every other name to upstream resolvers.
///
/// Records are swapped with `update(_:)` whenever Services or EndpointSlices change, and the
/// upstreams with `update(upstreams:)` when the host's resolvers change (see
/// `ResolvConfWatcher`), both while serving; copies of a server share its records and
/// upstreams, so the value handed to a service group and the one the informer callback updates
/// may be different copies. Queries in flight finish with the records they started with.
///
/// `run()` binds, serves until its task is cancelled, then closes every channel, so it fits
/// swift-service-lifecycle as a `Service` (`extension ClusterDNSServer: Service {}` in the
/// module that owns the service group; wrap it in `cancelWhenGracefulShutdown` there). With
/// port 0 the kernel picks a port that is free for both UDP and TCP; `onBound` reports it.
///
/// Every query is handled in its own child task (up to `maxConcurrentQueries` per socket or
/// connection, beyond which reading waits), so a slow upstream never holds up other queries.
/// A query that does not parse gets FORMERR when its header is readable and is dropped
/// otherwise; when no upstream answers within `upstreamTimeout` the client gets SERVFAIL. Names
/// of the cluster zone are never forwarded.
public struct ClusterDNSServer: Sendable {
    /// The address to listen on (the cluster DNS Service IP, 10.43.0.10 by default).
    public let host: String
    /// The port to listen on (53; 0 for any).
    public let port: Int
    /// The resolvers for names outside the cluster zone, tried in order (the server's own
    /// address is skipped).
    public var upstreams: [SocketAddress] { state.upstreams() }
    /// How long one upstream gets for one query.
    public let upstreamTimeout: Duration
    /// How long a TCP connection may stay without traffic before the server closes it.
    public let idleTimeout: Duration

    /// Queries handled at once per UDP socket or TCP connection.
    public static let maxConcurrentQueries = 256
    /// TCP connections served at once; more wait in the listen backlog.
    public static let maxConnections = 256
    /// The largest UDP query read.
    static let maxUDPQuery = 4096

    private let state: SharedState
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let onBound: (@Sendable (SocketAddress) -> Void)?

    /// Creates a server; nothing is bound until `run()`.
    /// - Parameters:
    ///   - host: the IPv4 (or IPv6) address to listen on; it must be assigned to the host.
    ///   - port: the UDP and TCP port; 0 lets the kernel choose one free for both.
    ///   - upstreams: where names outside the zone go (see `upstreams(from:excluding:)`).
    ///   - records: the zone to serve until the first `update(_:)`.
    ///   - upstreamTimeout: per upstream and query; after the last upstream the client gets SERVFAIL.
    ///   - idleTimeout: TCP connections without traffic this long are closed; keep it above
    ///     `upstreamTimeout` times the number of upstreams.
    ///   - eventLoopGroup: the NIO event loops for every socket.
    ///   - logger: server start and stop at info, failed exchanges at debug.
    ///   - onBound: called once with the bound address when the server is ready for queries.
    public init(host: String = "10.43.0.10", port: Int = 53, upstreams: [SocketAddress],
                records: ClusterDNSRecords = ClusterDNSRecords(), upstreamTimeout: Duration = .seconds(2),
                idleTimeout: Duration = .seconds(10), eventLoopGroup: MultiThreadedEventLoopGroup = .singleton,
                logger: Logger, onBound: (@Sendable (SocketAddress) -> Void)? = nil) {
        self.host = host
        self.port = port
        self.upstreamTimeout = upstreamTimeout
        self.idleTimeout = idleTimeout
        self.state = SharedState(records: records, upstreams: upstreams)
        self.group = eventLoopGroup
        self.logger = logger
        self.onBound = onBound
    }

    /// Serves `records` from now on (every copy of this server does).
    public func update(_ records: ClusterDNSRecords) {
        state.set(records)
    }

    /// Forwards to `upstreams` from now on (every copy of this server does, running or not);
    /// exchanges in flight finish with the upstreams they started with.
    public func update(upstreams: [SocketAddress]) {
        state.set(upstreams: upstreams)
    }

    /// The records being served.
    public var records: ClusterDNSRecords { state.records() }

    /// Binds UDP and TCP, reports the address to `onBound`, and serves until the task is
    /// cancelled; then closes the sockets and every connection and returns. Throws when binding
    /// fails or a socket fails while serving.
    public func run() async throws {
        let pending = PendingConnections()
        let (udp, tcp) = try await bind(pending: pending)
        let address = udp.channel.localAddress ?? tcp.channel.localAddress
        logger.info("cluster DNS serving", metadata: ["address": "\(address.map { "\($0)" } ?? host)", "upstreams": "\(upstreams)"])
        let state = self.state
        // Never forward to ourselves, whatever the caller passed.
        let local = udp.channel.localAddress
        let responder = ClusterDNSResponder(
            records: { state.records() },
            forwarder: DNSForwarder(upstreams: { state.upstreams().filter { $0 != local } }, timeout: Self.timeAmount(upstreamTimeout),
                                    group: group, logger: logger))
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await serveUDP(udp, responder: responder) }
                group.addTask { try await serveTCP(tcp, pending: pending, responder: responder) }
                if let address { onBound?(address) }
                // Either loop ends only on cancellation or a socket failure; the other follows.
                try await group.next()
                group.cancelAll()
                try await group.waitForAll()
            }
        } catch where !Task.isCancelled {
            logger.error("cluster DNS failed", metadata: ["address": "\(address.map { "\($0)" } ?? host)", "error": "\(error)"])
            throw error
        } catch {
            // Cancelled: the streams end with CancellationError; that is the normal way out.
        }
        logger.info("cluster DNS stopped", metadata: ["address": "\(address.map { "\($0)" } ?? host)"])
        if !Task.isCancelled { throw OrcaError(.unavailable, "cluster DNS on \(host):\(port) stopped serving") }
    }

    typealias UDPChannel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    typealias TCPConnection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    /// Yields accepted connections as plain channels, not reading yet: the listener's stream
    /// drops what it buffers when its task is cancelled, and a dropped `NIOAsyncChannel` that
    /// was never closed traps, while a plain channel is closed by `PendingConnections`.
    typealias TCPListener = NIOAsyncChannel<any Channel, Never>

    /// UDP and TCP on the same port; with port 0, retried until the UDP port is free for TCP too.
    func bind(pending: PendingConnections) async throws -> (UDPChannel, TCPListener) {
        var attempt = 0
        while true {
            attempt += 1
            // No SO_REUSEADDR on UDP: on Linux it would let a second server share the port.
            let udp = try await DatagramBootstrap(group: group)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: Self.maxUDPQuery))
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try UDPChannel(wrappingChannelSynchronously: channel) }
                }
            do {
                let tcp = try await bindTCP(port: udp.channel.localAddress?.port ?? port, pending: pending)
                return (udp, tcp)
            } catch {
                try? await udp.channel.close()
                guard port == 0, attempt < 10 else { throw error }
            }
        }
    }

    func bindTCP(port: Int, pending: PendingConnections) async throws -> TCPListener {
        let idle = Self.timeAmount(idleTimeout)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 128)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Nothing is read before `serve` wraps the connection, so no query is lost.
            .childChannelOption(.autoRead, value: false)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // Also closes a connection that is never served.
                    try pipeline.addHandler(IdleStateHandler(allTimeout: idle))
                    try pipeline.addHandler(DNSIdleCloseHandler())
                    try pipeline.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                    pending.insert(channel)
                    return channel
                }
            }
    }

    func serveUDP(_ channel: UDPChannel, responder: ClusterDNSResponder) async throws {
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for try await datagram in inbound {
                    if inFlight >= Self.maxConcurrentQueries {
                        try await group.next()
                        inFlight -= 1
                    }
                    inFlight += 1
                    let query = Array(datagram.data.readableBytesView)
                    let client = datagram.remoteAddress
                    group.addTask {
                        guard let response = await responder.respond(to: query, over: .udp) else { return }
                        // A client gone away is not the server's failure.
                        try? await outbound.write(AddressedEnvelope(remoteAddress: client, data: ByteBuffer(bytes: response)))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// Accepts connections until cancelled; then closes the listener and every connection,
    /// served or still waiting in the listener's stream.
    func serveTCP(_ listener: TCPListener, pending: PendingConnections, responder: ClusterDNSResponder) async throws {
        defer { pending.closeAll() }
        try await listener.executeThenClose { connections in
            try await withThrowingTaskGroup(of: Void.self) { group in
                var open = 0
                for try await channel in connections {
                    if open >= Self.maxConnections {
                        try await group.next()
                        open -= 1
                    }
                    open += 1
                    // From here on `serve` closes it.
                    pending.remove(channel)
                    group.addTask { await serve(channel, responder: responder) }
                }
                try await group.waitForAll()
            }
        }
    }

    /// One TCP connection: any number of queries, answered as they complete (RFC 7766 §6.2.1.1),
    /// until the client closes, the connection idles out or the server stops.
    func serve(_ channel: any Channel, responder: ClusterDNSResponder) async {
        let connection: TCPConnection
        do {
            // Throws only when the channel has closed meanwhile; then nothing was wrapped.
            connection = try await channel.eventLoop.submit { try TCPConnection(wrappingChannelSynchronously: channel) }.get()
        } catch {
            channel.close(promise: nil)
            return
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await connection.channel.setOption(.autoRead, value: true).get()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var inFlight = 0
                    for try await message in inbound {
                        if inFlight >= Self.maxConcurrentQueries {
                            try await group.next()
                            inFlight -= 1
                        }
                        inFlight += 1
                        let query = Array(message.readableBytesView)
                        group.addTask {
                            guard let response = await responder.respond(to: query, over: .tcp),
                                  let frame = DNSTCPFrameDecoder.frame(response) else { return }
                            try await outbound.write(frame)
                        }
                    }
                    try await group.waitForAll()
                }
            }
        } catch {
            logger.debug("cluster DNS TCP connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// `duration` in nanoseconds, at most `Int64.max` and at least 0.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return .nanoseconds(0) }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .nanoseconds(.max) }
        let (total, overflowAgain) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return .nanoseconds(overflowAgain ? .max : total)
    }

    /// The records and upstreams, shared by every copy of a server.
    final class SharedState: Sendable {
        private let current: Mutex<(records: ClusterDNSRecords, upstreams: [SocketAddress])>

        init(records: ClusterDNSRecords, upstreams: [SocketAddress]) {
            self.current = Mutex((records, upstreams))
        }

        func records() -> ClusterDNSRecords { current.withLock { $0.records } }
        func set(_ records: ClusterDNSRecords) { current.withLock { $0.records = records } }
        func upstreams() -> [SocketAddress] { current.withLock { $0.upstreams } }
        func set(upstreams: [SocketAddress]) { current.withLock { $0.upstreams = upstreams } }
    }

    /// Accepted TCP connections the serving loop has not taken yet. The listener's stream drops
    /// the ones it holds when its task is cancelled, and the bootstrap may still hand over one
    /// accepted just before the listener closed; `closeAll()` closes all of them, and any that
    /// arrives after it.
    final class PendingConnections: Sendable {
        private let state = Mutex<(channels: [ObjectIdentifier: any Channel], isClosed: Bool)>(([:], false))

        func insert(_ channel: any Channel) {
            let isClosed = state.withLock { state in
                if !state.isClosed { state.channels[ObjectIdentifier(channel)] = channel }
                return state.isClosed
            }
            if isClosed { channel.close(promise: nil) }
        }

        func remove(_ channel: any Channel) {
            _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
        }

        func closeAll() {
            let channels = state.withLock { state in
                state.isClosed = true
                defer { state.channels = [:] }
                return Array(state.channels.values)
            }
            for channel in channels { channel.close(promise: nil) }
        }
    }
}
