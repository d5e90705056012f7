import Foundation
import OrcaAPI
import OrcaCore
@testable import OrcaNetwork
import Testing

/// Whether the service proxy traffic tests can run: root, nft, iproute2, busybox (nc) and timeout.
let serviceProxyTrafficAvailable: Bool = serviceProxyNFTAvailable
    && FileManager.default.isExecutableFile(atPath: "/bin/busybox")
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout")

/// A throwaway "node": a network namespace with a bridge (10.42.7.1/24, hairpin on its ports as
/// the CNI bridge config sets it) and two "pod" namespaces on it (10.42.7.2 and .3), each running
/// `busybox nc` on port 8080 that answers `pod-a` / `pod-b`. The service CIDR is routed to a
/// neighbour nobody answers for, so traffic the rules do not take vanishes (it never leaves the
/// namespaces). Everything has a unique name and goes in `cleanUp()`.
final class ServiceProxyTestNode: @unchecked Sendable {
    static let gateway = "10.42.7.1"
    static let ipA = "10.42.7.2"
    static let ipB = "10.42.7.3"
    static let serverPort = 8080
    /// Where `startUDPServers()` answers.
    static let udpPort = 5353

    let node: String
    let podA: String
    let podB: String
    private var servers: [Process] = []

    init() {
        let token = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(8)
        node = "ospn-\(token)"
        podA = "ospa-\(token)"
        podB = "ospb-\(token)"
    }

    var nft: NFTables { NFTables(namespace: node) }

    func ip(_ arguments: [String]) throws {
        let r = networkTestRun("/usr/sbin/ip", arguments)
        try #require(r.code == 0, "ip \(arguments.joined(separator: " ")): \(r.output)")
    }

