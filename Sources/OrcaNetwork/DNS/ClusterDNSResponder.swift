/// Turns the bytes of one query into the bytes of its response: validation, the cluster
/// zone's answer, forwarding of everything else, and the client's size limit.
struct ClusterDNSResponder: Sendable {
    /// How the query arrived, which decides the response size limit and the upstream transport.
    enum Transport: Sendable {
        case udp
        case tcp
    }

    /// The current zone (read once per query).
    var records: @Sendable () -> ClusterDNSRecords
    var forwarder: DNSForwarder

    /// The response, or nil when there is nothing to send: a header too short to read, or a
    /// message that is itself a response.
    func respond(to bytes: [UInt8], over transport: Transport) async -> [UInt8]? {
        let query: DNSMessage
        do {
            query = try DNSMessage(bytes: bytes)
        } catch {
            guard let header = try? DNSHeader(bytes: bytes), !header.isResponse else { return nil }
            let response = DNSHeader(id: header.id, isResponse: true, opcode: header.opcode, recursionDesired: header.recursionDesired,
                                     recursionAvailable: true, rcode: .formatError)
            return DNSMessage(header: response).serialized()
        }
        guard !query.header.isResponse else { return nil }
        let limit = transport == .tcp ? Int(UInt16.max) : query.maxUDPResponseSize
        guard query.header.opcode == .query else {
            return DNSMessage.response(to: query, rcode: .notImplemented).serialized(maxSize: limit)
        }
        if let edns = query.edns, edns.version != 0 {
            return DNSMessage.response(to: query, rcode: .badVersion).serialized(maxSize: limit)
        }
        guard query.questions.count == 1, let question = query.questions.first else {
            return DNSMessage.response(to: query, rcode: .formatError).serialized(maxSize: limit)
        }
        let zone = records()
        if var local = zone.answer(query) {
            await resolveExternalAlias(&local, question: question, zone: zone.zone, transport: transport)
            return local.serialized(maxSize: limit)
        }
        // The zone answers every name in it; should it ever not, the name still stays here.
        guard !question.name.isSubdomain(of: zone.zone) else {
            return DNSMessage.response(to: query, rcode: .refused).serialized(maxSize: limit)
        }
        guard let answer = await forwarder.forward(bytes, question: question, overTCP: transport == .tcp) else {
            return DNSMessage.response(to: query, rcode: .serverFailure).serialized(maxSize: limit)
        }
        guard answer.count > limit else { return answer }
        guard let message = try? DNSMessage(bytes: answer) else {
            return DNSMessage.response(to: query, rcode: .serverFailure).serialized(maxSize: limit)
        }
        return Self.cut(message, maxSize: limit)
    }

    /// An upstream answer made to fit a UDP client. A fully decoded answer is written anew and
    /// cut; one with raw records is not re-encoded at all (their data may point into the
    /// upstream's message): the client gets the header with TC and the question, and asks
    /// again over TCP, where the upstream's answer is relayed as it came.
    static func cut(_ message: DNSMessage, maxSize: Int) -> [UInt8] {
        if message.isFullyDecoded {
            let cut = message.serialized(maxSize: maxSize)
            if cut.count <= maxSize { return cut }
        }
        return message.truncatedToQuestion(maxSize: maxSize)
    }

    /// When the zone's answer ends in a CNAME out of the zone (an ExternalName Service), asks
    /// the upstreams for the target and appends their answer, as CoreDNS does: stub resolvers
    /// do not chase CNAMEs themselves. Only records the codec decodes in full are appended
    /// (raw data may hold pointers into the upstream's message); the others are dropped.
    func resolveExternalAlias(_ response: inout DNSMessage, question: DNSQuestion, zone: DNSName, transport: Transport) async {
        guard question.type != .cname, question.type != .any, response.header.rcode == .noError,
              let last = response.answers.last, case .cname(let target) = last.data, !target.isSubdomain(of: zone) else { return }
        let chase = DNSMessage.query(id: UInt16.random(in: .min ... .max), name: target, type: question.type, edns: EDNS())
        guard let bytes = await forwarder.forward(chase.serialized(), question: chase.questions[0], overTCP: transport == .tcp),
              let upstream = try? DNSMessage(bytes: bytes) else { return }
        let answers = upstream.answers.filter { !$0.data.isRaw }
        switch upstream.header.rcode {
        case .noError:
            response.answers += answers
        case .nameError:
            response.answers += answers
            response.header.rcode = .nameError
        default:
            break
        }
    }
}
