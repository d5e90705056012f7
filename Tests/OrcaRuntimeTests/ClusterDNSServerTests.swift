import Foundation
import Logging
import NIOCore
import NIOPosix
import OrcaAPI
import OrcaCore
@testable import OrcaNetwork
import Synchronization
import Testing

/// The cluster DNS server on 127.0.0.1 with a kernel-chosen port: real UDP and TCP queries,
/// truncation, forwarding to a fake upstream the test runs on loopback, SERVFAIL when it is
/// silent, malformed queries, record updates and idle connections.
struct ClusterDNSServerTests {
    static let logger = Logger(label: "cluster-dns-test", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Every client exchange gives up after this, so a broken server fails a test instead of hanging it.
    static let safetyNet = TimeAmount.seconds(30)

    struct NoResponse: Error {}

    static let records: ClusterDNSRecords = {
        let web = Service(metadata: ObjectMeta(name: "web", namespace: "default"), spec: ServiceSpec(clusterIP: "10.43.0.20"))
        let big = Service(metadata: ObjectMeta(name: "big", namespace: "default"), spec: ServiceSpec(clusterIP: "None"))
        let ext = Service(metadata: ObjectMeta(name: "ext", namespace: "default"),
                          spec: ServiceSpec(externalName: "www.example.com", type: "ExternalName"))
        let slice = EndpointSlice(addressType: "IPv4", endpoints: (0..<100).map { Endpoint(addresses: ["10.42.1.\($0)"]) },
                                  metadata: ObjectMeta(labels: [ClusterDNSRecords.serviceNameLabel: "big"], name: "big-a", namespace: "default"))
        return ClusterDNSRecords(services: [web, big, ext], endpointSlices: [slice])
    }()

    static func name(_ text: String) -> DNSName { (try? DNSName(text)) ?? .root }

    static func query(_ text: String, _ type: DNSRecordType = .a, id: UInt16 = 0x0101, edns: EDNS? = nil) -> [UInt8] {
        DNSMessage.query(id: id, name: name(text), type: type, edns: edns).serialized()
    }

    // MARK: Harness

    /// Runs a server on 127.0.0.1:0 for `body`, then cancels it and waits until `run()` returned.
    static func withServer<T: Sendable>(records: ClusterDNSRecords = records, upstreams: [SocketAddress] = [],
                                        upstreamTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(10),
                                        _ body: @Sendable (ClusterDNSServer, SocketAddress) async throws -> T) async throws -> T {
        let (bound, continuation) = AsyncStream.makeStream(of: SocketAddress.self)
        let server = ClusterDNSServer(host: "127.0.0.1", port: 0, upstreams: upstreams, records: records, upstreamTimeout: upstreamTimeout,
                                      idleTimeout: idleTimeout, logger: logger, onBound: { continuation.yield($0) })
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask {
                defer { continuation.finish() }
                try await server.run()
            }
            guard let address = await bound.first(where: { _ in true }) else {
                try await group.waitForAll()
                throw NoResponse()
            }
            #expect(address.port != 0)
            do {
                let result = try await body(server, address)
                group.cancelAll()
                try await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    typealias UDPChannel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    typealias TCPChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func udpSocket() async throws -> UDPChannel {
        try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_535))
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try UDPChannel(wrappingChannelSynchronously: channel) }
            }
    }

    /// Sends `datagrams` from one socket and returns the first datagram that comes back.
    static func exchangeUDP(_ datagrams: [[UInt8]], server: SocketAddress) async throws -> [UInt8] {
        let channel = try await udpSocket()
        return try await channel.executeThenClose { inbound, outbound in
            let net = channel.channel.eventLoop.scheduleTask(in: safetyNet) { channel.channel.close(promise: nil) }
            defer { net.cancel() }
            for datagram in datagrams {
                try await outbound.write(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: datagram)))
            }
            for try await envelope in inbound { return Array(envelope.data.readableBytesView) }
            throw NoResponse()
        }
    }

    static func askUDP(_ query: [UInt8], server: SocketAddress) async throws -> DNSMessage {
        try DNSMessage(bytes: try await exchangeUDP([query], server: server))
    }

    static func connectTCP(_ server: SocketAddress) async throws -> TCPChannel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(to: server) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                    return try TCPChannel(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Sends `queries` on one connection and returns as many responses, in arrival order.
    static func exchangeTCP(_ queries: [[UInt8]], server: SocketAddress) async throws -> [DNSMessage] {
        try await exchangeTCPBytes(queries, server: server).map { try DNSMessage(bytes: $0) }
    }

    /// `exchangeTCP` without parsing the responses.
    static func exchangeTCPBytes(_ queries: [[UInt8]], server: SocketAddress) async throws -> [[UInt8]] {
        let channel = try await connectTCP(server)
        return try await channel.executeThenClose { inbound, outbound in
            let net = channel.channel.eventLoop.scheduleTask(in: safetyNet) { channel.channel.close(promise: nil) }
            defer { net.cancel() }
            for query in queries { try await outbound.write(try #require(DNSTCPFrameDecoder.frame(query))) }
            var responses: [[UInt8]] = []
            for try await frame in inbound {
                responses.append(Array(frame.readableBytesView))
                if responses.count == queries.count { return responses }
            }
            throw NoResponse()
        }
    }

    // MARK: Answers

    @Test func answersOverUDP() async throws {
        try await Self.withServer { _, address in
            let response = try await Self.askUDP(Self.query("web.default.svc.cluster.local", id: 0xCAFE), server: address)
            #expect(response.header.id == 0xCAFE)
            #expect(response.header.isResponse && response.header.isAuthoritative && response.header.recursionAvailable)
            #expect(response.answers.map(\.description) == ["web.default.svc.cluster.local. 5 IN A 10.43.0.20"])
        }
    }

    @Test func answersSeveralQueriesOnOneTCPConnection() async throws {
        try await Self.withServer { _, address in
            let responses = try await Self.exchangeTCP([
                Self.query("web.default.svc.cluster.local", id: 1),
                Self.query("nothing.default.svc.cluster.local", id: 2),
                Self.query("web.default.svc.cluster.local", .aaaa, id: 3),
            ], server: address)
            let byID = Dictionary(uniqueKeysWithValues: responses.map { ($0.header.id, $0) })
            #expect(byID.keys.sorted() == [1, 2, 3])
            #expect(byID[1]?.answers.count == 1)
            #expect(byID[2]?.header.rcode == .nameError)
            #expect(byID[3]?.header.rcode == .noError)
            #expect(byID[3]?.answers.isEmpty == true)
            #expect(byID[3]?.authorities.first?.type == .soa)
        }
    }

    @Test func aBigAnswerIsTruncatedOverUDPAndWholeOverTCP() async throws {
        try await Self.withServer { _, address in
            let classic = try await Self.exchangeUDP([Self.query("big.default.svc.cluster.local")], server: address)
            #expect(classic.count <= 512)
            let cut = try DNSMessage(bytes: classic)
            #expect(cut.header.isTruncated)
            #expect(cut.answers.count < 100)

            let edns = try await Self.exchangeUDP([Self.query("big.default.svc.cluster.local", edns: EDNS(udpPayloadSize: 4096))], server: address)
            #expect(edns.count > 512 && edns.count <= 1232)
            let ednsCut = try DNSMessage(bytes: edns)
            #expect(ednsCut.header.isTruncated)
            #expect(ednsCut.edns?.udpPayloadSize == 1232)

            let whole = try await Self.exchangeTCP([Self.query("big.default.svc.cluster.local")], server: address)
            #expect(whole.first?.header.isTruncated == false)
            #expect(whole.first?.answers.count == 100)
        }
    }

    @Test func recordsAreSwappedByUpdate() async throws {
        try await Self.withServer { server, address in
            #expect(try await Self.askUDP(Self.query("late.default.svc.cluster.local"), server: address).header.rcode == .nameError)
            let late = Service(metadata: ObjectMeta(name: "late", namespace: "default"), spec: ServiceSpec(clusterIP: "10.43.0.99"))
            server.update(ClusterDNSRecords(services: [late], endpointSlices: []))
            #expect(server.records.serviceCount == 1)
            let response = try await Self.askUDP(Self.query("late.default.svc.cluster.local"), server: address)
            #expect(response.answers.map(\.data) == [.address(.v4(0x0A2B_0063))])
        }
    }

    // MARK: Malformed queries

    @Test func garbageIsDroppedAndAReadableHeaderGetsFORMERR() async throws {
        try await Self.withServer { _, address in
            // Too short for a header, and a "query" that is a response: no answer to either, so
            // the first datagram back answers the valid query sent after them.
            let response = DNSHeader(id: 0x7777, isResponse: true)
            let first = try await Self.exchangeUDP([[1, 2, 3, 4, 5], DNSMessage(header: response).serialized(),
                                                    Self.query("web.default.svc.cluster.local", id: 0x0A0A)], server: address)
            #expect(try DNSMessage(bytes: first).header.id == 0x0A0A)

            // One question promised, none sent.
            let formErr = try await Self.askUDP([0x5A, 0x5A, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0], server: address)
            #expect(formErr.header.id == 0x5A5A)
            #expect(formErr.header.rcode == .formatError)
            #expect(formErr.header.recursionDesired)

            // Over TCP too, and the connection stays usable.
            let tcp = try await Self.exchangeTCP([[0x5B, 0x5B, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 0x61],
                                                  Self.query("web.default.svc.cluster.local", id: 9)], server: address)
            #expect(Set(tcp.map(\.header.id)) == [0x5B5B, 9])
            #expect(tcp.first { $0.header.id == 0x5B5B }?.header.rcode == .formatError)
        }
    }

    @Test func mutatedQueriesNeverTrapTheResponder() async throws {
        let responder = ClusterDNSResponder(
            records: { Self.records },
            forwarder: DNSForwarder(upstreams: { [] }, timeout: .seconds(1), group: MultiThreadedEventLoopGroup.singleton, logger: Self.logger))
        let seeds = [
            Self.query("big.default.svc.cluster.local"), Self.query("ext.default.svc.cluster.local", .mx, edns: EDNS()),
            Self.query("20.0.43.10.in-addr.arpa", .ptr), Self.query("www.example.com", .aaaa, edns: EDNS(udpPayloadSize: 600)),
        ]
        var random = ClusterDNSMessageTests.SeededGenerator(state: 0x2545_F491_4F6C_DD1D)
        for round in 0..<2000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if round % 7 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random))) }
            let transport: ClusterDNSResponder.Transport = round % 2 == 0 ? .udp : .tcp
            guard let response = await responder.respond(to: bytes, over: transport) else { continue }
            // Whatever goes back parses and, over UDP, fits what the query allows.
            let parsed = try DNSMessage(bytes: response)
            #expect(parsed.header.isResponse)
            if transport == .udp {
                let limit = (try? DNSMessage(bytes: bytes))?.maxUDPResponseSize ?? DNSMessage.classicUDPSize
                #expect(response.count <= limit)
            }
        }
    }

    @Test func otherOpcodesAndEDNSVersionsAreRefusedPolitely() async throws {
        try await Self.withServer { _, address in
            var notify = DNSMessage.query(id: 4, name: Self.name("cluster.local"), type: .soa)
            notify.header.opcode = .notify
            #expect(try await Self.askUDP(notify.serialized(), server: address).header.rcode == .notImplemented)

            let future = Self.query("web.default.svc.cluster.local", id: 5, edns: EDNS(version: 1))
            let response = try await Self.askUDP(future, server: address)
            #expect(response.header.rcode == .badVersion)
            #expect(response.edns?.version == 0)
        }
    }

    @Test func stoppingTheServerClosesEveryConnection() async throws {
        // A burst of connections, then the server stops at once: some are served, some still
        // wait in the listener's stream. Every one is closed long before it would idle out, and
        // none that was never taken up traps (NIO traps on a dropped, unclosed NIOAsyncChannel).
        for _ in 0..<10 {
            let clients = try await Self.withServer(idleTimeout: .seconds(600)) { _, address in
                let connecting = (0..<64).map { _ in ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(to: address) }
                var clients: [any Channel] = []
                for connection in connecting { clients.append(try await connection.get()) }
                return clients
            }
            for client in clients {
                let safetyNetFired = Mutex(false)
                let net = client.eventLoop.scheduleTask(in: Self.safetyNet) {
                    safetyNetFired.withLock { $0 = true }
                    client.close(promise: nil)
                }
                try? await client.closeFuture.get()
                net.cancel()
                #expect(!safetyNetFired.withLock { $0 })
            }
        }
    }

    @Test func anIdleTCPConnectionIsClosedByTheServer() async throws {
        try await Self.withServer(idleTimeout: .milliseconds(100)) { _, address in
            let channel = try await Self.connectTCP(address)
            let safetyNetFired = Mutex(false)
            let frames = try await channel.executeThenClose { inbound, _ in
                let net = channel.channel.eventLoop.scheduleTask(in: Self.safetyNet) {
                    safetyNetFired.withLock { $0 = true }
                    channel.channel.close(promise: nil)
                }
                defer { net.cancel() }
                var frames = 0
                for try await _ in inbound { frames += 1 }
                return frames
            }
            #expect(frames == 0)
            #expect(!safetyNetFired.withLock { $0 })
        }
    }

    // MARK: Forwarding

    @Test func otherNamesAreForwardedOverTheClientsTransport() async throws {
        try await FakeUpstream.serve(.answer(.v4(0xC000_0207))) { upstream, fake in
            try await Self.withServer(upstreams: [upstream]) { _, address in
                let udp = try await Self.askUDP(Self.query("www.example.com", id: 0x1111), server: address)
                #expect(udp.header.id == 0x1111)
                #expect(udp.answers.map(\.description) == ["www.example.com. 60 IN A 192.0.2.7"])
                #expect(fake.queries == (udp: 1, tcp: 0))

                let tcp = try await Self.exchangeTCP([Self.query("www.example.com", id: 0x2222)], server: address)
                #expect(tcp.first?.header.id == 0x2222)
                #expect(tcp.first?.answers.count == 1)
                #expect(fake.queries == (udp: 1, tcp: 1))
            }
        }
    }

    @Test func aTruncatedUpstreamAnswerIsFetchedAgainOverTCP() async throws {
        try await FakeUpstream.serve(.truncateUDP(answers: 60)) { upstream, fake in
            try await Self.withServer(upstreams: [upstream]) { _, address in
                let whole = try await Self.askUDP(Self.query("many.example.com", edns: EDNS()), server: address)
                #expect(!whole.header.isTruncated)
                #expect(whole.answers.count == 60)
                #expect(fake.queries == (udp: 1, tcp: 1))

                // Without EDNS the client gets at most 512 bytes, marked truncated.
                let classic = try await Self.exchangeUDP([Self.query("many.example.com")], server: address)
                #expect(classic.count <= 512)
                #expect(try DNSMessage(bytes: classic).header.isTruncated)
            }
        }
    }

    @Test func aSilentUpstreamGivesSERVFAILAndTheNextOneIsTried() async throws {
        try await FakeUpstream.serve(.silent) { silent, silentFake in
            try await Self.withServer(upstreams: [silent], upstreamTimeout: .milliseconds(200)) { _, address in
                let response = try await Self.askUDP(Self.query("www.example.com", id: 3), server: address)
                #expect(response.header.id == 3)
                #expect(response.header.rcode == .serverFailure)
                #expect(silentFake.queries.udp == 1)
            }
            try await FakeUpstream.serve(.answer(.v4(0xC000_0208))) { answering, _ in
                // Long enough for a loaded machine: the answering upstream must answer within it.
                try await Self.withServer(upstreams: [silent, answering], upstreamTimeout: .seconds(2)) { _, address in
                    let response = try await Self.askUDP(Self.query("www.example.com"), server: address)
                    #expect(response.header.rcode == .noError)
                    #expect(response.answers.map(\.data) == [.address(.v4(0xC000_0208))])
                }
            }
        }
    }

    @Test func aRefusingUpstreamIsPassedOverForTheNext() async throws {
        try await FakeUpstream.serve(.refuse) { refusing, _ in
            try await FakeUpstream.serve(.answer(.v4(0xC000_0209))) { answering, _ in
                try await Self.withServer(upstreams: [refusing, answering]) { _, address in
                    let response = try await Self.askUDP(Self.query("www.example.com"), server: address)
                    #expect(response.answers.map(\.data) == [.address(.v4(0xC000_0209))])
                }
                try await Self.withServer(upstreams: [refusing]) { _, address in
                    let response = try await Self.askUDP(Self.query("www.example.com"), server: address)
                    #expect(response.header.rcode == .refused)
                }
            }
        }
    }

    @Test func upstreamsAreSwappedWhileServing() async throws {
        try await FakeUpstream.serve(.answer(.v4(0xC000_020A))) { upstream, fake in
            try await Self.withServer { server, address in
                #expect(try await Self.askUDP(Self.query("www.example.com"), server: address).header.rcode == .serverFailure)
                server.update(upstreams: [upstream])
                #expect(server.upstreams == [upstream])
                let response = try await Self.askUDP(Self.query("www.example.com"), server: address)
                #expect(response.answers.map(\.data) == [.address(.v4(0xC000_020A))])
                #expect(fake.queries == (udp: 1, tcp: 0))
                server.update(upstreams: [])
                #expect(try await Self.askUDP(Self.query("www.example.com"), server: address).header.rcode == .serverFailure)
                #expect(fake.queries == (udp: 1, tcp: 0))
            }
        }
    }

    @Test func namesOfTheZoneNeverGoUpstream() async throws {
        try await FakeUpstream.serve(.answer(.v4(0xC000_020B))) { upstream, fake in
            try await Self.withServer(upstreams: [upstream]) { _, address in
                let cases: [(String, DNSRecordType, DNSResponseCode)] = [
                    ("web.default.svc.cluster.local", .a, .noError),
                    ("nothing.default.svc.cluster.local", .a, .nameError),
                    ("www.example.com.default.svc.cluster.local", .aaaa, .nameError),
                    ("x.y.z.cluster.local", .mx, .nameError),
                    ("cluster.local", .axfr, .refused),
                ]
                for (text, type, rcode) in cases {
                    let response = try await Self.askUDP(Self.query(text, type), server: address)
                    #expect(response.header.rcode == rcode, "\(text) \(type)")
                }
                var chaos = DNSMessage.query(id: 8, name: Self.name("web.default.svc.cluster.local"), type: .a)
                chaos.questions[0].class = .chaos
                let refused = try await Self.askUDP(chaos.serialized(), server: address)
                #expect(refused.header.rcode == .refused)
                #expect(fake.queries == (udp: 0, tcp: 0))
            }
        }
    }

    @Test func withoutUpstreamsOtherNamesGetSERVFAIL() async throws {
        try await Self.withServer { _, address in
            let response = try await Self.askUDP(Self.query("www.example.com"), server: address)
            #expect(response.header.rcode == .serverFailure)
        }
    }

    @Test func anExternalNameIsFollowedThroughTheUpstream() async throws {
        try await FakeUpstream.serve(.answer(.v4(0xC000_0207))) { upstream, _ in
            try await Self.withServer(upstreams: [upstream]) { _, address in
                let response = try await Self.askUDP(Self.query("ext.default.svc.cluster.local"), server: address)
                #expect(response.answers.map(\.description) == [
                    "ext.default.svc.cluster.local. 5 IN CNAME www.example.com.", "www.example.com. 60 IN A 192.0.2.7",
                ])
            }
        }
    }

    @Test func anExternalNamesMailExchangersComeWholeFromACompressingUpstream() async throws {
        try await FakeUpstream.serve(.compressedMX(count: 3, withRP: true)) { upstream, _ in
            try await Self.withServer(upstreams: [upstream]) { _, address in
                let response = try await Self.askUDP(Self.query("ext.default.svc.cluster.local", .mx, edns: EDNS()), server: address)
                // The upstream's RP record (kept raw, its names pointers into the upstream's message) is dropped.
                #expect(response.answers.map(\.description) == [
                    "ext.default.svc.cluster.local. 5 IN CNAME www.example.com.",
                    "www.example.com. 300 IN MX 10 mx0.www.example.com.",
                    "www.example.com. 300 IN MX 11 mx1.www.example.com.",
                    "www.example.com. 300 IN MX 12 mx2.www.example.com.",
                ])
            }
        }
    }

    @Test func anOversizedUpstreamAnswerWithRawRecordsIsTruncatedToItsQuestionOverUDP() async throws {
        try await FakeUpstream.serve(.compressedMX(count: 40, withRP: true)) { upstream, _ in
            try await Self.withServer(upstreams: [upstream]) { _, address in
                let udp = try await Self.askUDP(Self.query("many.example.com", .mx, id: 0x3131), server: address)
                #expect(udp.header.id == 0x3131)
                #expect(udp.header.isTruncated)
                #expect(udp.questions == [DNSQuestion(name: Self.name("many.example.com"), type: .mx)])
                #expect(udp.answers.isEmpty && udp.authorities.isEmpty && udp.additionals.isEmpty)

                // Over TCP the upstream's answer comes as it was sent, but for the id.
                let tcp = try await Self.exchangeTCPBytes([Self.query("many.example.com", .mx, id: 0x3232)], server: address)
                #expect(tcp == [ClusterDNSMessageTests.compressedMXAnswer(id: 0x3232, name: Self.name("many.example.com"), count: 40, withRP: true)])
            }
        }
    }

    @Test func anOversizedDecodedUpstreamAnswerIsCutWithItsNamesWhole() async throws {
        try await FakeUpstream.serve(.compressedMX(count: 40, withRP: false)) { upstream, _ in
            try await Self.withServer(upstreams: [upstream]) { _, address in
                let bytes = try await Self.exchangeUDP([Self.query("many.example.com", .mx)], server: address)
                #expect(bytes.count <= 512)
                let udp = try DNSMessage(bytes: bytes)
                #expect(udp.header.isTruncated)
                #expect(!udp.answers.isEmpty)
                for (index, record) in udp.answers.enumerated() {
                    #expect(record.data == .mx(.init(preference: UInt16(10 + index), exchange: Self.name("mx\(index).many.example.com"))))
                }
            }
        }
    }

    @Test func aSlowUpstreamDoesNotHoldUpOtherQueries() async throws {
        try await FakeUpstream.serve(.silent) { silent, fake in
            // The forwarded query would wait a minute, longer than the client's safety net.
            try await Self.withServer(upstreams: [silent], upstreamTimeout: .seconds(60)) { _, address in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { _ = try? await Self.askUDP(Self.query("slow.example.com"), server: address) }
                    // Wait until the upstream has the query, so it is in flight at the server.
                    while fake.queries.udp == 0 { try await Task.sleep(for: .milliseconds(10)) }
                    let local = try await Self.askUDP(Self.query("web.default.svc.cluster.local"), server: address)
                    #expect(local.answers.count == 1)
                    let forwardedAgain = try await Self.exchangeTCP([Self.query("web.default.svc.cluster.local")], server: address)
                    #expect(forwardedAgain.first?.answers.count == 1)
                    group.cancelAll()
                }
            }
        }
    }

    // MARK: Upstreams from resolv.conf

    @Test func upstreamsComeFromResolvConfWithoutTheClusterDNS() throws {
        let conf = ResolvConf(nameservers: ["10.43.0.10", "1.1.1.1", "fe80::1%eth0", "2001:db8::1", "1.1.1.1", "dns.example"])
        let upstreams = ClusterDNSServer.upstreams(from: conf, excluding: ["10.43.0.10"])
        #expect(upstreams == [try SocketAddress(ipAddress: "1.1.1.1", port: 53), try SocketAddress(ipAddress: "2001:db8::1", port: 53)])

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resolv-\(UUID().uuidString).conf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "search example.com\nnameserver 127.0.0.53\nnameserver 10.43.0.10\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(ClusterDNSServer.hostUpstreams(resolvConfPath: path, excluding: ["10.43.0.10"]) == [try SocketAddress(ipAddress: "127.0.0.53", port: 53)])
        #expect(ClusterDNSServer.hostUpstreams(resolvConfPath: path + ".missing").isEmpty)
    }

    @Test func resolvConfIsReadAgainWhenItChanges() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resolv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/resolv.conf"
        var watcher = ResolvConfWatcher(path: path, excluding: ["10.43.0.10"])
        #expect(watcher.changedUpstreams() == nil)

        try "nameserver 10.43.0.10\nnameserver 1.1.1.1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(watcher.changedUpstreams() == [try SocketAddress(ipAddress: "1.1.1.1", port: 53)])
        #expect(watcher.changedUpstreams() == nil)

        // Replaced, as resolvconf and NetworkManager do it.
        try "nameserver 9.9.9.9\nnameserver 2001:db8::53\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(watcher.changedUpstreams() == [try SocketAddress(ipAddress: "9.9.9.9", port: 53), try SocketAddress(ipAddress: "2001:db8::53", port: 53)])
        #expect(watcher.changedUpstreams() == nil)

        // Written in place: same inode, other size.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data("nameserver 8.8.8.8\n".utf8))
        try handle.close()
        #expect(watcher.changedUpstreams() == [try SocketAddress(ipAddress: "8.8.8.8", port: 53)])

        // Gone for a moment (nil: keep what you have), then back: read again.
        try FileManager.default.removeItem(atPath: path)
        #expect(watcher.changedUpstreams() == nil)
        try "nameserver 8.8.8.8\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(watcher.changedUpstreams() == [try SocketAddress(ipAddress: "8.8.8.8", port: 53)])

        // Through a symlink, as systemd-resolved's stub file is linked.
        let link = directory + "/link.conf"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        var linked = ResolvConfWatcher(path: link)
        #expect(linked.changedUpstreams() == [try SocketAddress(ipAddress: "8.8.8.8", port: 53)])
        try "nameserver 8.8.4.4\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(linked.changedUpstreams() == [try SocketAddress(ipAddress: "8.8.4.4", port: 53)])
    }
}

