import Foundation
import OrcaCore
@testable import OrcaNetwork
import Testing

/// The pure parts of node routes: the diff, the `ip` arguments, parsing `ip -j` output, the
/// forwarding policy check and IPv4 CIDR handling.
struct NodeRoutesTests {
    typealias Change = NodeRoutes.Change

    static let a1 = NodeRoute(destination: "10.42.1.0/24", gateway: "192.168.1.11")
    static let a9 = NodeRoute(destination: "10.42.1.0/24", gateway: "192.168.1.99")
    static let b2 = NodeRoute(destination: "10.42.2.0/24", gateway: "192.168.1.12")
    static let b9 = NodeRoute(destination: "10.42.2.0/24", gateway: "192.168.1.99")
    static let c3 = NodeRoute(destination: "10.42.3.0/24", gateway: "192.168.1.13")
    static let d4 = NodeRoute(destination: "10.42.4.0/24", gateway: "192.168.1.14")
    static let noGateway = NodeRoute(destination: "10.42.5.0/24", gateway: "")

    struct DiffCase: Sendable, CustomTestStringConvertible {
        var name: String
        var desired: [NodeRoute]
        var current: [NodeRoute]
        var changes: [Change]
        var testDescription: String { name }
    }

    static let diffCases: [DiffCase] = [
        .init(name: "nothing wanted, nothing there", desired: [], current: [], changes: []),
        .init(name: "a new node is added", desired: [a1], current: [], changes: [.replace(a1)]),
        .init(name: "in step", desired: [a1, b2], current: [b2, a1], changes: []),
        .init(name: "a node gone is deleted", desired: [], current: [a1], changes: [.delete(a1)]),
        .init(name: "a changed InternalIP is one replace", desired: [a9], current: [a1], changes: [.replace(a9)]),
        .init(name: "mixed: stale deleted first, then changed and new replaced",
              desired: [c3, a1, b2], current: [a1, b9, d4], changes: [.delete(d4), .replace(b2), .replace(c3)]),
        .init(name: "one CIDR claimed twice: the first wins", desired: [a1, a9], current: [], changes: [.replace(a1)]),
        .init(name: "one CIDR claimed twice, already routed to the first", desired: [a1, a9], current: [a1], changes: []),
        .init(name: "an extra route to a wanted CIDR is deleted by gateway", desired: [a1], current: [a1, a9], changes: [.delete(a9)]),
        .init(name: "two wrong routes to a wanted CIDR: one replaced, one deleted",
              desired: [b2], current: [b9, NodeRoute(destination: "10.42.2.0/24", gateway: "192.168.1.98")],
              changes: [.delete(b9), .replace(b2)]),
        .init(name: "a route without gateway under our protocol is deleted", desired: [], current: [noGateway], changes: [.delete(noGateway)]),
        .init(name: "duplicates in the kernel listing count once", desired: [], current: [a1, a1], changes: [.delete(a1)]),
    ]

    @Test(arguments: diffCases)
    func diff(_ c: DiffCase) {
        #expect(NodeRoutes.changes(desired: c.desired, current: c.current) == c.changes)
    }

    @Test(arguments: [
        (nil, Change.replace(a1), ["-4", "route", "replace", "10.42.1.0/24", "via", "192.168.1.11", "proto", "79"]),
        (nil, Change.delete(a1), ["-4", "route", "del", "10.42.1.0/24", "via", "192.168.1.11", "proto", "79"]),
        (nil, Change.delete(noGateway), ["-4", "route", "del", "10.42.5.0/24", "proto", "79"]),
        ("orca-rt-x", Change.replace(b2), ["-n", "orca-rt-x", "-4", "route", "replace", "10.42.2.0/24", "via", "192.168.1.12", "proto", "79"]),
        ("orca-rt-x", Change.delete(b2), ["-n", "orca-rt-x", "-4", "route", "del", "10.42.2.0/24", "via", "192.168.1.12", "proto", "79"]),
    ] as [(String?, Change, [String])])
    func ipArguments(namespace: String?, change: Change, arguments: [String]) {
        #expect(NodeRoutes(namespace: namespace).arguments(for: change) == arguments)
    }

    @Test func listArgumentsFilterOnOurProtocol() {
        #expect(NodeRoutes().listArguments == ["-4", "-j", "route", "show", "proto", "79"])
        #expect(NodeRoutes(namespace: "n").listArguments == ["-n", "n", "-4", "-j", "route", "show", "proto", "79"])
    }

