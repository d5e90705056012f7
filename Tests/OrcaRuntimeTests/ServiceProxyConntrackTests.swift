import Foundation
import OrcaAPI
import OrcaCore
@testable import OrcaNetwork
import Testing

/// Conntrack cleanup after an apply: which flows `DatagramServicePorts` deletes for each change,
/// the `conntrack` client, and (as root) a real UDP flow moved off a removed endpoint.
struct ServiceProxyConntrackTests {
    typealias O = ProxyObjects
    typealias F = Conntrack.Filter
    static let rules = ServiceProxyRules(nodeName: "node-a", tableName: "orca-test")

    /// `dns` (10.43.0.40:53, node port 30053, external 192.0.2.10, load balancer 192.0.2.20) → `endpoints` on 5353.
    static func ports(_ endpoints: [Endpoint], proto: String = "UDP", withService: Bool = true,
                      rules: ServiceProxyRules = rules) -> DatagramServicePorts {
        let service = O.service("dns", type: "LoadBalancer", clusterIP: "10.43.0.40",
                                ports: [O.port("dns", 53, nodePort: 30053, protocol: proto)],
                                configure: { $0.externalIPs = ["192.0.2.10"] }, loadBalancerIPs: ["192.0.2.20"])
        let slice = O.slice("dns", ports: [O.slicePort("dns", 5353, protocol: proto)], endpoints: endpoints)
        return rules.build(services: withService ? [service] : [], slices: [slice]).datagramPorts
    }

    static let addresses = ["10.43.0.40", "192.0.2.10", "192.0.2.20"]

    @Test func aRemovedEndpointsFlowsAreDeleted() {
        let before = Self.ports([O.endpoint("10.42.0.5"), O.endpoint("10.42.1.6", node: "node-b")])
        let after = Self.ports([O.endpoint("10.42.0.5")])
        let flows = after.staleFlows(since: before)
        let expected = Self.addresses.map {
            F(transport: "udp", originalDestination: $0, originalDestinationPort: 53, replySource: "10.42.1.6", replySourcePort: 5353)
        } + [F(transport: "udp", originalDestinationPort: 30053, replySource: "10.42.1.6", replySourcePort: 5353, destinationNATed: true)]
        #expect(flows == expected.sorted())
        // Nothing changed, nothing to delete; an endpoint added moves no flow.
        #expect(after.staleFlows(since: after).isEmpty)
        #expect(before.staleFlows(since: after).isEmpty)
    }

    @Test func anEndpointStillServingWhileTerminatingKeepsItsFlows() {
        let before = Self.ports([O.endpoint("10.42.0.5"), O.endpoint("10.42.0.6")])
        let terminating = Self.ports([O.endpoint("10.42.0.5"), O.endpoint("10.42.0.6", ready: false, serving: true, terminating: true)])
        #expect(terminating.staleFlows(since: before).isEmpty)
        let notReady = Self.ports([O.endpoint("10.42.0.5"), O.endpoint("10.42.0.6", ready: false)])
        #expect(Set(notReady.staleFlows(since: before).compactMap(\.replySource)) == ["10.42.0.6"])
    }

    @Test func aUDPServiceThatGetsEndpointsLosesItsBlackHoledFlows() {
        let everything = Self.addresses.map { F(transport: "udp", originalDestination: $0, originalDestinationPort: 53) }
            + [F(transport: "udp", originalDestinationPort: 30053)]
        let none = Self.ports([])
        let some = Self.ports([O.endpoint("10.42.0.5")])
        #expect(some.staleFlows(since: none) == everything.sorted())
        // Also when the service is new, and at the first apply (kube-proxy after a start).
        #expect(some.staleFlows(since: Self.ports([], withService: false)) == everything.sorted())
        #expect(some.staleFlows(since: DatagramServicePorts()) == everything.sorted())
        // A UDP service port that goes away: every flow to it.
        #expect(Self.ports([], withService: false).staleFlows(since: some) == everything.sorted())
        // Losing its endpoints: the removed one's flows (what was rejected before has no entry).
        #expect(none.staleFlows(since: some).allSatisfy { $0.replySource == "10.42.0.5" })
    }

    @Test func sctpOnlyForRemovedEndpointsAndTCPNever() {
        let sctpBefore = Self.ports([O.endpoint("10.42.0.5"), O.endpoint("10.42.0.6")], proto: "SCTP")
        let sctpAfter = Self.ports([O.endpoint("10.42.0.5")], proto: "SCTP")
        let flows = sctpAfter.staleFlows(since: sctpBefore)
        #expect(flows.count == 4 && flows.allSatisfy { $0.transport == "sctp" && $0.replySource == "10.42.0.6" })
        #expect(sctpAfter.staleFlows(since: Self.ports([], proto: "SCTP")).isEmpty)
        let tcp = Self.ports([O.endpoint("10.42.0.5")], proto: "TCP")
        #expect(tcp.staleFlows(since: Self.ports([O.endpoint("10.42.0.6")], proto: "TCP")).isEmpty)
        #expect(tcp.ports.isEmpty)
    }