/// A resolver on 127.0.0.1 (UDP and TCP on one port) that answers every query the same way and
/// counts queries per transport.
final class FakeUpstream: Sendable {
    enum Behavior: Sendable {
        /// One `A` record with TTL 60 for the name asked.
        case answer(IPAddress)
        /// Reads queries and never answers.
        case silent
        /// REFUSED.
        case refuse
        /// Over UDP an empty answer with TC set; over TCP `answers` A records.
        case truncateUDP(answers: Int)
        /// `ClusterDNSMessageTests.compressedMXAnswer` for the name asked, over either transport.
        case compressedMX(count: Int, withRP: Bool)
    }

    let behavior: Behavior
    private let counts = Mutex<(udp: Int, tcp: Int)>((0, 0))

    init(_ behavior: Behavior) { self.behavior = behavior }

    /// Queries seen so far, per transport.
    var queries: (udp: Int, tcp: Int) { counts.withLock { $0 } }

    func response(to bytes: [UInt8], overTCP: Bool) -> [UInt8]? {
        guard let query = try? DNSMessage(bytes: bytes), let question = query.questions.first else { return nil }
        counts.withLock { overTCP ? ($0.tcp += 1) : ($0.udp += 1) }
        var response = DNSMessage.response(to: query)
        switch behavior {
        case .answer(let address):
            response.answers = [DNSResourceRecord(name: question.name, ttl: 60, data: .address(address))]
        case .silent:
            return nil
        case .refuse:
            response.header.rcode = .refused
        case .compressedMX(let count, let withRP):
            return ClusterDNSMessageTests.compressedMXAnswer(id: query.header.id, name: question.name, count: count, withRP: withRP)
        case .truncateUDP(let count):
            if overTCP {
                response.answers = (0..<count).map { DNSResourceRecord(name: question.name, ttl: 60, data: .address(.v4(0xC000_0200 + UInt32($0)))) }
            } else {
                response.header.isTruncated = true
            }
        }
        return response.serialized()
    }

