import OrcaCore
@testable import OrcaNetwork
import Testing

/// The DNS wire codec: round trips of every record kind, name compression, EDNS0, truncation
/// for UDP, and malformed input (truncated, looping, garbage) rejected without trapping.
struct ClusterDNSMessageTests {
    static func name(_ text: String) -> DNSName {
        (try? DNSName(text)) ?? .root
    }

    /// A response with one record of every kind the codec interprets, plus a raw HINFO and an OPT.
    static let everyKind: DNSMessage = {
        let owner = name("web.default.svc.cluster.local")
        let records: [DNSRecordData] = [
            .address(.v4(0x0A2B_0014)),
            .address(IPAddress("fd00:43::20")!),
            .cname(name("www.example.com")),
            .ns(name("ns.dns.cluster.local")),
            .ptr(name("db-0.db.default.svc.cluster.local")),
            .srv(.init(priority: 0, weight: 100, port: 80, target: name("web.default.svc.cluster.local"))),
            .soa(.init(primary: name("ns.dns.cluster.local"), mailbox: name("hostmaster.cluster.local"), serial: 7,
                       refresh: 7200, retry: 1800, expire: 86400, minimum: 5)),
            .txt([Array("1.0.1".utf8), [], Array(repeating: 0x41, count: 255)]),
            .mx(.init(preference: 10, exchange: name("mail.web.default.svc.cluster.local"))),
            .mb(name("mail.example.com")),
            .mg(name("member.example.com")),
            .mr(name("renamed.example.com")),
            .minfo(.init(responsibleMailbox: name("owner.example.com"), errorMailbox: name("errors.example.com"))),
            .raw(type: DNSRecordType(rawValue: 13), data: [3, 0x78, 0x38, 0x36, 5, 0x4C, 0x69, 0x6E, 0x75, 0x78]),
        ]
        return DNSMessage(
            header: DNSHeader(id: 0xBEEF, isResponse: true, opcode: .query, isAuthoritative: true, isTruncated: false,
                              recursionDesired: true, recursionAvailable: true, authenticData: false, checkingDisabled: true,
                              rcode: .nameError),
            questions: [DNSQuestion(name: owner, type: .any)],
            answers: records.map { DNSResourceRecord(name: owner, ttl: 5, data: $0) },
            authorities: [DNSResourceRecord(name: name("cluster.local"), ttl: 5, data: .soa(.init(
                primary: name("ns.dns.cluster.local"), mailbox: name("hostmaster.cluster.local"),
                serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5)))],
            additionals: [DNSResourceRecord(name: name("web.default.svc.cluster.local"), ttl: 5, data: .address(.v4(1)))],
            edns: EDNS(udpPayloadSize: 1232, dnssecOK: true, options: [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]))
    }()