    @Test(arguments: [
        ("", []),
        ("[]\n", []),
        (#"[{"dst":"10.42.1.0/24","gateway":"10.99.0.2","dev":"v0","flags":[]},{"dst":"10.42.2.0/24","gateway":"10.99.0.3","dev":"v0","flags":[]}]"#,
         [NodeRoute(destination: "10.42.1.0/24", gateway: "10.99.0.2"), NodeRoute(destination: "10.42.2.0/24", gateway: "10.99.0.3")]),
        // A host route is printed without its /32; a route with no gateway keeps an empty one.
        (#"[{"type":"unicast","dst":"10.42.9.9","gateway":"10.99.0.2","scope":"global","flags":[]},{"type":"blackhole","dst":"10.42.8.0/24","flags":[]}]"#,
         [NodeRoute(destination: "10.42.9.9/32", gateway: "10.99.0.2"), NodeRoute(destination: "10.42.8.0/24", gateway: "")]),
        (#"[{"dst":"default","gateway":"10.99.0.254","flags":[]}]"#, [NodeRoute(destination: "0.0.0.0/0", gateway: "10.99.0.254")]),
    ] as [(String, [NodeRoute])])
    func parsesIPJSON(_ output: String, _ routes: [NodeRoute]) throws {
        #expect(try NodeRoutes.parseRoutes(json: Array(output.utf8)) == routes)
    }

    @Test func unparsableIPOutputThrows() {
        #expect(throws: OrcaError.self) { try NodeRoutes.parseRoutes(json: Array("10.42.1.0/24 via 1.2.3.4".utf8)) }
    }

    @Test(arguments: [
        ("-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n", false),
        ("-P FORWARD DROP\n-N DOCKER-USER\n-A FORWARD -j DOCKER-USER\n", true),
        ("-P FORWARD ACCEPT\n-A FORWARD -j DROP\n", false),
        ("", false),
    ])
    func forwardPolicy(_ rules: String, _ drops: Bool) {
        #expect(NodeRoutes.forwardPolicyDrops(rules: rules) == drops)
    }

    @Test(arguments: [
        ("10.42.1.0/24", "10.42.1.0/24"),
        ("10.42.1.7/24", "10.42.1.0/24"),
        ("10.42.0.0/16", "10.42.0.0/16"),
        ("10.42.1.5", "10.42.1.5/32"),
        ("10.42.1.5/32", "10.42.1.5/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("255.255.255.255/1", "128.0.0.0/1"),
        ("fd00:10:42::/64", nil),
        ("10.42.1.0/33", nil),
        ("10.42.1/24", nil),
        ("256.1.1.1/8", nil),
        ("01.2.3.4/8", nil),
        ("10.42.1.0/", nil),
        ("10.42.1.0/24/1", nil),
        ("", nil),
    ] as [(String, String?)])
    func canonicalCIDR(_ input: String, _ canonical: String?) {
        #expect(NodeRoute.canonicalIPv4CIDR(input) == canonical)
    }

    @Test(arguments: [
        ("10.42.0.0/24", "10.42.0.0/24", true),
        ("10.42.0.0/24", "10.42.1.0/24", false),
        ("10.42.0.0/16", "10.42.7.0/24", true),
        ("10.42.7.0/24", "10.42.0.0/16", true),
        ("10.42.0.0/24", "fd00::/64", false),
    ])
    func overlap(_ a: String, _ b: String, _ overlaps: Bool) {
        #expect(NodeRoute.ipv4CIDRsOverlap(a, b) == overlaps)
    }

    @Test func routeFromNodeFields() {
        #expect(NodeRoute(podCIDR: "10.42.3.9/24", nodeIP: "192.168.1.13") == Self.c3)
        #expect(NodeRoute(podCIDR: "fd00::/64", nodeIP: "192.168.1.13") == nil)
        #expect(NodeRoute(podCIDR: "10.42.3.0/24", nodeIP: "fd00::1") == nil)
        #expect(NodeRoute.isIPv4Loopback("127.0.0.2"))
        #expect(!NodeRoute.isIPv4Loopback("10.0.0.1"))
        #expect(Self.c3.description == "10.42.3.0/24 via 192.168.1.13")
    }
}

/// Whether the node-route integration test can run (root and iproute2).
let nodeRoutesIntegrationAvailable: Bool = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")

/// `NodeRoutes` against a real kernel routing table, in a private network namespace (root only).
@Suite(.enabled(if: nodeRoutesIntegrationAvailable, "needs root and iproute2"))
struct NodeRoutesNamespaceTests {
    /// Orca's routes in `ns` as the kernel lists them, read with `ip` (not with `NodeRoutes`).
    static func kernelRoutes(_ ns: String, proto: String = "79") -> Set<String> {
        let out = networkTestRun("/usr/sbin/ip", ["-n", ns, "-4", "-j", "route", "show", "proto", proto]).output
        let list = (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [[String: Any]] ?? []
        return Set(list.map { "\($0["dst"] as? String ?? "?") via \($0["gateway"] as? String ?? "")" })
    }

    static func ip(_ ns: String, _ args: [String]) throws {
        let r = networkTestRun("/usr/sbin/ip", ["-n", ns] + args)
        try #require(r.code == 0, "ip -n \(ns) \(args.joined(separator: " ")): \(r.output)")
    }

    @Test func syncAppliesTheDiffAndRemoveAllRemovesOnlyOurRoutes() async throws {
        let ns = "orca-rt-\(UUID().uuidString.lowercased().prefix(8))"
        try #require(networkTestRun("/usr/sbin/ip", ["netns", "add", ns]).code == 0)
        defer { networkTestRun("/usr/sbin/ip", ["netns", "del", ns]) }
        // A private namespace, so the addresses cannot clash with the host's.
        try Self.ip(ns, ["link", "add", "v0", "type", "veth", "peer", "name", "v1"])
        try Self.ip(ns, ["addr", "add", "10.99.0.1/24", "dev", "v0"])
        for dev in ["lo", "v0", "v1"] { try Self.ip(ns, ["link", "set", dev, "up"]) }
        // Somebody else's route (protocol static) to a pod-like CIDR: never touched.
        try Self.ip(ns, ["route", "add", "10.42.7.0/24", "via", "10.99.0.77", "proto", "static"])

        let routes = NodeRoutes(namespace: ns)
        if FileManager.default.isExecutableFile(atPath: "/usr/sbin/sysctl") {
            networkTestRun("/usr/sbin/ip", ["netns", "exec", ns, "/usr/sbin/sysctl", "-qw", "net.ipv4.ip_forward=0"])
        }
        try await routes.enableForwarding()
        let forwarding = networkTestRun("/usr/sbin/ip", ["netns", "exec", ns, "/usr/bin/cat", "/proc/sys/net/ipv4/ip_forward"])
        #expect(forwarding.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

        let n1 = NodeRoute(destination: "10.42.1.0/24", gateway: "10.99.0.2")
        let n2 = NodeRoute(destination: "10.42.2.0/24", gateway: "10.99.0.3")
        let n3 = NodeRoute(destination: "10.42.3.0/24", gateway: "10.99.0.4")
        let n1Moved = NodeRoute(destination: "10.42.1.0/24", gateway: "10.99.0.12")
        // Not on a connected subnet: the kernel refuses it, the others are made anyway.
        let unreachable = NodeRoute(destination: "10.42.9.0/24", gateway: "10.98.0.3")

        let first = try await routes.sync([n1, unreachable, n2])
        #expect(first.applied == [.replace(n1), .replace(n2)])
        #expect(first.failures.map(\.change) == [.replace(unreachable)])
        #expect(Self.kernelRoutes(ns) == ["10.42.1.0/24 via 10.99.0.2", "10.42.2.0/24 via 10.99.0.3"])
        #expect(try await routes.current().sorted() == [n1, n2])

        // In step: nothing to do.
        #expect(try await routes.sync([n1, n2]) == NodeRoutes.SyncResult())

        // n1's InternalIP changed, n2 left, n3 joined.
        let second = try await routes.sync([n1Moved, n3])
        #expect(second.applied == [.delete(n2), .replace(n1Moved), .replace(n3)])
        #expect(second.failures.isEmpty)
        #expect(Self.kernelRoutes(ns) == ["10.42.1.0/24 via 10.99.0.12", "10.42.3.0/24 via 10.99.0.4"])

        // Removed behind our back: the next sync puts it back.
        try Self.ip(ns, ["route", "del", "10.42.3.0/24"])
        #expect(try await routes.sync([n1Moved, n3]).applied == [.replace(n3)])

        let removed = try await routes.removeAll()
        #expect(removed.failures.isEmpty)
        #expect(Set(removed.applied) == [.delete(n1Moved), .delete(n3)])
        #expect(Self.kernelRoutes(ns).isEmpty)
        #expect(try await routes.current().isEmpty)
        #expect(Self.kernelRoutes(ns, proto: "static") == ["10.42.7.0/24 via 10.99.0.77"])
        #expect(try await routes.removeAll() == NodeRoutes.SyncResult())
    }

    @Test func forwardPolicyIsReadInTheNamespace() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables"))
        let ns = "orca-rt-\(UUID().uuidString.lowercased().prefix(8))"
        try #require(networkTestRun("/usr/sbin/ip", ["netns", "add", ns]).code == 0)
        defer { networkTestRun("/usr/sbin/ip", ["netns", "del", ns]) }
        let routes = NodeRoutes(namespace: ns)
        #expect(await !routes.forwardPolicyDrops())
        // As Docker does it (inside the throwaway namespace only).
        let set = networkTestRun("/usr/sbin/ip", ["netns", "exec", ns, "/usr/sbin/iptables", "-P", "FORWARD", "DROP"])
        try #require(set.code == 0, "\(set.output)")
        #expect(await routes.forwardPolicyDrops())
    }
}