    func setUp() async throws {
        for ns in [node, podA, podB] {
            try ip(["netns", "add", ns])
            try ip(["-n", ns, "link", "set", "lo", "up"])
        }
        try ip(["-n", node, "link", "add", "br0", "type", "bridge"])
        try ip(["-n", node, "addr", "add", "\(Self.gateway)/24", "dev", "br0"])
        try ip(["-n", node, "link", "set", "br0", "up"])
        // The service CIDR goes to a MAC nobody has: what the rules do not DNAT or reject vanishes.
        try ip(["-n", node, "neigh", "add", "10.42.7.254", "lladdr", "02:00:00:00:00:fe", "dev", "br0", "nud", "permanent"])
        try ip(["-n", node, "route", "add", "10.43.0.0/16", "via", "10.42.7.254"])
        try await NodeRoutes(namespace: node).enableForwarding()
        try await BridgeNetfilter(namespace: node).enable()
        #expect(await BridgeNetfilter(namespace: node).isEnabled())

        for (pod, address, port) in [(podA, Self.ipA, "veth-a"), (podB, Self.ipB, "veth-b")] {
            try ip(["-n", node, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", pod])
            try ip(["-n", node, "link", "set", port, "master", "br0"])
            try ip(["-n", node, "link", "set", port, "type", "bridge_slave", "hairpin", "on"])
            try ip(["-n", node, "link", "set", port, "up"])
            try ip(["-n", pod, "addr", "add", "\(address)/24", "dev", "eth0"])
            try ip(["-n", pod, "link", "set", "eth0", "up"])
            try ip(["-n", pod, "route", "add", "default", "via", Self.gateway])
        }
        for (pod, name) in [(podA, "pod-a"), (podB, "pod-b")] {
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            server.arguments = ["netns", "exec", pod, "/bin/busybox", "nc", "-ll", "-p", "\(Self.serverPort)",
                                "-e", "/bin/busybox", "echo", name]
            server.standardInput = FileHandle.nullDevice
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            servers.append(server)
        }
        // Both servers answer directly (no rules involved yet).
        for (address, name) in [(Self.ipA, "pod-a"), (Self.ipB, "pod-b")] {
            var answer = ""
            for _ in 0..<100 where !answer.contains(name) {
                answer = connect(from: node, to: address, port: Self.serverPort).output
                if !answer.contains(name) { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(answer.contains(name), "server \(name) at \(address) never answered: \(answer)")
        }
    }

    /// Starts a UDP echo (python3) in each pod on `udpPort` that answers `pod-a` / `pod-b`, and waits
    /// until both answer directly.
    func startUDPServers() async throws {
        let code = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", int(sys.argv[2])))
            while True:
                _, peer = s.recvfrom(512)
                s.sendto(sys.argv[1].encode(), peer)
            """
        for (pod, name) in [(podA, "pod-a"), (podB, "pod-b")] {
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            server.arguments = ["netns", "exec", pod, "/usr/bin/python3", "-c", code, name, "\(Self.udpPort)"]
            server.standardInput = FileHandle.nullDevice
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            servers.append(server)
        }
        for (address, name) in [(Self.ipA, "pod-a"), (Self.ipB, "pod-b")] {
            var answer = ""
            for attempt in 0..<50 where answer != name {
                answer = udp(from: node, to: address, port: Self.udpPort, sourcePort: 41000 + attempt)
                if answer != name { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(answer == name, "UDP server \(name) at \(address) never answered: \(answer)")
        }
    }

    /// One datagram from `sourcePort` inside `ns` (python3); the answer, or the error, under `timeout`.
    func udp(from ns: String, to address: String, port: Int, sourcePort: Int) -> String {
        let code = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", int(sys.argv[3])))
            s.settimeout(2)
            s.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
            print(s.recvfrom(512)[0].decode())
            """
        let r = networkTestRun("/usr/bin/timeout", ["5", "/usr/sbin/ip", "netns", "exec", ns, "/usr/bin/python3", "-c", code,
                                                    address, "\(port)", "\(sourcePort)"])
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One TCP connection with `busybox nc` from inside `ns`; the answer (or nc's error), under `timeout`.
    func connect(from ns: String, to address: String, port: Int, seconds: Int = 5) -> (code: Int32, output: String) {
        let r = networkTestRun("/usr/bin/timeout", ["\(seconds)", "/usr/sbin/ip", "netns", "exec", ns, "/bin/busybox", "nc", address, "\(port)"])
        return (r.code, r.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func cleanUp() {
        // SIGKILL: a child started from a test thread may inherit a mask that blocks SIGTERM.
        for server in servers where server.isRunning {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        servers = []
        for ns in [podA, podB, node] { networkTestRun("/usr/sbin/ip", ["netns", "del", ns]) }
    }
}

/// The service proxy's rules on real traffic: a node namespace with a bridge and two pods
/// (root only; the rules, addresses and traffic stay inside the test's own namespaces).
@Suite(.serialized, .enabled(if: serviceProxyTrafficAvailable, "needs root, nft, iproute2, /bin/busybox and timeout"))
struct ServiceProxyIntegrationTests {
    typealias O = ProxyObjects
    static let table = "orca-proxy-test"
    static let rules = ServiceProxyRules(nodeName: "node-a", tableName: table, clusterCIDR: "10.42.0.0/16")

    /// `web` (10.43.0.20:80, node port 30080) → `webEndpoints`; `empty` (10.43.0.21:80) →
    /// `emptyEndpoints` (none by default); `self` (10.43.0.22:80) → pod A unless `withSelf` is false.
    static func build(webEndpoints: [String], affinity: Bool = false, emptyEndpoints: [String] = [], withSelf: Bool = true,
                      current: ServiceProxyRules.TableContents? = nil) -> ServiceProxyRules.Output {
        var services = [
            O.service("web", type: "NodePort", clusterIP: "10.43.0.20", ports: [O.port(nodePort: 30080)],
                      configure: { if affinity { $0.sessionAffinity = "ClientIP" } }),
            O.service("empty", clusterIP: "10.43.0.21"),
        ]
        var slices = [
            O.slice("web", endpoints: webEndpoints.map { O.endpoint($0) }),
            O.slice("empty", endpoints: emptyEndpoints.map { O.endpoint($0) }),
        ]
        if withSelf {
            services.append(O.service("self", clusterIP: "10.43.0.22"))
            slices.append(O.slice("self", endpoints: [O.endpoint(ServiceProxyTestNode.ipA)]))
        }
        let out = rules.build(services: services, slices: slices, current: current)
        #expect(out.problems.isEmpty)
        return out
    }

    static func script(webEndpoints: [String], affinity: Bool = false) -> String {
        build(webEndpoints: webEndpoints, affinity: affinity).script
    }

    static func withNode(_ body: (ServiceProxyTestNode) async throws -> Void) async throws {
        let node = ServiceProxyTestNode()
        do {
            try await node.setUp()
            try await body(node)
        } catch {
            node.cleanUp()
            throw error
        }
        node.cleanUp()
    }

    @Test func clusterIPNodePortHairpinAndRejection() async throws {
        try await Self.withNode { t in
            try await t.nft.apply(Self.script(webEndpoints: [ServiceProxyTestNode.ipB]))

            // ClusterIP from a pod (prerouting) and from the node itself (output).
            #expect(t.connect(from: t.podA, to: "10.43.0.20", port: 80).output == "pod-b")
            #expect(t.connect(from: t.node, to: "10.43.0.20", port: 80).output == "pod-b")
            // Node port on the node's address, from a pod and from the node.
            #expect(t.connect(from: t.podA, to: ServiceProxyTestNode.gateway, port: 30080).output == "pod-b")
            #expect(t.connect(from: t.node, to: ServiceProxyTestNode.gateway, port: 30080).output == "pod-b")
            // …but not on loopback.
            #expect(t.connect(from: t.node, to: "127.0.0.1", port: 30080).output != "pod-b")
            // Hairpin: pod A reaches itself through its service.
            #expect(t.connect(from: t.podA, to: "10.43.0.22", port: 80).output == "pod-a")

            // No endpoints: refused at once (without the rules it would hang until `timeout`).
            for from in [t.podA, t.node] {
                let refused = t.connect(from: from, to: "10.43.0.21", port: 80)
                #expect(refused.code != 124, "timed out instead of being refused")
                #expect(refused.output.contains("refused"), "\(refused.output)")
            }
        }
    }

    @Test func reapplyingSwitchesEndpointsAndARefusedScriptKeepsTheRules() async throws {
        try await Self.withNode { t in
            try await t.nft.apply(Self.script(webEndpoints: [ServiceProxyTestNode.ipB]))
            #expect(t.connect(from: t.podA, to: "10.43.0.20", port: 80).output == "pod-b")

            let toA = Self.script(webEndpoints: [ServiceProxyTestNode.ipA])
            try await t.nft.apply(toA)
            for _ in 0..<3 { #expect(t.connect(from: t.podB, to: "10.43.0.20", port: 80).output == "pod-a") }

            // A script nft refuses (its last rule names no chain) changes nothing.
            let broken = Self.script(webEndpoints: [ServiceProxyTestNode.ipB]) + "add rule ip \(Self.table) services goto no-such-chain\n"
            await #expect(throws: OrcaError.self) { try await t.nft.apply(broken) }
            #expect(t.connect(from: t.podB, to: "10.43.0.20", port: 80).output == "pod-a")
            let listing = try #require(try await t.nft.listTable(name: Self.table))
            #expect(listing.contains("dnat to \(ServiceProxyTestNode.ipA):8080"))
            #expect(!listing.contains("dnat to \(ServiceProxyTestNode.ipB):8080"))
        }
    }

    @Test func clientIPAffinityKeepsAClientOnOneEndpoint() async throws {
        try await Self.withNode { t in
            try await t.nft.apply(Self.script(webEndpoints: [ServiceProxyTestNode.ipA, ServiceProxyTestNode.ipB], affinity: true))
            let first = t.connect(from: t.node, to: "10.43.0.20", port: 80).output
            #expect(first == "pod-a" || first == "pod-b")
            for _ in 0..<8 { #expect(t.connect(from: t.node, to: "10.43.0.20", port: 80).output == first) }
        }
    }

    @Test func clientIPAffinitySurvivesAnUnrelatedChange() async throws {
        try await Self.withNode { t in
            let first = Self.build(webEndpoints: [ServiceProxyTestNode.ipA, ServiceProxyTestNode.ipB], affinity: true)
            try await t.nft.apply(first.script)
            let chosen = t.connect(from: t.node, to: "10.43.0.20", port: 80).output
            let ip = chosen == "pod-a" ? ServiceProxyTestNode.ipA : ServiceProxyTestNode.ipB
            let set = O.Names("web").affinity("\(ip):\(ServiceProxyTestNode.serverPort)")
            func remembered() -> String {
                networkTestRun("/usr/sbin/ip", ["netns", "exec", t.node, "/usr/sbin/nft", "list", "set", "ip", Self.table, set]).output
            }
            #expect(remembered().contains(ServiceProxyTestNode.gateway), "\(remembered())")

            // Other services change: `empty` gets an endpoint, `self` goes.
            let second = Self.build(webEndpoints: [ServiceProxyTestNode.ipA, ServiceProxyTestNode.ipB], affinity: true,
                                    emptyEndpoints: [ServiceProxyTestNode.ipB], withSelf: false, current: first.contents)
            try await t.nft.apply(second.script)
            #expect(remembered().contains(ServiceProxyTestNode.gateway), "\(remembered())")
            for _ in 0..<8 { #expect(t.connect(from: t.node, to: "10.43.0.20", port: 80).output == chosen) }
            #expect(t.connect(from: t.podA, to: "10.43.0.21", port: 80).output == "pod-b")
            // What went is gone from the table.
            let listing = try #require(try await t.nft.listTable(name: Self.table))
            #expect(!listing.contains(O.Names("self").service) && !listing.contains("10.43.0.22"))
            #expect(listing.contains("chain \(O.Names("empty").service)"))

            // Recreating the table (what an agent start does) forgets the client.
            try await t.nft.apply(Self.build(webEndpoints: [ServiceProxyTestNode.ipA, ServiceProxyTestNode.ipB], affinity: true).script)
            #expect(!remembered().contains(ServiceProxyTestNode.gateway), "\(remembered())")
        }
    }

    @Test func deletingTheTableRemovesTheRules() async throws {
        try await Self.withNode { t in
            try await t.nft.apply(Self.script(webEndpoints: [ServiceProxyTestNode.ipB]))
            #expect(t.connect(from: t.podA, to: "10.43.0.20", port: 80).output == "pod-b")
            #expect(try await t.nft.hasTable(name: Self.table))

            #expect(try await t.nft.deleteTable(name: Self.table))
            #expect(try await t.nft.hasTable(name: Self.table) == false)
            #expect(try await t.nft.listTable(name: Self.table) == nil)
            #expect(t.connect(from: t.podA, to: "10.43.0.20", port: 80, seconds: 2).output != "pod-b")
            // Deleting again is not an error.
            #expect(try await t.nft.deleteTable(name: Self.table) == false)
        }
    }
}