    @Test func everyRecordKindSurvivesARoundTrip() throws {
        let bytes = Self.everyKind.serialized()
        let parsed = try DNSMessage(bytes: bytes)
        #expect(parsed == Self.everyKind)
        #expect(parsed.serialized() == bytes)
        #expect(parsed.answers.map(\.type) == [.a, .aaaa, .cname, .ns, .ptr, .srv, .soa, .txt, .mx, .mb, .mg, .mr, .minfo,
                                                DNSRecordType(rawValue: 13)])
        #expect(!parsed.isFullyDecoded)
        #expect(parsed.answers.map(\.type.description).suffix(6) == ["MX", "MB", "MG", "MR", "MINFO", "TYPE13"])
    }

    // MARK: Names inside record data

    /// An upstream's answer to `<name> MX`, built by hand as resolvers compress it: every owner
    /// and the tail of every exchange is a pointer to the question's name at offset 12, the
    /// additional `A` record's owner a pointer into the first MX's data. With `withRP`, an RP
    /// record (a type the codec keeps raw) whose names are pointers too, as old BINDs send it.
    static func compressedMXAnswer(id: UInt16, name: DNSName, count: Int, withRP: Bool = false) -> [UInt8] {
        let answers = count + (withRP ? 1 : 0)
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x81, 0x80, 0, 1, UInt8(answers >> 8), UInt8(answers & 0xFF), 0, 0, 0, 1]
        for label in name.labels { bytes += [UInt8(label.count)] + label }
        bytes += [0, 0, 15, 0, 1]
        let question: [UInt8] = [0xC0, 12]
        let ttl: [UInt8] = [0, 0, 0x01, 0x2C]
        var firstExchange = 0
        for index in 0..<count {
            let label = Array("mx\(index)".utf8)
            let data: [UInt8] = [0, UInt8(10 + index)] + [UInt8(label.count)] + label + question
            bytes += question + [0, 15, 0, 1] + ttl + [0, UInt8(data.count)]
            if index == 0 { firstExchange = bytes.count + 2 }
            bytes += data
        }
        if withRP {
            let data: [UInt8] = [10] + Array("hostmaster".utf8) + question + question
            bytes += question + [0, 17, 0, 1] + ttl + [0, UInt8(data.count)] + data
        }
        bytes += [0xC0 | UInt8(firstExchange >> 8), UInt8(firstExchange & 0xFF), 0, 1, 0, 1] + ttl + [0, 4, 192, 0, 2, 25]
        return bytes
    }

    @Test func compressedNamesInMXDataAreReadWholeAndWrittenAnew() throws {
        let bytes = Self.compressedMXAnswer(id: 7, name: Self.name("example.com"), count: 2, withRP: true)
        let upstream = try DNSMessage(bytes: bytes)
        #expect(upstream.answers.map(\.description) == [
            "example.com. 300 IN MX 10 mx0.example.com.", "example.com. 300 IN MX 11 mx1.example.com.", "example.com. 300 IN TYPE17 \\# 15",
        ])
        #expect(upstream.additionals.map(\.description) == ["mx0.example.com. 300 IN A 192.0.2.25"])
        #expect(!upstream.isFullyDecoded)

        // Appended after an alias, as the ExternalName chase does: at offset 12 is now another
        // name, so a copied pointer would read `mx0.ext.default.svc.cluster.local`.
        let alias = Self.name("ext.default.svc.cluster.local")
        var response = DNSMessage.response(to: .query(id: 1, name: alias, type: .mx))
        response.answers = [DNSResourceRecord(name: alias, ttl: 5, data: .cname(Self.name("example.com")))]
            + upstream.answers.filter { !$0.data.isRaw }
        #expect(response.isFullyDecoded)
        let reread = try DNSMessage(bytes: response.serialized())
        #expect(reread.answers.map(\.description) == [
            "ext.default.svc.cluster.local. 5 IN CNAME example.com.",
            "example.com. 300 IN MX 10 mx0.example.com.", "example.com. 300 IN MX 11 mx1.example.com.",
        ])
    }

    @Test func mailboxNamesMayPointIntoTheirOwnData() throws {
        // MINFO whose EMAILBX is a pointer to its RMAILBX, which ends in a pointer to the question.
        var bytes = Self.question([7] + Array("example".utf8) + [3] + Array("com".utf8) + [0], answerCount: 1)
        let data: [UInt8] = [5] + Array("owner".utf8) + [0xC0, 12] + [6] + Array("errors".utf8) + [0xC0, UInt8(12 + 13 + 4 + 12)]
        bytes += [0xC0, 12, 0, 14, 0, 1, 0, 0, 0, 5, 0, UInt8(data.count)] + data
        let message = try DNSMessage(bytes: bytes)
        #expect(message.answers.map(\.description) == ["example.com. 5 IN MINFO owner.example.com. errors.owner.example.com."])
        #expect(try DNSMessage(bytes: message.serialized()) == message)
    }

    @Test func anUpstreamAnswerWithRawRecordsIsNeverCutOnlyMarkedTruncated() throws {
        let upstream = try DNSMessage(bytes: Self.compressedMXAnswer(id: 9, name: Self.name("many.example.com"), count: 40, withRP: true))
        #expect(upstream.serialized().count > 512)
        let cut = try DNSMessage(bytes: ClusterDNSResponder.cut(upstream, maxSize: 512))
        #expect(cut.header.id == 9)
        #expect(cut.header.isTruncated)
        #expect(cut.header.isResponse && cut.header.recursionAvailable)
        #expect(cut.questions == upstream.questions)
        #expect(cut.answers.isEmpty && cut.authorities.isEmpty && cut.additionals.isEmpty)
    }

    @Test func aFullyDecodedUpstreamAnswerIsCutWithItsNamesWhole() throws {
        let upstream = try DNSMessage(bytes: Self.compressedMXAnswer(id: 9, name: Self.name("many.example.com"), count: 40))
        #expect(upstream.isFullyDecoded)
        let bytes = ClusterDNSResponder.cut(upstream, maxSize: 512)
        #expect(bytes.count <= 512)
        let cut = try DNSMessage(bytes: bytes)
        #expect(cut.header.isTruncated)
        #expect(!cut.answers.isEmpty && cut.answers.count < 40)
        #expect(cut.answers == Array(upstream.answers.prefix(cut.answers.count)))
        for (index, record) in cut.answers.enumerated() {
            #expect(record.data == .mx(.init(preference: UInt16(10 + index), exchange: Self.name("mx\(index).many.example.com"))))
        }
    }

    @Test func onlyTheQuestionKeepsItsPlaceAndBigOptionsGo() throws {
        var message = try DNSMessage(bytes: Self.compressedMXAnswer(id: 3, name: Self.name("example.com"), count: 1, withRP: true))
        message.edns = EDNS(options: [0, 12, 0x01, 0xF4] + Array(repeating: 0, count: 500))
        #expect(message.truncatedToQuestion(maxSize: 4096).count > 512)
        let small = try DNSMessage(bytes: message.truncatedToQuestion(maxSize: 512))
        #expect(small.header.isTruncated)
        #expect(small.questions == message.questions)
        #expect(small.edns == EDNS())
    }

    @Test(arguments: [
        DNSHeader(id: 1),
        DNSHeader(id: 0xFFFF, isResponse: true),
        DNSHeader(id: 2, opcode: .notify, isAuthoritative: true),
        DNSHeader(id: 3, isTruncated: true, recursionDesired: true),
        DNSHeader(id: 4, recursionAvailable: true, authenticData: true, checkingDisabled: true),
        DNSHeader(id: 5, opcode: .update, rcode: .refused),
        DNSHeader(id: 6, opcode: DNSOpcode(rawValue: 15), rcode: DNSResponseCode(rawValue: 15)),
    ])
    func headerFlagsSurviveARoundTrip(header: DNSHeader) throws {
        let bytes = DNSMessage(header: header).serialized()
        #expect(bytes.count == DNSHeader.byteCount)
        #expect(try DNSMessage(bytes: bytes).header == header)
        #expect(try DNSHeader(bytes: bytes) == header)
    }

    /// A query for `example.com A` as `dig` sends it, byte for byte.
    static let exampleQuery: [UInt8] = [
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        7, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 3, 0x63, 0x6F, 0x6D, 0,
        0x00, 0x01, 0x00, 0x01,
    ]

    @Test func aKnownQueryParsesAndSerializesToTheSameBytes() throws {
        let query = try DNSMessage(bytes: Self.exampleQuery)
        #expect(query.header.id == 0x1234)
        #expect(query.header.recursionDesired)
        #expect(!query.header.isResponse)
        #expect(query.questions == [DNSQuestion(name: Self.name("example.com"), type: .a)])
        #expect(query.edns == nil)
        #expect(query.serialized() == Self.exampleQuery)
        #expect(DNSMessage.query(id: 0x1234, name: Self.name("example.com"), type: .a).serialized() == Self.exampleQuery)
    }

    @Test func namesAreCompressedAgainstEarlierNames() throws {
        let owner = Self.name("web.default.svc.cluster.local")
        var response = DNSMessage.response(to: .query(id: 1, name: owner, type: .a))
        response.answers = [DNSResourceRecord(name: owner, ttl: 5, data: .address(.v4(1))),
                            DNSResourceRecord(name: owner, ttl: 5, data: .address(.v4(2)))]
        response.authorities = [DNSResourceRecord(name: Self.name("Cluster.Local"), ttl: 5, data: .ns(Self.name("ns.dns.cluster.local")))]
        let bytes = response.serialized()
        // Each answer owner is a pointer to the question's name at offset 12.
        let firstAnswer = 12 + owner.wireLength + 4
        #expect(Array(bytes[firstAnswer..<firstAnswer + 2]) == [0xC0, 0x0C])
        #expect(Array(bytes[firstAnswer + 16..<firstAnswer + 18]) == [0xC0, 0x0C])
        // `Cluster.Local` points into the question (case-insensitively), the NS target writes
        // `ns.dns` and points there too.
        let uncompressed = 12 + owner.wireLength + 4 + 2 * (owner.wireLength + 14) + Self.name("cluster.local").wireLength + 10
            + Self.name("ns.dns.cluster.local").wireLength
        #expect(bytes.count < uncompressed)
        #expect(bytes.count == 12 + owner.wireLength + 4 + 2 * 16 + (2 + 10) + (7 + 2))
        let parsed = try DNSMessage(bytes: bytes)
        #expect(parsed.answers == response.answers)
        #expect(parsed.authorities.first?.name.equalsIgnoringCase(Self.name("cluster.local")) == true)
        #expect(parsed.authorities.first?.data == .ns(Self.name("ns.dns.cluster.local")))
    }

    @Test func srvTargetsAreNeverCompressed() throws {
        let target = Self.name("web.default.svc.cluster.local")
        var response = DNSMessage.response(to: .query(id: 1, name: target, type: .srv))
        response.answers = [DNSResourceRecord(name: target, ttl: 5, data: .srv(.init(priority: 0, weight: 100, port: 80, target: target)))]
        let bytes = response.serialized()
        var uncompressed: [UInt8] = []
        for label in target.labels { uncompressed += [UInt8(label.count)] + label }
        uncompressed.append(0)
        #expect(Array(bytes.suffix(target.wireLength)) == uncompressed)
        #expect(try DNSMessage(bytes: bytes).answers == response.answers)
    }

    @Test func ednsIsParsedAndTheExtendedRcodeCombined() throws {
        var message = DNSMessage.response(to: .query(id: 9, name: Self.name("a.b"), type: .a, edns: EDNS(udpPayloadSize: 4096, dnssecOK: true)),
                                          rcode: .badVersion)
        #expect(message.edns == EDNS(udpPayloadSize: EDNS.defaultUDPPayloadSize, dnssecOK: true))
        let parsed = try DNSMessage(bytes: message.serialized())
        #expect(parsed.header.rcode == .badVersion)
        #expect(parsed.edns?.udpPayloadSize == 1232)
        #expect(parsed.edns?.dnssecOK == true)
        #expect(parsed.additionals.isEmpty)
        message.edns = nil
        // Without an OPT only the low 4 bits travel.
        #expect(try DNSMessage(bytes: message.serialized()).header.rcode == .noError)
    }

    @Test(arguments: [(nil, 512), (UInt16(100), 512), (UInt16(1232), 1232), (UInt16(4096), 1232), (UInt16(1400), 1232), (UInt16(800), 800)])
    func theUDPLimitFollowsTheClientsPayloadSize(payload: UInt16?, limit: Int) {
        let query = DNSMessage.query(id: 1, name: .root, type: .ns, edns: payload.map { EDNS(udpPayloadSize: $0) })
        #expect(query.maxUDPResponseSize == limit)
    }

    static func bigResponse(answers: Int, additionals: Int = 0, edns: Bool = false) -> DNSMessage {
        let owner = name("db.default.svc.cluster.local")
        var response = DNSMessage.response(to: .query(id: 7, name: owner, type: .a, edns: edns ? EDNS() : nil), authoritative: true)
        response.answers = (0..<answers).map { DNSResourceRecord(name: owner, ttl: 5, data: .address(.v4(0x0A2A_0000 + UInt32($0)))) }
        response.additionals = (0..<additionals).map {
            DNSResourceRecord(name: name("host\($0).cluster.local"), ttl: 5, data: .address(.v4(UInt32($0))))
        }
        return response
    }

    @Test(arguments: [512, 1232])
    func anAnswerTooBigForUDPIsCutAndMarkedTruncated(limit: Int) throws {
        let response = Self.bigResponse(answers: 200, edns: limit > 512)
        #expect(response.serialized().count > limit)
        let cut = response.serialized(maxSize: limit)
        #expect(cut.count <= limit)
        let parsed = try DNSMessage(bytes: cut)
        #expect(parsed.header.isTruncated)
        #expect(parsed.questions == response.questions)
        #expect(!parsed.answers.isEmpty)
        #expect(parsed.answers == Array(response.answers.prefix(parsed.answers.count)))
        // As many as fit: one more would not.
        #expect(cut.count + 16 > limit)
        #expect((parsed.edns != nil) == (limit > 512))
    }

    @Test func droppingOnlyAdditionalRecordsDoesNotSetTC() throws {
        let response = Self.bigResponse(answers: 3, additionals: 40)
        let cut = try DNSMessage(bytes: response.serialized(maxSize: 512))
        #expect(!cut.header.isTruncated)
        #expect(cut.answers == response.answers)
        #expect(cut.additionals.isEmpty)
        #expect(response.serialized(maxSize: 65535) == response.serialized())
    }

    // MARK: Malformed input

    @Test func everyTruncationOfAValidMessageIsRejected() throws {
        let bytes = Self.everyKind.serialized()
        for length in 0..<bytes.count {
            #expect(throws: OrcaError.self) { try DNSMessage(bytes: Array(bytes.prefix(length))) }
        }
    }

    /// A header with one question whose name is `name` bytes, then `QTYPE A`, `QCLASS IN`.
    static func question(_ name: [UInt8], answers: [UInt8] = [], answerCount: UInt8 = 0) -> [UInt8] {
        [0, 1, 0, 0, 0, 1, 0, answerCount, 0, 0, 0, 0] + name + [0, 1, 0, 1] + answers
    }

    static let malformed: [(String, [UInt8])] = [
        ("a pointer to itself", question([0xC0, 12])),
        ("a pointer forward", question([0xC0, 14, 1, 0x61, 0])),
        ("two pointers to each other", question([1, 0x61, 0xC0, 16, 0xC0, 12])),
        ("a pointer out of the message", question([0xC0, 0xFF])),
        ("a pointer cut in half", [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0]),
        ("a label running past the end", question([10, 0x61, 0x62])),
        ("an extended label type", question([0x41, 0x61, 0])),
        ("a reserved label type", question([0x81, 0x61, 0])),
        ("a name longer than 255 bytes", question(Array(repeating: [63] + Array(repeating: 0x61, count: 63), count: 5).flatMap { $0 } + [0])),
        ("an A record with 5 bytes", question([0], answers: [0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 5, 1, 2, 3, 4, 5], answerCount: 1)),
        ("an AAAA record with 4 bytes", question([0], answers: [0, 0, 28, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4], answerCount: 1)),
        ("RDLENGTH past the end", question([0], answers: [0, 0, 16, 0, 1, 0, 0, 0, 5, 0, 9, 3, 0x61, 0x62, 0x63], answerCount: 1)),
        ("a CNAME longer than its RDLENGTH", question([0], answers: [0, 0, 5, 0, 1, 0, 0, 0, 5, 0, 2, 1, 0x61, 0], answerCount: 1)),
        ("a TXT string past its RDLENGTH", question([0], answers: [0, 0, 16, 0, 1, 0, 0, 0, 5, 0, 2, 5, 0x61], answerCount: 1)),
        ("an OPT record in the answer section", question([0], answers: [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0], answerCount: 1)),
        ("an OPT record not owned by the root", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x61, 0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0]),
        ("two OPT records", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2] + [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0] + [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0]),
        ("counts promising 65535 questions", [0, 1, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]),
    ]

    @Test(arguments: malformed.map(\.0))
    func malformedInputIsRejected(name: String) throws {
        let bytes = try #require(Self.malformed.first { $0.0 == name }?.1)
        #expect(throws: OrcaError.self) { try DNSMessage(bytes: bytes) }
    }

    @Test func aPointerBackIntoTheQuestionIsFollowed() throws {
        // The answer's owner is a pointer to offset 12, the question name `a`.
        let bytes = Self.question([1, 0x61, 0], answers: [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 0, 0, 1], answerCount: 1)
        let message = try DNSMessage(bytes: bytes)
        #expect(message.answers == [DNSResourceRecord(name: Self.name("a"), ttl: 5, data: .address(.v4(0x0A00_0001)))])
    }

    /// xorshift, so the "random" inputs are the same every run.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
    }

    @Test func garbageAndMutatedMessagesNeverTrap() throws {
        var random = SeededGenerator(state: 0x9E37_79B9_7F4A_7C15)
        let valid = Self.everyKind.serialized()
        var parsedCount = 0
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...80, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes = valid
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            }
            // Whatever parses must serialize to something that parses again.
            if let message = try? DNSMessage(bytes: bytes) {
                parsedCount += 1
                #expect(throws: Never.self) { try DNSMessage(bytes: message.serialized()) }
            }
        }
        #expect(parsedCount > 0)
    }

    // MARK: Names and addresses

    @Test(arguments: [
        ("web.default.svc.cluster.local", "web.default.svc.cluster.local.", 5),
        ("web.default.svc.cluster.local.", "web.default.svc.cluster.local.", 5),
        (".", ".", 0),
        ("", ".", 0),
        ("a\\.b.c", "a\\.b.c.", 2),
        ("a\\032b.c", "a\\032b.c.", 2),
        ("back\\\\slash", "back\\\\slash.", 1),
    ])
    func namesParseFromText(text: String, description: String, labels: Int) throws {
        let name = try DNSName(text)
        #expect(name.description == description)
        #expect(name.labels.count == labels)
        #expect(try DNSName(name.description) == name)
    }

    @Test(arguments: ["a..b", ".a", String(repeating: "x", count: 64) + ".com",
                      Array(repeating: String(repeating: "x", count: 63), count: 4).joined(separator: "."), "a\\999.b", "trailing\\"])
    func invalidNamesAreRejected(text: String) {
        #expect(throws: OrcaError.self) { try DNSName(text) }
    }

    @Test func namesCompareWithoutCase() throws {
        let upper = try DNSName("WEB.Default.svc.CLUSTER.local")
        let lower = try DNSName("web.default.svc.cluster.local")
        #expect(upper != lower)
        #expect(upper.equalsIgnoringCase(lower))
        #expect(upper.lowercased() == lower)
        #expect(upper.isSubdomain(of: try DNSName("cluster.LOCAL")))
        #expect(!upper.isSubdomain(of: try DNSName("local.cluster")))
        #expect(upper.lowercasedLabels == ["web", "default", "svc", "cluster", "local"])
        #expect(upper.parent.parent == (try DNSName("svc.CLUSTER.local")))
    }

    @Test(arguments: [
        ("10.43.0.1", "10.43.0.1", "10-43-0-1", true),
        ("0.0.0.0", "0.0.0.0", "0-0-0-0", true),
        ("255.255.255.255", "255.255.255.255", "255-255-255-255", true),
        ("fd00:43::20", "fd00:43::20", "fd00-43--20", false),
        ("FD00:0043:0:0:0:0:0:0020", "fd00:43::20", "fd00-43--20", false),
        ("::1", "::1", "--1", false),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1", "--ffff-10.0.0.1", false),
    ])
    func addressesParseAndPrint(text: String, canonical: String, dashed: String, isIPv4: Bool) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        #expect(address.isIPv4 == isIPv4)
        #expect(address.dashed == dashed)
        #expect(IPAddress(bytes: address.bytes) == address)
        #expect(address.bytes.count == (isIPv4 ? 4 : 16))
        if isIPv4 { #expect(IPAddress(dashed: dashed) == address) }
    }

    @Test(arguments: ["", "10.43.0", "10.43.0.1.2", "10.43.0.256", "01.2.3.4", "10.43.0.1/16", "fe80::1%eth0", "web", "1::2::3", "10..0.1"])
    func nonAddressesAreRejected(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func addressesMatchTheirNetworks() throws {
        let address = try #require(IPAddress("10.43.7.9"))
        #expect(address.isIn(network: try #require(IPAddress("10.43.0.0")), prefixLength: 16))
        #expect(!address.isIn(network: try #require(IPAddress("10.42.0.0")), prefixLength: 16))
        #expect(address.isIn(network: try #require(IPAddress("0.0.0.0")), prefixLength: 0))
        #expect(!address.isIn(network: try #require(IPAddress("fd00::")), prefixLength: 8))
        #expect(try #require(IPAddress("fd00:43::1")).isIn(network: try #require(IPAddress("fd00:43::")), prefixLength: 64))
    }
}
