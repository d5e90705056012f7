import Foundation
import OrcaAPI
@testable import OrcaNetwork
import Testing

/// The cluster zone against a table of Services and EndpointSlices: every record kind of the
/// Kubernetes DNS specification, NXDOMAIN versus NODATA, case, reverse names and what is left to
/// the upstreams.
struct ClusterDNSRecordsTests {
    static func service(_ name: String, namespace: String = "default", clusterIP: String? = nil, clusterIPs: [String]? = nil,
                        type: String? = nil, externalName: String? = nil, ports: [ServicePort] = [],
                        publishNotReadyAddresses: Bool? = nil) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: namespace),
                spec: ServiceSpec(clusterIP: clusterIP, clusterIPs: clusterIPs, externalName: externalName, ports: ports,
                                  publishNotReadyAddresses: publishNotReadyAddresses, type: type))
    }

    static func slice(_ name: String, service: String, namespace: String = "default", addressType: String = "IPv4",
                      endpoints: [Endpoint], ports: [DiscoveryV1EndpointPort] = []) -> EndpointSlice {
        EndpointSlice(addressType: addressType, endpoints: endpoints,
                      metadata: ObjectMeta(labels: [ClusterDNSRecords.serviceNameLabel: service], name: name, namespace: namespace),
                      ports: ports)
    }

    static func endpoint(_ addresses: [String], hostname: String? = nil, ready: Bool? = true) -> Endpoint {
        Endpoint(addresses: addresses, conditions: EndpointConditions(ready: ready), hostname: hostname)
    }

    static let services: [Service] = [
        service("web", clusterIP: "10.43.0.20", ports: [
            ServicePort(name: "http", port: 80, protocol: "TCP"),
            ServicePort(port: 8080),
            ServicePort(name: "dns-udp", port: 53, protocol: "UDP"),
        ]),
        service("v6", clusterIP: "fd00:43::20", clusterIPs: ["fd00:43::20"]),
        service("dual", clusterIP: "10.43.0.21", clusterIPs: ["10.43.0.21", "fd00:43::21"]),
        service("db", clusterIP: "None", ports: [ServicePort(name: "mysql", port: 3306)]),
        service("unready", clusterIP: "None", publishNotReadyAddresses: true),
        service("empty", clusterIP: "None"),
        service("ext", type: "ExternalName", externalName: "www.example.com"),
        service("alias", type: "ExternalName", externalName: "web.default.svc.cluster.local."),
        service("pending"),
        service("kube-dns", namespace: "kube-system", clusterIP: "10.43.0.10", ports: [
            ServicePort(name: "dns", port: 53, protocol: "UDP"), ServicePort(name: "dns-tcp", port: 53, protocol: "TCP"),
        ]),
    ]

    static let slices: [EndpointSlice] = [
        slice("db-a", service: "db", endpoints: [
            endpoint(["10.42.0.10"], hostname: "db-0"),
            endpoint(["10.42.0.11"], hostname: "db-1", ready: nil),
            endpoint(["10.42.0.12"], ready: false),
        ], ports: [DiscoveryV1EndpointPort(name: "mysql", port: 13306, protocol: "TCP")]),
        slice("db-b", service: "db", endpoints: [
            endpoint(["10.42.0.13"]),
            // The same endpoint in two slices during a handover is one record.
            endpoint(["10.42.0.10"], hostname: "db-0"),
        ], ports: [DiscoveryV1EndpointPort(name: "mysql", port: 13306)]),
        slice("unready-a", service: "unready", endpoints: [endpoint(["10.42.0.30"], ready: false)]),
        // Same Service name, other namespace: not default/db's.
        slice("db-other", service: "db", namespace: "other", endpoints: [endpoint(["10.42.9.9"])]),
        slice("web-a", service: "web", endpoints: [endpoint(["10.42.0.50"])]),
    ]

    static let records = ClusterDNSRecords(services: services, endpointSlices: slices, reverseCIDRs: ["10.43.0.0/16", "10.42.0.0/16"],
                                           nameserver: IPAddress("10.43.0.10"), serial: 42)

    static func query(_ name: String, _ type: DNSRecordType, class: DNSClass = .internet) -> DNSMessage {
        var query = DNSMessage.query(id: 0x4242, name: (try? DNSName(name)) ?? .root, type: type)
        query.questions[0].class = `class`
        return query
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var type: DNSRecordType
        var rcode: DNSResponseCode = .noError
        var answers: [String] = []
        var additionals: [String] = []
        /// The owner of the SOA of a negative answer.
        var zone = "cluster.local."
        var testDescription: String { "\(name) \(type)" }
    }

    /// The SOA record at `owner` (the zone, or the reverse zone of a cluster network).
    static func soa(_ owner: String = "cluster.local.") -> String {
        "\(owner) 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5"
    }

    static let cases: [Case] = [
        // 2.3.1: ClusterIP
        Case(name: "web.default.svc.cluster.local", type: .a, answers: ["web.default.svc.cluster.local. 5 IN A 10.43.0.20"]),
        Case(name: "WEB.Default.SVC.Cluster.LOCAL.", type: .a, answers: ["WEB.Default.SVC.Cluster.LOCAL. 5 IN A 10.43.0.20"]),
        Case(name: "web.default.svc.cluster.local", type: .aaaa),
        Case(name: "web.default.svc.cluster.local", type: .txt),
        Case(name: "web.default.svc.cluster.local", type: .cname),
        Case(name: "v6.default.svc.cluster.local", type: .aaaa, answers: ["v6.default.svc.cluster.local. 5 IN AAAA fd00:43::20"]),
        Case(name: "v6.default.svc.cluster.local", type: .a),
        Case(name: "dual.default.svc.cluster.local", type: .a, answers: ["dual.default.svc.cluster.local. 5 IN A 10.43.0.21"]),
        Case(name: "dual.default.svc.cluster.local", type: .aaaa, answers: ["dual.default.svc.cluster.local. 5 IN AAAA fd00:43::21"]),
        Case(name: "dual.default.svc.cluster.local", type: .any, answers: [
            "dual.default.svc.cluster.local. 5 IN A 10.43.0.21", "dual.default.svc.cluster.local. 5 IN AAAA fd00:43::21",
        ]),
        Case(name: "kube-dns.kube-system.svc.cluster.local", type: .a, answers: ["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.43.0.10"]),
        // A Service without a ClusterIP yet has no records.
        Case(name: "pending.default.svc.cluster.local", type: .a, rcode: .nameError),
        // 2.3.2: SRV of named ports
        Case(name: "_http._tcp.web.default.svc.cluster.local", type: .srv,
             answers: ["_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local."],
             additionals: ["web.default.svc.cluster.local. 5 IN A 10.43.0.20"]),
        Case(name: "_dns-udp._udp.web.default.svc.cluster.local", type: .srv,
             answers: ["_dns-udp._udp.web.default.svc.cluster.local. 5 IN SRV 0 100 53 web.default.svc.cluster.local."],
             additionals: ["web.default.svc.cluster.local. 5 IN A 10.43.0.20"]),
        Case(name: "_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local", type: .srv,
             answers: ["_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local. 5 IN SRV 0 100 53 kube-dns.kube-system.svc.cluster.local."],
             additionals: ["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.43.0.10"]),
        Case(name: "_http._tcp.web.default.svc.cluster.local", type: .a),
        Case(name: "_http._udp.web.default.svc.cluster.local", type: .srv, rcode: .nameError),
        Case(name: "_8080._tcp.web.default.svc.cluster.local", type: .srv, rcode: .nameError),
        Case(name: "_tcp.web.default.svc.cluster.local", type: .srv),
        Case(name: "_sctp.web.default.svc.cluster.local", type: .srv, rcode: .nameError),
        // 2.4.1: headless A records of ready endpoints, by hostname or dashed address
        Case(name: "db.default.svc.cluster.local", type: .a, answers: [
            "db.default.svc.cluster.local. 5 IN A 10.42.0.10", "db.default.svc.cluster.local. 5 IN A 10.42.0.11",
            "db.default.svc.cluster.local. 5 IN A 10.42.0.13",
        ]),
        Case(name: "db.default.svc.cluster.local", type: .aaaa),
        Case(name: "db-0.db.default.svc.cluster.local", type: .a, answers: ["db-0.db.default.svc.cluster.local. 5 IN A 10.42.0.10"]),
        Case(name: "DB-1.db.default.svc.cluster.local", type: .a, answers: ["DB-1.db.default.svc.cluster.local. 5 IN A 10.42.0.11"]),
        Case(name: "10-42-0-13.db.default.svc.cluster.local", type: .a,
             answers: ["10-42-0-13.db.default.svc.cluster.local. 5 IN A 10.42.0.13"]),
        Case(name: "10-42-0-12.db.default.svc.cluster.local", type: .a, rcode: .nameError),
        Case(name: "10-42-0-10.db.default.svc.cluster.local", type: .a, rcode: .nameError),
        Case(name: "db-2.db.default.svc.cluster.local", type: .a, rcode: .nameError),
        Case(name: "db-0.web.default.svc.cluster.local", type: .a, rcode: .nameError),
        Case(name: "unready.default.svc.cluster.local", type: .a, answers: ["unready.default.svc.cluster.local. 5 IN A 10.42.0.30"]),
        Case(name: "empty.default.svc.cluster.local", type: .a, rcode: .nameError),
        Case(name: "db.other.svc.cluster.local", type: .a, rcode: .nameError),
        // 2.4.2: headless SRV, one per ready endpoint, on the endpoint port
        Case(name: "_mysql._tcp.db.default.svc.cluster.local", type: .srv, answers: [
            "_mysql._tcp.db.default.svc.cluster.local. 5 IN SRV 0 33 13306 db-0.db.default.svc.cluster.local.",
            "_mysql._tcp.db.default.svc.cluster.local. 5 IN SRV 0 33 13306 db-1.db.default.svc.cluster.local.",
            "_mysql._tcp.db.default.svc.cluster.local. 5 IN SRV 0 33 13306 10-42-0-13.db.default.svc.cluster.local.",
        ], additionals: [
            "db-0.db.default.svc.cluster.local. 5 IN A 10.42.0.10", "db-1.db.default.svc.cluster.local. 5 IN A 10.42.0.11",
            "10-42-0-13.db.default.svc.cluster.local. 5 IN A 10.42.0.13",
        ]),
        Case(name: "_tcp.db.default.svc.cluster.local", type: .a),
        // 2.5: ExternalName
        Case(name: "ext.default.svc.cluster.local", type: .a, answers: ["ext.default.svc.cluster.local. 5 IN CNAME www.example.com."]),
        Case(name: "ext.default.svc.cluster.local", type: .cname, answers: ["ext.default.svc.cluster.local. 5 IN CNAME www.example.com."]),
        Case(name: "alias.default.svc.cluster.local", type: .a, answers: [
            "alias.default.svc.cluster.local. 5 IN CNAME web.default.svc.cluster.local.",
            "web.default.svc.cluster.local. 5 IN A 10.43.0.20",
        ]),
        Case(name: "_http._tcp.ext.default.svc.cluster.local", type: .srv, rcode: .nameError),
        // 2.6: pods, any namespace
        Case(name: "10-42-0-5.default.pod.cluster.local", type: .a, answers: ["10-42-0-5.default.pod.cluster.local. 5 IN A 10.42.0.5"]),
        Case(name: "10-42-0-5.anywhere.pod.cluster.local", type: .a, answers: ["10-42-0-5.anywhere.pod.cluster.local. 5 IN A 10.42.0.5"]),
        Case(name: "10-42-0-5.default.pod.cluster.local", type: .aaaa),
        Case(name: "fd00-42--5.default.pod.cluster.local", type: .aaaa, answers: ["fd00-42--5.default.pod.cluster.local. 5 IN AAAA fd00:42::5"]),
        Case(name: "10-42-0-300.default.pod.cluster.local", type: .a, rcode: .nameError),
        Case(name: "web.default.pod.cluster.local", type: .a, rcode: .nameError),
        // 2.2: schema version; the apex
        Case(name: "dns-version.cluster.local", type: .txt, answers: ["dns-version.cluster.local. 5 IN TXT \"1.0.1\""]),
        Case(name: "dns-version.cluster.local", type: .a),
        Case(name: "cluster.local", type: .soa, answers: [soa()]),
        Case(name: "cluster.local", type: .ns, answers: ["cluster.local. 5 IN NS ns.dns.cluster.local."],
             additionals: ["ns.dns.cluster.local. 5 IN A 10.43.0.10"]),
        Case(name: "cluster.local", type: .a),
        Case(name: "ns.dns.cluster.local", type: .a, answers: ["ns.dns.cluster.local. 5 IN A 10.43.0.10"]),
        // Empty non-terminals are NODATA, names below nothing NXDOMAIN.
        Case(name: "svc.cluster.local", type: .a),
        Case(name: "pod.cluster.local", type: .a),
        Case(name: "default.svc.cluster.local", type: .a),
        Case(name: "kube-system.svc.cluster.local", type: .a),
        Case(name: "nosuchns.svc.cluster.local", type: .a, rcode: .nameError),
        Case(name: "nothing.default.svc.cluster.local", type: .a, rcode: .nameError),
        Case(name: "web.nosuchns.svc.cluster.local", type: .a, rcode: .nameError),
        Case(name: "web.cluster.local", type: .a, rcode: .nameError),
        Case(name: "a.b.c.d.e.f.default.svc.cluster.local", type: .a, rcode: .nameError),
        // A search-path expansion of a name that was already absolute.
        Case(name: "web.default.svc.cluster.local.default.svc.cluster.local", type: .a, rcode: .nameError),
        Case(name: "web.default.svc.cluster.local.svc.cluster.local", type: .aaaa, rcode: .nameError),
        // 2.3.3 and 2.4.3: PTR
        Case(name: "20.0.43.10.in-addr.arpa", type: .ptr, answers: ["20.0.43.10.in-addr.arpa. 5 IN PTR web.default.svc.cluster.local."]),
        Case(name: "10.0.43.10.in-addr.arpa", type: .ptr,
             answers: ["10.0.43.10.in-addr.arpa. 5 IN PTR kube-dns.kube-system.svc.cluster.local."]),
        Case(name: "10.0.42.10.in-addr.arpa", type: .ptr, answers: ["10.0.42.10.in-addr.arpa. 5 IN PTR db-0.db.default.svc.cluster.local."]),
        Case(name: "13.0.42.10.IN-ADDR.ARPA", type: .ptr,
             answers: ["13.0.42.10.IN-ADDR.ARPA. 5 IN PTR 10-42-0-13.db.default.svc.cluster.local."]),
        Case(name: "20.0.43.10.in-addr.arpa", type: .a, zone: "43.10.in-addr.arpa."),
    ]

    @Test(arguments: cases)
    func answers(test: Case) throws {
        let query = Self.query(test.name, test.type)
        let response = try #require(Self.records.answer(query))
        #expect(response.header.id == 0x4242)
        #expect(response.header.isResponse)
        #expect(response.header.isAuthoritative)
        #expect(response.header.recursionDesired)
        #expect(response.questions == query.questions)
        #expect(response.header.rcode == test.rcode)
        #expect(response.answers.map(\.description) == test.answers)
        #expect(response.additionals.map(\.description) == test.additionals)
        // Negative answers (NXDOMAIN and NODATA) carry the zone's SOA for their TTL.
        if test.answers.isEmpty {
            #expect(response.authorities.map(\.description) == [Self.soa(test.zone)])
        } else {
            #expect(response.authorities.isEmpty)
        }
        // And survive the wire.
        #expect(try DNSMessage(bytes: response.serialized()) == response)
    }

    @Test(arguments: [
        ("99.0.43.10.in-addr.arpa", "43.10.in-addr.arpa."),
        ("77.1.42.10.in-addr.arpa", "42.10.in-addr.arpa."),
    ])
    func unknownAddressesInTheClusterNetworksAreNXDOMAIN(name: String, zone: String) throws {
        let response = try #require(Self.records.answer(Self.query(name, .ptr)))
        #expect(response.header.rcode == .nameError)
        #expect(response.header.isAuthoritative)
        #expect(response.authorities.map(\.name.description) == [zone])
        #expect(response.authorities.first?.type == .soa)
    }

    @Test(arguments: [
        ("example.com", DNSRecordType.a),
        ("www.example.com", .aaaa),
        ("cluster.local.example.com", .a),
        ("local", .soa),
        (".", .ns),
        ("1.1.168.192.in-addr.arpa", .ptr),
        ("43.10.in-addr.arpa", .soa),
        ("x.0.43.10.in-addr.arpa", .ptr),
    ])
    func namesOutsideTheZoneAreLeftToTheUpstreams(name: String, type: DNSRecordType) {
        #expect(Self.records.answer(Self.query(name, type)) == nil)
    }

    @Test func otherClassesOfOurNamesAreRefusedAndOthersLeftToTheUpstreams() {
        #expect(Self.records.answer(Self.query("version.bind", .txt, class: .chaos)) == nil)
        #expect(Self.records.answer(Self.query("1.1.168.192.in-addr.arpa", .ptr, class: .chaos)) == nil)
        #expect(Self.records.answer(Self.query("web.default.svc.cluster.local", .a, class: .chaos))?.header.rcode == .refused)
        #expect(Self.records.answer(Self.query("Cluster.Local", .soa, class: DNSClass(rawValue: 4)))?.header.rcode == .refused)
        #expect(Self.records.answer(Self.query("20.0.43.10.in-addr.arpa", .ptr, class: .chaos))?.header.rcode == .refused)
        #expect(Self.records.answer(Self.query("77.1.42.10.in-addr.arpa", .ptr, class: .chaos))?.header.rcode == .refused)
        #expect(Self.records.answer(Self.query("web.default.svc.cluster.local", .a, class: .any))?.answers.count == 1)
    }

    @Test func theSerialIsTheCallers() {
        #expect(Self.records.serial == 42)
        #expect(ClusterDNSRecords(zone: ClusterDNSRecords.defaultZone).serial == 1)
    }

    @Test(arguments: [
        (UInt32?.none, 1_700_000_000.9, UInt32(1_700_000_000)),
        // Later than the last serial: the time.
        (1_699_999_000, 1_700_000_000, 1_700_000_000),
        // Within the same second, or with the clock set back: one more.
        (1_700_000_000, 1_700_000_000.5, 1_700_000_001),
        (1_700_000_005, 1_700_000_001, 1_700_000_006),
        (100, -5, 101),
        // Past 2^32 the serial wraps as RFC 1982 counts.
        (UInt32.max, 5, 5),
        (UInt32.max, .infinity, 0),
        (UInt32?.none, .nan, 0),
    ])
    func theNextSerialGrows(previous: UInt32?, unixTime: Double, next: UInt32) {
        #expect(ClusterDNSRecords.nextSerial(after: previous, now: Date(timeIntervalSince1970: unixTime)) == next)
    }

    @Test func serialsGrowWithEveryRebuild() {
        var serial = ClusterDNSRecords.nextSerial(after: nil, now: Date(timeIntervalSince1970: 1_700_000_000))
        for step in 0..<1000 {
            let next = ClusterDNSRecords.nextSerial(after: serial, now: Date(timeIntervalSince1970: 1_700_000_000 + Double(step) / 100))
            #expect(next &- serial > 0 && next &- serial < 1 << 31)
            serial = next
        }
    }

    @Test func zoneTransfersAreRefused() throws {
        let response = try #require(Self.records.answer(Self.query("cluster.local", .axfr)))
        #expect(response.header.rcode == .refused)
    }

    @Test func aQueryWithoutOneQuestionIsAFormatError() throws {
        var query = Self.query("web.default.svc.cluster.local", .a)
        query.questions.append(query.questions[0])
        #expect(Self.records.answer(query)?.header.rcode == .formatError)
        query.questions = []
        #expect(Self.records.answer(query)?.header.rcode == .formatError)
    }

    @Test func ipv6ServicesHaveIP6ArpaPointers() throws {
        let address = try #require(IPAddress("fd00:43::20"))
        let nibbles = address.bytes.flatMap { [$0 >> 4, $0 & 0x0F] }.reversed().map { String($0, radix: 16) }
        let name = (nibbles + ["ip6", "arpa"]).joined(separator: ".")
        let response = try #require(Self.records.answer(Self.query(name, .ptr)))
        #expect(response.answers.map(\.data) == [.ptr(try DNSName("v6.default.svc.cluster.local"))])
    }

    @Test func ednsQueriesGetOurPayloadSizeBack() throws {
        var query = Self.query("web.default.svc.cluster.local", .a)
        query.edns = EDNS(udpPayloadSize: 4096, dnssecOK: true)
        let response = try #require(Self.records.answer(query))
        #expect(response.edns == EDNS(udpPayloadSize: 1232, dnssecOK: true))
        #expect(Self.records.answer(Self.query("web.default.svc.cluster.local", .a))?.edns == nil)
    }

    @Test func anotherClusterDomainIsServed() throws {
        let records = ClusterDNSRecords(services: Self.services, endpointSlices: Self.slices, zone: try DNSName("Corp.Example."))
        let response = try #require(records.answer(Self.query("web.default.svc.corp.example", .a)))
        #expect(response.answers.map(\.description) == ["web.default.svc.corp.example. 5 IN A 10.43.0.20"])
        #expect(records.answer(Self.query("web.default.svc.cluster.local", .a)) == nil)
        // Without reverse networks or a name server, unknown reverse names and ns.dns go elsewhere.
        #expect(records.answer(Self.query("99.0.43.10.in-addr.arpa", .ptr)) == nil)
        #expect(records.answer(Self.query("ns.dns.corp.example", .a))?.header.rcode == .nameError)
    }

    @Test func aCNAMELoopStops() throws {
        let records = ClusterDNSRecords(services: [
            Self.service("a", type: "ExternalName", externalName: "b.default.svc.cluster.local"),
            Self.service("b", type: "ExternalName", externalName: "a.default.svc.cluster.local"),
        ], endpointSlices: [])
        let response = try #require(records.answer(Self.query("a.default.svc.cluster.local", .a)))
        #expect(response.answers.count == ClusterDNSRecords.maxAliasHops + 1)
        #expect(response.answers.allSatisfy { $0.type == .cname })
    }

    @Test func aThousandServicesWithTenEndpointsEachAreIndexed() throws {
        var services: [Service] = []
        var slices: [EndpointSlice] = []
        for index in 0..<1000 {
            let name = "svc-\(index)"
            let headless = index % 2 == 0
            services.append(Self.service(name, namespace: "ns-\(index % 10)", clusterIP: headless ? "None" : "10.43.\(index / 250).\(index % 250)",
                                         ports: [ServicePort(name: "http", port: 80)]))
            slices.append(Self.slice("\(name)-a", service: name, namespace: "ns-\(index % 10)",
                                     endpoints: (0..<10).map { Self.endpoint(["10.42.\(index / 25).\((index % 25) * 10 + $0)"]) },
                                     ports: [DiscoveryV1EndpointPort(name: "http", port: 8080)]))
        }
        let records = ClusterDNSRecords(services: services, endpointSlices: slices)
        #expect(records.serviceCount == 1000)
        let headless = try #require(records.answer(Self.query("svc-998.ns-8.svc.cluster.local", .a)))
        #expect(headless.answers.count == 10)
        let srv = try #require(records.answer(Self.query("_http._tcp.svc-998.ns-8.svc.cluster.local", .srv)))
        #expect(srv.answers.count == 10)
        #expect(srv.additionals.count == 10)
        let clusterIP = try #require(records.answer(Self.query("svc-999.ns-9.svc.cluster.local", .a)))
        #expect(clusterIP.answers.map(\.data) == [.address(try #require(IPAddress("10.43.3.249")))])
    }
}
