import Foundation
import OrcaAPI
import OrcaCore
@testable import OrcaNetwork
import Testing

/// Services and EndpointSlices for the service proxy tests.
enum ProxyObjects {
    static func service(_ name: String, namespace: String = "default", type: String? = nil, clusterIP: String? = "10.43.0.20",
                        ports: [ServicePort] = [port()], configure: (inout ServiceSpec) -> Void = { _ in },
                        loadBalancerIPs: [String] = []) -> Service {
        var spec = ServiceSpec(clusterIP: clusterIP, ports: ports, type: type)
        configure(&spec)
        var status: ServiceStatus?
        if !loadBalancerIPs.isEmpty {
            status = ServiceStatus(loadBalancer: LoadBalancerStatus(ingress: loadBalancerIPs.map { LoadBalancerIngress(ip: $0) }))
        }
        return Service(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec, status: status)
    }

    static func port(_ name: String? = "http", _ port: Int32 = 80, nodePort: Int32? = nil, protocol proto: String? = "TCP") -> ServicePort {
        ServicePort(name: name, nodePort: nodePort, port: port, protocol: proto, targetPort: .int(8080))
    }

    static func endpoint(_ ip: String, node: String? = "node-a", ready: Bool? = true, serving: Bool? = nil, terminating: Bool? = nil) -> Endpoint {
        Endpoint(addresses: [ip], conditions: EndpointConditions(ready: ready, serving: serving, terminating: terminating), nodeName: node)
    }

    static func slice(_ service: String, _ name: String? = nil, namespace: String = "default", addressType: String = "IPv4",
                      ports: [DiscoveryV1EndpointPort] = [slicePort()], endpoints: [Endpoint]) -> EndpointSlice {
        EndpointSlice(addressType: addressType, endpoints: endpoints,
                      metadata: ObjectMeta(labels: [EndpointIndex.serviceNameLabel: service], name: name ?? "\(service)-abcde", namespace: namespace),
                      ports: ports)
    }

    static func slicePort(_ name: String? = "http", _ port: Int32 = 8080, protocol proto: String? = "TCP") -> DiscoveryV1EndpointPort {
        DiscoveryV1EndpointPort(name: name, port: port, protocol: proto)
    }

    /// The chain and set names of a service port, as the writer makes them.
    struct Names {
        var base: String
        init(_ service: String, namespace: String = "default", proto: String = "tcp", port: String = "http") {
            base = "\(namespace)/\(service)/\(proto)/\(port)"
        }
        var service: String { NFTName.hashed(prefix: "service-", base) }
        var local: String { NFTName.hashed(prefix: "local-", base) }
        var external: String { NFTName.hashed(prefix: "external-", base) }
        var firewall: String { NFTName.hashed(prefix: "firewall-", base) }
        func endpoint(_ address: String) -> String { NFTName.hashed(prefix: "endpoint-", "\(base)__\(address.replacingOccurrences(of: ":", with: "/"))") }
        func affinity(_ address: String) -> String { NFTName.hashed(prefix: "affinity-", "\(base)__\(address.replacingOccurrences(of: ":", with: "/"))") }
    }
}

/// The script's lines, for assertions.
struct ProxyScript {
    let text: String
    let lines: [String]
    let table: String

    init(_ text: String, table: String = "orca-test") {
        self.text = text
        self.table = table
        lines = text.split(separator: "\n").map(String.init)
    }

    func has(_ line: String) -> Bool { lines.contains(line) }
    func rule(_ chain: String, _ rule: String) -> Bool { has("add rule ip \(table) \(chain) \(rule)") }
    func element(_ map: String, _ element: String) -> Bool { has("add element ip \(table) \(map) { \(element) }") }
    func chain(_ name: String) -> Bool { has("add chain ip \(table) \(name)") }
    func rules(of chain: String) -> [String] {
        let prefix = "add rule ip \(table) \(chain) "
        return lines.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
    func elements(of map: String) -> [String] {
        let prefix = "add element ip \(table) \(map) { "
        return lines.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count).dropLast(2)) }
    }
}

/// `ServiceProxyRules`: the script for each kind of service, endpoint selection, names, and
/// (as root) nft's acceptance of every script.
struct ServiceProxyRulesTests {
    typealias O = ProxyObjects
    static let rules = ServiceProxyRules(nodeName: "node-a", tableName: "orca-test")

