import Logging
import NIOCore
import NIOPosix
import OrcaCore
import Synchronization

/// The cluster DNS: serves `ClusterDNSRecords` over UDP and TCP on one address and port and
/// forwards every other name to upstream resolvers.
///
/// Records are swapped with `update(_:)` whenever Services or EndpointSlices change; copies of
/// a server share its records, so the value handed to a service group and the one the
/// informer callback updates may be different copies. Queries in flight finish with the records
/// they started with.
///
/// `run()` binds, serves until its task is cancelled, then closes every channel, so it fits
/// swift-service-lifecycle as a `Service` (`extension ClusterDNSServer: Service {}` in the
/// module that owns the service group; wrap it in `cancelWhenGracefulShutdown` there). With
/// port 0 the kernel picks a port that is free for both UDP and TCP; `onBound` reports it.
///
/// Every query is handled in its own child task (up to `maxConcurrentQueries` per socket or
/// connection, beyond which reading waits), so a slow upstream never holds up other queries.
/// A query that does not parse gets FORMERR when its header is readable and is dropped
/// otherwise; when no upstream answers within `upstreamTimeout` the client gets SERVFAIL.
public struct ClusterDNSServer: Sendable {
    /// The address to listen on (the cluster DNS Service IP, 10.43.0.10 by default).
    public let host: String
    /// The port to listen on (53; 0 for any).
    public let port: Int
    /// The resolvers for names outside the cluster zone, tried in order.
    public let upstreams: [SocketAddress]
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

    private let state: RecordsBox
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
        self.upstreams = upstreams
        self.upstreamTimeout = upstreamTimeout
        self.idleTimeout = idleTimeout
        self.state = RecordsBox(records)
        self.group = eventLoopGroup
        self.logger = logger
        self.onBound = onBound
    }

    /// Serves `records` from now on (every copy of this server does).
    public func update(_ records: ClusterDNSRecords) {
        state.set(records)
    }

    /// The records being served.
    public var records: ClusterDNSRecords { state.get() }

    /// Binds UDP and TCP, reports the address to `onBound`, and serves until the task is
    /// cancelled; then closes the sockets and every connection and returns. Throws when binding
    /// fails or a socket fails while serving.
    public func run() async throws {
        let (udp, tcp) = try await bind()
        let address = udp.channel.localAddress ?? tcp.channel.localAddress
        logger.info("cluster DNS serving", metadata: ["address": "\(address.map { "\($0)" } ?? host)", "upstreams": "\(upstreams)"])
        let state = self.state
        // Never forward to ourselves, whatever the caller passed.
        let upstreams = self.upstreams.filter { $0 != udp.channel.localAddress }
        let responder = ClusterDNSResponder(
            records: { state.get() },
            forwarder: DNSForwarder(upstreams: upstreams, timeout: Self.timeAmount(upstreamTimeout), group: group, logger: logger))
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await serveUDP(udp, responder: responder) }
                group.addTask { try await serveTCP(tcp, responder: responder) }
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
    typealias TCPListener = NIOAsyncChannel<TCPConnection, Never>

    /// UDP and TCP on the same port; with port 0, retried until the UDP port is free for TCP too.
    func bind() async throws -> (UDPChannel, TCPListener) {
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
                let tcp = try await bindTCP(port: udp.channel.localAddress?.port ?? port)
                return (udp, tcp)
            } catch {
                try? await udp.channel.close()
                guard port == 0, attempt < 10 else { throw error }
            }
        }
    }

    func bindTCP(port: Int) async throws -> TCPListener {
        let idle = Self.timeAmount(idleTimeout)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 128)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(allTimeout: idle))
                    try pipeline.addHandler(DNSIdleCloseHandler())
                    try pipeline.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                    return try TCPConnection(wrappingChannelSynchronously: channel)
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

    func serveTCP(_ listener: TCPListener, responder: ClusterDNSResponder) async throws {
        try await listener.executeThenClose { connections in
            try await withThrowingTaskGroup(of: Void.self) { group in
                var open = 0
                for try await connection in connections {
                    if open >= Self.maxConnections {
                        try await group.next()
                        open -= 1
                    }
                    open += 1
                    group.addTask { await serve(connection, responder: responder) }
                }
                try await group.waitForAll()
            }
        }
    }

    /// One TCP connection: any number of queries, answered as they complete (RFC 7766 §6.2.1.1),
    /// until the client closes, the connection idles out or the server stops.
    func serve(_ connection: TCPConnection, responder: ClusterDNSResponder) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
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

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow ? .max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// The records, shared by every copy of a server.
    final class RecordsBox: Sendable {
        private let records: Mutex<ClusterDNSRecords>

        init(_ records: ClusterDNSRecords) {
            self.records = Mutex(records)
        }

        func get() -> ClusterDNSRecords { records.withLock { $0 } }
        func set(_ value: ClusterDNSRecords) { records.withLock { $0 = value } }
    }
}
