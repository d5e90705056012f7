import Logging
import NIOCore
import NIOPosix

/// Sends queries the cluster zone does not answer to upstream resolvers, one after the other
/// until one answers: over UDP (again over TCP when that answer is truncated), or over TCP
/// straight away for a client that came over TCP. Each exchange has its own socket and a
/// deadline, so any number run at once and none hangs.
struct DNSForwarder: Sendable {
    /// The resolvers, in the order they are tried; read once per query, as they may change.
    var upstreams: @Sendable () -> [SocketAddress]
    /// How long one upstream gets for one exchange (connecting included).
    var timeout: TimeAmount
    var group: MultiThreadedEventLoopGroup
    var logger: Logger

    /// The largest UDP answer read from an upstream.
    static let maxUDPAnswer = 65_535

    /// The first upstream answer to `query` (raw bytes, the query's id restored), or nil when
    /// none answered in time. Answers are accepted only with a matching id and question; a
    /// SERVFAIL or REFUSED is returned only when no later upstream answers better.
    func forward(_ query: [UInt8], question: DNSQuestion, overTCP: Bool) async -> [UInt8]? {
        guard query.count >= DNSHeader.byteCount else { return nil }
        let originalID = (query[0], query[1])
        var fallback: [UInt8]?
        for upstream in upstreams() {
            guard !Task.isCancelled else { return nil }
            // A fresh random id and socket per exchange make off-path spoofing hard.
            let id = UInt16.random(in: .min ... .max)
            var outgoing = query
            outgoing[0] = UInt8(id >> 8)
            outgoing[1] = UInt8(id & 0xFF)
            var answer: [UInt8]?
            do {
                if overTCP {
                    answer = try await exchangeTCP(outgoing, upstream: upstream, id: id, question: question)
                } else {
                    answer = try await exchangeUDP(outgoing, upstream: upstream, id: id, question: question)
                    if let truncated = answer, Self.isTruncated(truncated) {
                        answer = (try? await exchangeTCP(outgoing, upstream: upstream, id: id, question: question)) ?? truncated
                    }
                }
            } catch {
                logger.debug("upstream DNS exchange failed", metadata: ["upstream": "\(upstream)", "question": "\(question)", "error": "\(error)"])
            }
            if var answer {
                answer[0] = originalID.0
                answer[1] = originalID.1
                // SERVFAIL or REFUSED from one resolver: another may do better; keep it in case none does.
                guard Self.isFailure(answer) else { return answer }
                fallback = answer
                continue
            }
            logger.debug("upstream DNS did not answer", metadata: ["upstream": "\(upstream)", "question": "\(question)"])
        }
        return fallback
    }

    func exchangeUDP(_ query: [UInt8], upstream: SocketAddress, id: UInt16, question: DNSQuestion) async throws -> [UInt8]? {
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: Self.maxUDPAnswer))
            .connect(to: upstream) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
                }
            }
        let timeout = self.timeout
        return try await channel.executeThenClose { inbound, outbound in
            let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
            defer { deadline.cancel() }
            try await outbound.write(AddressedEnvelope(remoteAddress: upstream, data: ByteBuffer(bytes: query)))
            for try await envelope in inbound {
                let answer = Array(envelope.data.readableBytesView)
                // Anything else (a late answer to another query, garbage) is ignored.
                if Self.accepts(answer, id: id, question: question) { return answer }
            }
            return nil
        }
    }

    func exchangeTCP(_ query: [UInt8], upstream: SocketAddress, id: UInt16, question: DNSQuestion) async throws -> [UInt8]? {
        guard let frame = DNSTCPFrameDecoder.frame(query) else { return nil }
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(to: upstream) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let timeout = self.timeout
        return try await channel.executeThenClose { inbound, outbound in
            let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
            defer { deadline.cancel() }
            try await outbound.write(frame)
            for try await message in inbound {
                let answer = Array(message.readableBytesView)
                return Self.accepts(answer, id: id, question: question) ? answer : nil
            }
            return nil
        }
    }

    /// Whether `answer` is a well-formed response with `id` to `question`.
    static func accepts(_ answer: [UInt8], id: UInt16, question: DNSQuestion) -> Bool {
        guard let message = try? DNSMessage(bytes: answer), message.header.isResponse, message.header.id == id else { return false }
        // A FORMERR or NOTIMP may come without the question.
        guard let echoed = message.questions.first else { return message.header.rcode != .noError }
        return message.questions.count == 1 && echoed.type == question.type && echoed.class == question.class
            && echoed.name.equalsIgnoringCase(question.name)
    }

    static func isFailure(_ answer: [UInt8]) -> Bool {
        guard let rcode = (try? DNSHeader(bytes: answer))?.rcode else { return true }
        return rcode == .serverFailure || rcode == .refused
    }

    static func isTruncated(_ answer: [UInt8]) -> Bool {
        (try? DNSHeader(bytes: answer))?.isTruncated ?? false
    }
}