    @Test func theClusterDNSRedirectsAddressIsLeftAlone() {
        let rules = ServiceProxyRules(nodeName: "node-a", tableName: "orca-test",
                                      clusterDNS: .init(ip: "10.43.0.10", target: "10.42.0.1", port: 53))
        let dns = O.service("kube-dns", namespace: "kube-system", clusterIP: "10.43.0.10", ports: [O.port("dns", 53, protocol: "UDP")])
        let slice = O.slice("kube-dns", namespace: "kube-system", ports: [O.slicePort("dns", 53, protocol: "UDP")], endpoints: [O.endpoint("10.42.0.5")])
        #expect(rules.build(services: [dns], slices: [slice]).datagramPorts.staleFlows(since: DatagramServicePorts()).isEmpty)
    }

    @Test func conntrackCommandLines() throws {
        let flow = F(transport: "udp", originalDestination: "10.43.0.40", originalDestinationPort: 53, replySource: "10.42.0.6", replySourcePort: 5353)
        #expect(flow.arguments == ["-f", "ipv4", "-p", "udp", "--orig-dst", "10.43.0.40", "--orig-port-dst", "53",
                                   "--reply-src", "10.42.0.6", "--reply-port-src", "5353"])
        #expect(F(transport: "udp", originalDestinationPort: 30053, replySource: "10.42.0.6", destinationNATed: true).arguments
                == ["-f", "ipv4", "-p", "udp", "--orig-port-dst", "30053", "--reply-src", "10.42.0.6", "--dst-nat"])
        let client = Conntrack(namespace: "ns1", conntrackPath: "/usr/sbin/conntrack", ipPath: "/usr/sbin/ip")
        #expect(try client.command(["-D"] + flow.arguments).arguments.prefix(5) == ["netns", "exec", "ns1", "/usr/sbin/conntrack", "-D"])
        #expect(Conntrack.count(in: "conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted.", verb: "deleted") == 2)
        #expect(Conntrack.count(in: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.", verb: "deleted") == 0)
        #expect(Conntrack.count(in: "conntrack v1.4.7 (conntrack-tools): Invalid IP address `x'", verb: "deleted") == nil)

        var missing = client
        missing.conntrackPath = nil
        #expect(!missing.isAvailable)
        #expect(throws: OrcaError.self) { try missing.command(["-L"]) }
    }

    // MARK: a real UDP flow (root only)

    @Test(.enabled(if: serviceProxyUDPAvailable, "needs root, nft, iproute2, busybox, timeout, python3 and conntrack"))
    func aUDPFlowToARemovedEndpointMovesOnceItsEntryIsDeleted() async throws {
        let (a, b) = (ServiceProxyTestNode.ipA, ServiceProxyTestNode.ipB)
        func build(_ endpoints: [String], current: ServiceProxyRules.TableContents?) -> ServiceProxyRules.Output {
            let service = O.service("dns", clusterIP: "10.43.0.23", ports: [O.port("dns", 53, protocol: "UDP")])
            let slice = O.slice("dns", ports: [O.slicePort("dns", Int32(ServiceProxyTestNode.udpPort), protocol: "UDP")],
                                endpoints: endpoints.map { O.endpoint($0) })
            return ServiceProxyIntegrationTests.rules.build(services: [service], slices: [slice], current: current)
        }
        try await ServiceProxyIntegrationTests.withNode { t in
            try await t.startUDPServers()
            let conntrack = Conntrack(namespace: t.node)
            let toService = F(transport: "udp", originalDestination: "10.43.0.23", originalDestinationPort: 53)

            let first = build([a], current: nil)
            try await t.nft.apply(first.script)
            // One source port: every datagram is the same flow.
            #expect(t.udp(from: t.node, to: "10.43.0.23", port: 53, sourcePort: 40053) == "pod-a")
            let entries = try await conntrack.list(toService)
            #expect(entries.count == 1 && entries[0].contains("src=\(a) "), "\(entries)")

            let second = build([b], current: first.contents)
            try await t.nft.apply(second.script)
            // The entry still sends the flow to the endpoint that is gone…
            #expect(t.udp(from: t.node, to: "10.43.0.23", port: 53, sourcePort: 40053) == "pod-a")
            // …until cleanup deletes it.
            let stale = second.datagramPorts.staleFlows(since: first.datagramPorts)
            #expect(stale == [F(transport: "udp", originalDestination: "10.43.0.23", originalDestinationPort: 53,
                                replySource: a, replySourcePort: ServiceProxyTestNode.udpPort)])
            for filter in stale { #expect(try await conntrack.delete(filter) == 1) }
            #expect(try await conntrack.list(toService).isEmpty)
            #expect(t.udp(from: t.node, to: "10.43.0.23", port: 53, sourcePort: 40053) == "pod-b")
            // Deleting what is not there is no error.
            #expect(try await conntrack.delete(stale[0]) == 0)
        }
    }
}

/// Whether the UDP flow test can run: the traffic tests' needs, python3 (a UDP echo) and conntrack.
let serviceProxyUDPAvailable: Bool = serviceProxyTrafficAvailable
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    && Conntrack().isAvailable