    /// Serves `behavior` for `body`, then closes its sockets.
    static func serve<T: Sendable>(_ behavior: Behavior, _ body: @Sendable (SocketAddress, FakeUpstream) async throws -> T) async throws -> T {
        let fake = FakeUpstream(behavior)
        let (udp, tcp) = try await bind()
        let address = try #require(udp.channel.localAddress)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask {
                try await udp.executeThenClose { inbound, outbound in
                    for try await datagram in inbound {
                        guard let response = fake.response(to: Array(datagram.data.readableBytesView), overTCP: false) else { continue }
                        try await outbound.write(AddressedEnvelope(remoteAddress: datagram.remoteAddress, data: ByteBuffer(bytes: response)))
                    }
                }
            }
            group.addTask {
                try await tcp.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { connectionGroup in
                        for try await connection in connections {
                            connectionGroup.addTask {
                                try? await connection.executeThenClose { inbound, outbound in
                                    for try await message in inbound {
                                        guard let response = fake.response(to: Array(message.readableBytesView), overTCP: true),
                                              let frame = DNSTCPFrameDecoder.frame(response) else { continue }
                                        try await outbound.write(frame)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            do {
                let result = try await body(address, fake)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    typealias TCPListener = NIOAsyncChannel<ClusterDNSServerTests.TCPChannel, Never>

    /// UDP on a free port and TCP on the same one.
    static func bind() async throws -> (ClusterDNSServerTests.UDPChannel, TCPListener) {
        for attempt in 1...10 {
            let udp = try await ClusterDNSServerTests.udpSocket()
            do {
                let tcp = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(host: "127.0.0.1", port: udp.channel.localAddress?.port ?? 0) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                            return try ClusterDNSServerTests.TCPChannel(wrappingChannelSynchronously: channel)
                        }
                    }
                return (udp, tcp)
            } catch {
                try? await udp.channel.close()
                if attempt == 10 { throw error }
            }
        }
        throw ClusterDNSServerTests.NoResponse()
    }
}