    static func build(_ services: [Service], _ slices: [EndpointSlice] = [], rules: ServiceProxyRules = rules) -> (ProxyScript, [ServiceProxyRules.Problem]) {
        let out = rules.build(services: services, slices: slices)
        return (ProxyScript(out.script, table: rules.tableName), out.problems)
    }

    @Test func skeletonHasHooksMapsAndMasquerade() {
        let (s, problems) = Self.build([])
        #expect(problems.isEmpty)
        #expect(Array(s.lines.prefix(4).dropFirst()) == ["add table ip orca-test", "delete table ip orca-test", "add table ip orca-test"])
        #expect(s.has("add chain ip orca-test nat-prerouting { type nat hook prerouting priority -100 ; policy accept ; }"))
        #expect(s.has("add chain ip orca-test nat-output { type nat hook output priority -100 ; policy accept ; }"))
        #expect(s.has("add chain ip orca-test nat-postrouting { type nat hook postrouting priority 100 ; policy accept ; }"))
        for hook in ["prerouting", "input", "forward", "output"] {
            #expect(s.has("add chain ip orca-test filter-\(hook) { type filter hook \(hook) priority -110 ; policy accept ; }"))
        }
        #expect(s.rules(of: "services") == [
            "ip daddr . meta l4proto . th dport vmap @service-ips",
            "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports",
        ])
        #expect(s.rules(of: "filter-forward") == ["ct state new jump endpoints-check"])
        #expect(s.rules(of: "reject-chain") == ["meta l4proto tcp reject with tcp reset", "reject"])
        #expect(s.rules(of: "mark-for-masquerade") == ["meta mark set meta mark or 0x4000"])
        #expect(s.rules(of: "masquerading") == ["meta mark & 0x4000 == 0 return", "meta mark set meta mark xor 0x4000", "masquerade fully-random"])
        #expect(s.elements(of: "service-ips").isEmpty)
    }

    @Test func clusterIPLoadBalancesOverReadyEndpoints() {
        let n = O.Names("web")
        let (s, problems) = Self.build([O.service("web")], [O.slice("web", endpoints: [
            O.endpoint("10.42.1.6", node: "node-b"), O.endpoint("10.42.0.5"),
            O.endpoint("10.42.0.9", ready: false),  // not ready, not terminating: unused
        ])])
        #expect(problems.isEmpty)
        #expect(s.elements(of: "service-ips") == ["10.43.0.20 . tcp . 80 : goto \(n.service)"])
        #expect(s.rules(of: n.service) == [
            "ip daddr 10.43.0.20 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
            "numgen random mod 2 vmap { 0 : goto \(n.endpoint("10.42.0.5:8080")), 1 : goto \(n.endpoint("10.42.1.6:8080")) }",
        ])
        #expect(s.rules(of: n.endpoint("10.42.0.5:8080")) == [
            "ip saddr 10.42.0.5 jump mark-for-masquerade",
            "meta l4proto tcp dnat to 10.42.0.5:8080",
        ])
        #expect(!s.chain(n.endpoint("10.42.0.9:8080")))
        #expect(!s.chain(n.external))
        #expect(s.elements(of: "no-endpoint-services").isEmpty)
    }

    @Test func nodePortGoesThroughTheExternalChainAndMasquerades() {
        let n = O.Names("web")
        let (s, _) = Self.build([O.service("web", type: "NodePort", ports: [O.port(nodePort: 30080)])],
                                [O.slice("web", endpoints: [O.endpoint("10.42.0.5")])])
        #expect(s.elements(of: "service-nodeports") == ["tcp . 30080 : goto \(n.external)"])
        #expect(s.rules(of: n.external) == ["jump mark-for-masquerade", "goto \(n.service)"])
        #expect(s.elements(of: "service-ips") == ["10.43.0.20 . tcp . 80 : goto \(n.service)"])
    }

    @Test func externalAndLoadBalancerIPs() {
        let n = O.Names("web")
        var proxyMode = O.service("web", type: "LoadBalancer", ports: [O.port(nodePort: 30080)], configure: {
            $0.externalIPs = ["192.0.2.10", "2001:db8::1"]
            $0.loadBalancerSourceRanges = ["198.51.100.0/24", "203.0.113.7"]
        }, loadBalancerIPs: ["192.0.2.20"])
        proxyMode.status?.loadBalancer?.ingress?.append(LoadBalancerIngress(ip: "192.0.2.30", ipMode: "Proxy"))
        let (s, problems) = Self.build([proxyMode], [O.slice("web", endpoints: [O.endpoint("10.42.0.5")])])
        #expect(problems.isEmpty)
        #expect(s.elements(of: "service-ips") == [
            "10.43.0.20 . tcp . 80 : goto \(n.service)",
            "192.0.2.10 . tcp . 80 : goto \(n.external)",
            "192.0.2.20 . tcp . 80 : goto \(n.external)",
        ])
        #expect(s.elements(of: "service-nodeports") == ["tcp . 30080 : goto \(n.external)"])
        #expect(s.elements(of: "firewall-ips") == ["192.0.2.20 . tcp . 80 : goto \(n.firewall)"])
        #expect(s.rules(of: n.firewall) == ["ip saddr != { 198.51.100.0/24, 203.0.113.7/32 } drop"])
    }

    @Test func sourceRangesWithoutIPv4DropAllIPv4Sources() {
        let n = O.Names("web")
        let (s, _) = Self.build([O.service("web", type: "LoadBalancer", configure: { $0.loadBalancerSourceRanges = ["2001:db8::/64"] },
                                           loadBalancerIPs: ["192.0.2.20"])],
                                [O.slice("web", endpoints: [O.endpoint("10.42.0.5")])])
        #expect(s.rules(of: n.firewall) == ["drop"])
    }

    @Test(arguments: [(nil, 10800), (Int32(60), 60)] as [(Int32?, Int)])
    func clientIPAffinityUsesPerEndpointSets(timeout: Int32?, seconds: Int) {
        let n = O.Names("web")
        let (s, _) = Self.build([O.service("web", configure: {
            $0.sessionAffinity = "ClientIP"
            if let timeout { $0.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: timeout)) }
        })], [O.slice("web", endpoints: [O.endpoint("10.42.0.5"), O.endpoint("10.42.0.6")])])
        let a = "10.42.0.5:8080", b = "10.42.0.6:8080"
        for e in [a, b] {
            #expect(s.has("add set ip orca-test \(n.affinity(e)) { type ipv4_addr ; flags dynamic,timeout ; timeout \(seconds)s ; }"))
        }
        #expect(s.rules(of: n.service) == [
            "ip daddr 10.43.0.20 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
            "ip saddr @\(n.affinity(a)) goto \(n.endpoint(a))",
            "ip saddr @\(n.affinity(b)) goto \(n.endpoint(b))",
            "numgen random mod 2 vmap { 0 : goto \(n.endpoint(a)), 1 : goto \(n.endpoint(b)) }",
        ])
        #expect(s.rules(of: n.endpoint(a)) == [
            "ip saddr 10.42.0.5 jump mark-for-masquerade",
            "update @\(n.affinity(a)) { ip saddr }",
            "meta l4proto tcp dnat to 10.42.0.5:8080",
        ])
    }

    @Test func internalTrafficPolicyLocalUsesOnlyThisNodesEndpoints() {
        let n = O.Names("web")
        let local = O.service("web", configure: { $0.internalTrafficPolicy = "Local" })
        let (s, _) = Self.build([local], [O.slice("web", endpoints: [O.endpoint("10.42.0.5"), O.endpoint("10.42.1.6", node: "node-b")])])
        #expect(s.elements(of: "service-ips") == ["10.43.0.20 . tcp . 80 : goto \(n.local)"])
        #expect(s.rules(of: n.local).last == "numgen random mod 1 vmap { 0 : goto \(n.endpoint("10.42.0.5:8080")) }")
        #expect(!s.chain(n.service))
        #expect(!s.chain(n.endpoint("10.42.1.6:8080")))

        // Endpoints only elsewhere: ClusterIP traffic from this node is dropped (not rejected).
        let (none, _) = Self.build([local], [O.slice("web", endpoints: [O.endpoint("10.42.1.6", node: "node-b")])])
        #expect(none.elements(of: "service-ips").isEmpty)
        #expect(none.elements(of: "no-endpoint-services") == ["10.43.0.20 . tcp . 80 : drop"])
    }

    @Test func externalTrafficPolicyLocal() {
        let n = O.Names("web")
        let svc = O.service("web", type: "NodePort", ports: [O.port(nodePort: 30080)], configure: {
            $0.externalTrafficPolicy = "Local"
            $0.externalIPs = ["192.0.2.10"]
        })
        let (s, _) = Self.build([svc], [O.slice("web", endpoints: [O.endpoint("10.42.0.5"), O.endpoint("10.42.1.6", node: "node-b")])])
        // Pods and the node itself use every endpoint; outside traffic only local ones, not masqueraded.
        #expect(s.rules(of: n.external) == [
            "ip saddr 10.42.0.0/16 goto \(n.service)",
            "fib saddr type local jump mark-for-masquerade",
            "fib saddr type local goto \(n.service)",
            "goto \(n.local)",
        ])
        #expect(s.rules(of: n.local) == ["numgen random mod 1 vmap { 0 : goto \(n.endpoint("10.42.0.5:8080")) }"])
        #expect(s.rules(of: n.service).last == "numgen random mod 2 vmap { 0 : goto \(n.endpoint("10.42.0.5:8080")), 1 : goto \(n.endpoint("10.42.1.6:8080")) }")
        #expect(s.elements(of: "no-endpoint-nodeports").isEmpty)

        // No local endpoint: outside traffic is dropped, pod and node traffic still served.
        let (remote, _) = Self.build([svc], [O.slice("web", endpoints: [O.endpoint("10.42.1.6", node: "node-b")])])
        #expect(remote.rules(of: n.external) == [
            "ip saddr 10.42.0.0/16 goto \(n.service)",
            "fib saddr type local jump mark-for-masquerade",
            "fib saddr type local goto \(n.service)",
        ])
        #expect(remote.elements(of: "service-nodeports") == ["tcp . 30080 : goto \(n.external)"])
        #expect(remote.elements(of: "no-endpoint-nodeports") == ["tcp . 30080 : goto no-local-endpoints"])
        #expect(remote.elements(of: "no-endpoint-services") == ["192.0.2.10 . tcp . 80 : goto no-local-endpoints"])
        #expect(remote.rules(of: "no-local-endpoints") == ["fib saddr type local return", "drop"])
        #expect(!remote.chain(n.local))
    }

    @Test func noEndpointsRejects() {
        let n = O.Names("web")
        let svc = O.service("web", type: "LoadBalancer", ports: [O.port(nodePort: 30080)], configure: { $0.externalIPs = ["192.0.2.10"] },
                            loadBalancerIPs: ["192.0.2.20"])
        let (s, _) = Self.build([svc], [O.slice("web", endpoints: [])])
        #expect(s.elements(of: "no-endpoint-services") == [
            "10.43.0.20 . tcp . 80 : goto reject-chain",
            "192.0.2.10 . tcp . 80 : goto reject-chain",
            "192.0.2.20 . tcp . 80 : goto reject-chain",
        ])
        #expect(s.elements(of: "no-endpoint-nodeports") == ["tcp . 30080 : goto reject-chain"])
        #expect(s.elements(of: "service-ips").isEmpty && s.elements(of: "service-nodeports").isEmpty)
        #expect(!s.chain(n.service) && !s.chain(n.external))
    }

    @Test func terminatingServingEndpointsAreTheFallback() {
        let n = O.Names("web")
        let slice = O.slice("web", endpoints: [
            O.endpoint("10.42.0.5", ready: false, serving: true, terminating: true),
            O.endpoint("10.42.0.6", ready: false, serving: false, terminating: true),
        ])
        let (s, _) = Self.build([O.service("web")], [slice])
        #expect(s.rules(of: n.service).last == "numgen random mod 1 vmap { 0 : goto \(n.endpoint("10.42.0.5:8080")) }")

        // With a ready endpoint, terminating ones are not used.
        var withReady = slice
        withReady.endpoints?.append(O.endpoint("10.42.0.7"))
        let (r, _) = Self.build([O.service("web")], [withReady])
        #expect(r.rules(of: n.service).last == "numgen random mod 1 vmap { 0 : goto \(n.endpoint("10.42.0.7:8080")) }")

        // Nothing serving: rejected.
        let (none, _) = Self.build([O.service("web")], [O.slice("web", endpoints: [O.endpoint("10.42.0.6", ready: false, serving: false, terminating: true)])])
        #expect(none.elements(of: "no-endpoint-services") == ["10.43.0.20 . tcp . 80 : goto reject-chain"])
    }

    @Test func externalNameHeadlessAndIPv6OnlyGetNoRules() {
        let services = [
            O.service("ext", type: "ExternalName", clusterIP: nil, configure: { $0.externalName = "example.com" }),
            O.service("headless", clusterIP: "None"),
            O.service("v6", clusterIP: "fd00::10"),
        ]
        let slices = ["ext", "headless", "v6"].map { O.slice($0, endpoints: [O.endpoint("10.42.0.5")]) }
        let (s, problems) = Self.build(services, slices)
        #expect(problems.isEmpty)
        #expect(s.text == Self.build([]).0.text)
    }

    @Test func aBadServiceIsSkippedAndReported() {
        let good = O.service("good", clusterIP: "10.43.0.30")
        let badIP = O.service("bad-ip", clusterIP: "10.43.0.999")
        let badPort = O.service("bad-port", clusterIP: "10.43.0.31", ports: [O.port("zero", 0), O.port("sctp", 81, protocol: "SCTP"), O.port("odd", 82, protocol: "ICMP")])
        let (s, problems) = Self.build([good, badIP, badPort], [O.slice("good", endpoints: [O.endpoint("10.42.0.5")])])
        #expect(problems.map(\.subject) == ["default/bad-ip", "default/bad-port", "default/bad-port"])
        #expect(problems[0].message.contains("10.43.0.999"))
        #expect(problems[1].message.contains("port 0"))
        #expect(problems[2].message.contains("ICMP"))
        #expect(s.elements(of: "service-ips") == ["10.43.0.30 . tcp . 80 : goto \(O.Names("good").service)"])
        // The port that was fine still gets its rule (no endpoints here: rejected).
        #expect(s.elements(of: "no-endpoint-services") == ["10.43.0.31 . sctp . 81 : goto reject-chain"])
    }

    @Test func slicesMatchByLabelNamespacePortNameAndProtocol() {
        let n = O.Names("web", proto: "udp", port: "dns")
        let svc = O.service("web", ports: [O.port("dns", 53, protocol: "UDP")])
        let slices = [
            O.slice("web", "web-1", ports: [O.slicePort("dns", 5353, protocol: "UDP")], endpoints: [O.endpoint("10.42.0.5")]),
            O.slice("web", "web-2", ports: [O.slicePort("dns", 5353, protocol: "UDP")], endpoints: [O.endpoint("10.42.0.5"), O.endpoint("10.42.0.6")]),
            O.slice("web", "web-tcp", ports: [O.slicePort("dns", 5353, protocol: "TCP")], endpoints: [O.endpoint("10.42.0.7")]),
            O.slice("web", "web-other-name", ports: [O.slicePort("metrics", 9100, protocol: "UDP")], endpoints: [O.endpoint("10.42.0.8")]),
            O.slice("web", "web-elsewhere", namespace: "other", ports: [O.slicePort("dns", 5353, protocol: "UDP")], endpoints: [O.endpoint("10.42.0.9")]),
            O.slice("web", "web-v6", addressType: "IPv6", ports: [O.slicePort("dns", 5353, protocol: "UDP")], endpoints: [O.endpoint("fd00::5")]),
        ]
        let (s, _) = Self.build([svc], slices)
        #expect(s.rules(of: n.service).last == "numgen random mod 2 vmap { 0 : goto \(n.endpoint("10.42.0.5:5353")), 1 : goto \(n.endpoint("10.42.0.6:5353")) }")
        #expect(s.rules(of: n.endpoint("10.42.0.6:5353")).last == "meta l4proto udp dnat to 10.42.0.6:5353")
        #expect(s.elements(of: "service-ips") == ["10.43.0.20 . udp . 53 : goto \(n.service)"])
    }

    @Test func clusterDNSRedirectWinsOverAServiceOnItsAddress() {
        let rules = ServiceProxyRules(nodeName: "node-a", tableName: "orca-test",
                                      clusterDNS: .init(ip: "10.43.0.10", target: "10.42.0.1", port: 53))
        let dns = O.service("kube-dns", namespace: "kube-system", clusterIP: "10.43.0.10",
                            ports: [O.port("dns", 53, protocol: "UDP"), O.port("dns-tcp", 53, protocol: "TCP")])
        let (s, problems) = Self.build([dns], [], rules: rules)
        #expect(s.rules(of: "cluster-dns") == ["meta l4proto { tcp, udp } dnat to 10.42.0.1:53"])
        #expect(s.elements(of: "service-ips") == ["10.43.0.10 . tcp . 53 : goto cluster-dns", "10.43.0.10 . udp . 53 : goto cluster-dns"])
        #expect(s.elements(of: "no-endpoint-services").isEmpty)
        #expect(problems.isEmpty)

        let (taken, reported) = Self.build([dns], [O.slice("kube-dns", namespace: "kube-system",
                                                            ports: [O.slicePort("dns", 53, protocol: "UDP")], endpoints: [O.endpoint("10.42.0.5")])], rules: rules)
        #expect(taken.elements(of: "service-ips").count == 2)
        #expect(reported.map(\.description) == ["kube-system/kube-dns: 10.43.0.10 udp 53 is taken by the cluster DNS redirect"])

        let bad = ServiceProxyRules(nodeName: "n", tableName: "orca-test", clusterDNS: .init(ip: "10.43.0.10", target: "nowhere", port: 53))
        let (none, badProblems) = Self.build([], rules: bad)
        #expect(!none.chain("cluster-dns"))
        #expect(badProblems.map(\.subject) == ["cluster DNS"])
    }

    @Test func aClusterIPClaimedTwiceKeepsTheFirstService() {
        let (s, problems) = Self.build([O.service("b"), O.service("a")],
                                       [O.slice("a", endpoints: [O.endpoint("10.42.0.5")]), O.slice("b", endpoints: [O.endpoint("10.42.0.6")])])
        #expect(s.elements(of: "service-ips") == ["10.43.0.20 . tcp . 80 : goto \(O.Names("a").service)"])
        #expect(problems.map(\.description) == ["default/b: 10.43.0.20 tcp 80 is taken by another service"])
    }

    @Test func theScriptIsDeterministic() {
        let services = (0..<12).map { O.service("svc-\($0)", clusterIP: "10.43.1.\($0 + 1)", configure: { $0.sessionAffinity = $0.clusterIP!.hasSuffix("3") ? "ClientIP" : nil }) }
        let slices = (0..<12).map { i in O.slice("svc-\(i)", endpoints: (0..<4).map { O.endpoint("10.42.\(i).\($0 + 2)", node: $0 % 2 == 0 ? "node-a" : "node-b") }) }
        let first = Self.rules.build(services: services, slices: slices)
        for _ in 0..<5 {
            let again = Self.rules.build(services: services.shuffled(), slices: slices.map { var s = $0; s.endpoints?.shuffle(); return s }.shuffled())
            #expect(again == first)
        }
    }

    @Test func namesAreValidAndBounded() {
        let long = String(repeating: "a", count: 63)
        let (s, _) = Self.build([O.service(long, namespace: long, ports: [O.port(long, 80)])],
                                [O.slice(long, namespace: long, ports: [O.slicePort(long, 8080)], endpoints: [O.endpoint("10.42.0.5")])])
        let pattern = /^[A-Za-z_.][A-Za-z0-9_.\/-]*$/
        let declared = s.lines.filter { $0.hasPrefix("add chain ip orca-test ") || $0.hasPrefix("add set ip orca-test ") }
            .map { String($0.split(separator: " ")[4]) }
        #expect(declared.count > 10)
        for name in declared {
            #expect(name.count <= NFTName.maximumLength, "\(name)")
            #expect(name.wholeMatch(of: pattern) != nil, "\(name)")
        }
        #expect(NFTName.hashed(prefix: "service-", "a/b/tcp/x") != NFTName.hashed(prefix: "service-", "a/b/tcp/y"))
        #expect(NFTName.sanitized("ns/na me:ä") == "ns/na_me__")
        #expect(ServiceProxyRules(nodeName: "n", tableName: "9 bad name").tableName == "_9_bad_name")
        #expect(ServiceProxyRules(nodeName: "n", tableName: "").tableName == "orca-proxy")
        #expect(NFTName.base32(0, count: 8) == "AAAAAAAA")
        #expect(NFTName.base32(UInt64.max, count: 8) == "77777777")
        #expect(NFTName.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
    }

    @Test func nftOutputHelpers() {
        let listing = "table ip filter\ntable ip orca-proxy\ntable inet other\n"
        #expect(NFTables.tableNames(in: listing, family: .ip) == ["filter", "orca-proxy"])
        #expect(NFTables.isNoSuchObject("Error: Could not process rule: No such file or directory\ndelete table ip x"))
        #expect(NFTables(namespace: "ns1", nftPath: "/usr/sbin/nft", ipPath: "/usr/sbin/ip").command(["list", "tables"]).arguments
                == ["netns", "exec", "ns1", "/usr/sbin/nft", "list", "tables"])
    }

    // MARK: nft accepts every script (root only)

    static let scenarios: [(String, [Service], [EndpointSlice])] = [
        ("empty", [], []),
        ("cluster IP", [O.service("web")], [O.slice("web", endpoints: [O.endpoint("10.42.0.5"), O.endpoint("10.42.1.6", node: "node-b")])]),
        ("everything", [
            O.service("lb", type: "LoadBalancer", ports: [O.port(nodePort: 30080), O.port("dns", 53, nodePort: 30053, protocol: "UDP"), O.port("s", 90, protocol: "SCTP")],
                      configure: {
                          $0.externalIPs = ["192.0.2.10"]; $0.externalTrafficPolicy = "Local"; $0.internalTrafficPolicy = "Local"
                          $0.sessionAffinity = "ClientIP"; $0.loadBalancerSourceRanges = ["198.51.100.0/24"]
                      }, loadBalancerIPs: ["192.0.2.20"]),
            O.service("empty", clusterIP: "10.43.0.21", ports: [O.port(nodePort: 30081)], configure: { $0.type = "NodePort" }),
            O.service("remote", clusterIP: "10.43.0.22", ports: [O.port(nodePort: 30082)], configure: { $0.type = "NodePort"; $0.externalTrafficPolicy = "Local" }),
            O.service("bad", clusterIP: "x"),
        ], [
            O.slice("lb", ports: [O.slicePort(), O.slicePort("dns", 5353, protocol: "UDP"), O.slicePort("s", 9090, protocol: "SCTP")],
                    endpoints: [O.endpoint("10.42.0.5"), O.endpoint("10.42.1.6", node: "node-b")]),
            O.slice("remote", endpoints: [O.endpoint("10.42.1.7", node: "node-b")]),
        ]),
    ]

    @Test(.enabled(if: serviceProxyNFTAvailable, "needs root, nft and iproute2"), arguments: scenarios.indices)
    func nftAcceptsTheScript(_ index: Int) async throws {
        let (_, services, slices) = Self.scenarios[index]
        let rules = ServiceProxyRules(nodeName: "node-a", tableName: "orca-test",
                                      clusterDNS: .init(ip: "10.43.0.10", target: "10.42.0.1", port: 53))
        let script = rules.build(services: services, slices: slices).script
        try await withScratchNamespace("ospc") { ns in
            let nft = NFTables(namespace: ns)
            try await nft.check(script)
            try await nft.apply(script)
            try await nft.apply(script)  // a second apply replaces the table
            let listed = try #require(try await nft.listTable(name: "orca-test"))
            #expect(listed.contains("chain nat-prerouting"))
            #expect(try await nft.hasTable(name: "orca-test"))
        }
    }
}

/// Whether nft can be run for real here (root, nft, iproute2).
let serviceProxyNFTAvailable: Bool = getuid() == 0
    && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft")
    && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")

/// Runs `body` with a fresh network namespace `<prefix>-<random>`, deleted afterwards on every path.
func withScratchNamespace(_ prefix: String, _ body: (String) async throws -> Void) async throws {
    let ns = "\(prefix)-\(UUID().uuidString.lowercased().prefix(8))"
    try #require(networkTestRun("/usr/sbin/ip", ["netns", "add", ns]).code == 0)
    do {
        try await body(ns)
    } catch {
        networkTestRun("/usr/sbin/ip", ["netns", "del", ns])
        throw error
    }
    networkTestRun("/usr/sbin/ip", ["netns", "del", ns])
}
