import Foundation
import OrcaClient
import OrcaCore
import OrcaNetwork
import Synchronization
import Testing
@testable import OrcaAgent

/// A Node with an optional pod CIDR and addresses (`type: address`).
private func node(_ name: String, cidr: String? = nil, cidrs: [String]? = nil, _ addresses: [(String, String)] = [],
                  resourceVersion: String? = nil) -> Node {
    Node(metadata: ObjectMeta(name: name, resourceVersion: resourceVersion),
         spec: NodeSpec(podCIDR: cidr, podCIDRs: cidrs),
         status: NodeStatus(addresses: addresses.map { NodeAddress(address: $0.1, type: $0.0) }))
}

private func internalIP(_ ip: String) -> [(String, String)] { [("InternalIP", ip)] }

/// Which routes a node wants from the Node list: the pure part of `NodeRouteController`.
struct NodeRouteControllerTests {
    struct DesiredCase: Sendable, CustomTestStringConvertible {
        var name: String
        var nodes: [Node]
        var hostIPs: Set<String> = []
        var routes: [String]
        var testDescription: String { name }
    }

    static let me = node("me", cidr: "10.42.0.0/24", internalIP("192.168.1.10"))

    static let desiredCases: [DesiredCase] = [
        .init(name: "alone: nothing", nodes: [me], routes: []),
        .init(name: "own node skipped, others in name order",
              nodes: [node("c", cidr: "10.42.3.0/24", internalIP("192.168.1.13")), me,
                      node("b", cidr: "10.42.2.0/24", internalIP("192.168.1.12"))],
              routes: ["10.42.2.0/24 via 192.168.1.12", "10.42.3.0/24 via 192.168.1.13"]),
        .init(name: "no podCIDR or no InternalIP: skipped",
              nodes: [me, node("new", internalIP("192.168.1.20")),
                      node("ext", cidr: "10.42.4.0/24", [("ExternalIP", "203.0.113.4"), ("Hostname", "ext")]),
                      node("ok", cidr: "10.42.5.0/24", [("Hostname", "ok"), ("InternalIP", "192.168.1.15")])],
              routes: ["10.42.5.0/24 via 192.168.1.15"]),
        .init(name: "IPv6 InternalIP skipped, the first IPv4 one used",
              nodes: [me, node("v6", cidr: "10.42.6.0/24", [("InternalIP", "fd00::6")]),
                      node("dual", cidr: "10.42.7.0/24", [("InternalIP", "fd00::7"), ("InternalIP", "192.168.1.17"), ("InternalIP", "192.168.1.27")])],
              routes: ["10.42.7.0/24 via 192.168.1.17"]),
        .init(name: "podCIDRs used when podCIDR is IPv6 or missing; host bits cleared",
              nodes: [me, node("d", cidr: "fd00:42:1::/64", cidrs: ["fd00:42:1::/64", "10.42.8.0/24"], internalIP("192.168.1.18")),
                      node("e", cidrs: ["10.42.9.0/24"], internalIP("192.168.1.19")),
                      node("f", cidr: "10.42.10.7/24", internalIP("192.168.1.20"))],
              routes: ["10.42.8.0/24 via 192.168.1.18", "10.42.9.0/24 via 192.168.1.19", "10.42.10.0/24 via 192.168.1.20"]),
        .init(name: "other agents on this host (same InternalIP, given host IP, loopback) are local",
              nodes: [me, node("twin", cidr: "10.42.11.0/24", internalIP("192.168.1.10")),
                      node("hosted", cidr: "10.42.12.0/24", internalIP("192.168.1.99")),
                      node("lo", cidr: "10.42.13.0/24", internalIP("127.0.0.2")),
                      node("far", cidr: "10.42.14.0/24", internalIP("192.168.1.14"))],
              hostIPs: ["192.168.1.99"],
              routes: ["10.42.14.0/24 via 192.168.1.14"]),
        .init(name: "a CIDR overlapping this node's own is never routed away",
              nodes: [me, node("clash", cidr: "10.42.0.0/24", internalIP("192.168.1.30")),
                      node("wide", cidr: "10.42.0.0/16", internalIP("192.168.1.31"))],
              routes: []),
        .init(name: "own node not listed yet: the host IP still counts as local",
              nodes: [node("twin", cidr: "10.42.11.0/24", internalIP("192.168.1.10")),
                      node("far", cidr: "10.42.14.0/24", internalIP("192.168.1.14"))],
              hostIPs: ["192.168.1.10"],
              routes: ["10.42.14.0/24 via 192.168.1.14"]),
        .init(name: "a changed InternalIP changes the gateway",
              nodes: [me, node("b", cidr: "10.42.2.0/24", internalIP("192.168.1.112"))],
              routes: ["10.42.2.0/24 via 192.168.1.112"]),
    ]

    @Test(arguments: desiredCases)
    func desiredRoutes(_ c: DesiredCase) {
        let routes = NodeRouteController.desiredRoutes(nodes: c.nodes, nodeName: "me", hostIPs: c.hostIPs)
        #expect(routes.map(\.description) == c.routes)
    }

    @Test func twoNodesClaimingOneCIDR_theFirstNameWins() {
        let nodes = [Self.me, node("z", cidr: "10.42.2.0/24", internalIP("192.168.1.26")),
                     node("a", cidr: "10.42.2.0/24", internalIP("192.168.1.21"))]
        let desired = NodeRouteController.desiredRoutes(nodes: nodes, nodeName: "me")
        #expect(NodeRoutes.changes(desired: desired, current: []) == [.replace(NodeRoute(destination: "10.42.2.0/24", gateway: "192.168.1.21"))])
    }

    @Test(arguments: [
        ("heartbeat only", node("b", cidr: "10.42.2.0/24", internalIP("192.168.1.12"), resourceVersion: "9"), false),
        ("pod CIDR assigned", node("b", cidr: "10.42.3.0/24", internalIP("192.168.1.12")), true),
        ("InternalIP changed", node("b", cidr: "10.42.2.0/24", internalIP("192.168.1.13")), true),
        ("podCIDRs changed", node("b", cidr: "10.42.2.0/24", cidrs: ["10.42.2.0/24"], internalIP("192.168.1.12")), true),
    ])
    func updatesThatMatter(_ name: String, _ new: Node, _ changed: Bool) {
        let old = node("b", cidr: "10.42.2.0/24", internalIP("192.168.1.12"), resourceVersion: "8")
        #expect(NodeRouteController.routeInputsChanged(old, new) == changed, "\(name)")
    }
}

// MARK: integration

/// Runs a host command (no shell); exit code and combined output.
@discardableResult
private func hostRun(_ executable: String, _ arguments: [String]) -> (code: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// An API client serving only Nodes from memory: list, and watch from a revision (events after
/// it are replayed, so none is lost between list and watch). Tests change nodes with `apply`.
private final class NodeListWatchClient: StubAPIClient {
    struct Unsupported: Error {}
    struct State {
        var revision = 1
        var nodes: [String: JSONValue] = [:]
        var events: [(Int, APIWatchEvent)] = []
        var watchers: [Int: AsyncThrowingStream<APIWatchEvent, any Error>.Continuation] = [:]
        var nextWatcher = 0
    }
    let state = Mutex(State())
    let catalog = ResourceCatalog.standard

    init(_ nodes: [Node]) throws {
        for n in nodes { try apply("ADDED", n) }
    }

    /// Stores (or deletes) the node at a new revision and tells the watchers.
    func apply(_ type: String, _ node: Node) throws {
        var object = try JSONValue(encoding: node)
        state.withLock { s in
            s.revision += 1
            object[path: ["metadata"]]?["resourceVersion"] = .string("\(s.revision)")
            let name = node.metadata?.name ?? ""
            if type == "DELETED" { s.nodes[name] = nil } else { s.nodes[name] = object }
            let event = APIWatchEvent(type: type, object: object)
            s.events.append((s.revision, event))
            for w in s.watchers.values { w.yield(event) }
        }
    }

    func list(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> JSONValue {
        guard r.resource == "nodes" else { throw Unsupported() }
        return state.withLock { s in
            ["metadata": ["resourceVersion": .string("\(s.revision)")],
             "items": .array(s.nodes.keys.sorted().compactMap { s.nodes[$0] })]
        }
    }

    func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error> {
        guard r.resource == "nodes" else { throw Unsupported() }
        let (stream, continuation) = AsyncThrowingStream<APIWatchEvent, any Error>.makeStream()
        let from = Int(options.resourceVersion ?? "0") ?? 0
        let id = state.withLock { s in
            for (rv, event) in s.events where rv > from { continuation.yield(event) }
            s.nextWatcher += 1
            s.watchers[s.nextWatcher] = continuation
            return s.nextWatcher
        }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) } }
        return stream
    }

}

/// The controller against a real routing table in a private network namespace (root only).
@Suite(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip"), "needs root and iproute2"))
struct NodeRouteControllerNamespaceTests {
    /// Orca's routes (protocol 79) in `ns`, read with `ip`.
    static func kernelRoutes(_ ns: String) -> Set<String> {
        let out = hostRun("/usr/sbin/ip", ["-n", ns, "-4", "-j", "route", "show", "proto", "79"]).output
        let list = (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [[String: Any]] ?? []
        return Set(list.map { "\($0["dst"] as? String ?? "?") via \($0["gateway"] as? String ?? "")" })
    }

    /// Polls (bounded, 20 s) until the routes in `ns` are `expected`; true if they got there.
    static func eventually(_ ns: String, _ expected: Set<String>) async -> Bool {
        for _ in 0..<400 {
            if kernelRoutes(ns) == expected { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return kernelRoutes(ns) == expected
    }

    static func ip(_ ns: String, _ args: [String]) throws {
        let r = hostRun("/usr/sbin/ip", ["-n", ns] + args)
        try #require(r.code == 0, "ip -n \(ns) \(args.joined(separator: " ")): \(r.output)")
    }

    @Test func followsNodesAndRemovesItsRoutesWhenCancelled() async throws {
        let ns = "orca-rt-\(UUID().uuidString.lowercased().prefix(8))"
        try #require(hostRun("/usr/sbin/ip", ["netns", "add", ns]).code == 0)
        defer { hostRun("/usr/sbin/ip", ["netns", "del", ns]) }
        try Self.ip(ns, ["link", "add", "v0", "type", "veth", "peer", "name", "v1"])
        try Self.ip(ns, ["addr", "add", "10.99.0.1/24", "dev", "v0"])
        for dev in ["lo", "v0", "v1"] { try Self.ip(ns, ["link", "set", dev, "up"]) }

        let client = try NodeListWatchClient([
            node("me", cidr: "10.42.0.0/24", internalIP("10.99.0.1")),
            node("n1", cidr: "10.42.1.0/24", internalIP("10.99.0.2")),
            node("n2", internalIP("10.99.0.3")),
        ])
        let controller = NodeRouteController(client: client, nodeName: "me", hostIP: "10.99.0.1", routes: NodeRoutes(namespace: ns),
                                             resyncInterval: .milliseconds(300), minimumInterval: .milliseconds(20))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await controller.run() }
            #expect(await Self.eventually(ns, ["10.42.1.0/24 via 10.99.0.2"]))

            // n2 gets its pod CIDR; a node whose gateway the kernel refuses does not stop the others.
            try client.apply("MODIFIED", node("n2", cidr: "10.42.2.0/24", internalIP("10.99.0.3")))
            try client.apply("ADDED", node("far", cidr: "10.42.9.0/24", internalIP("10.98.0.9")))
            #expect(await Self.eventually(ns, ["10.42.1.0/24 via 10.99.0.2", "10.42.2.0/24 via 10.99.0.3"]))

            // n1 moves, n2 leaves.
            try client.apply("MODIFIED", node("n1", cidr: "10.42.1.0/24", internalIP("10.99.0.12")))
            try client.apply("DELETED", node("n2", cidr: "10.42.2.0/24", internalIP("10.99.0.3")))
            #expect(await Self.eventually(ns, ["10.42.1.0/24 via 10.99.0.12"]))

            // Removed behind its back: the periodic resync puts it back.
            try Self.ip(ns, ["route", "del", "10.42.1.0/24"])
            #expect(await Self.eventually(ns, ["10.42.1.0/24 via 10.99.0.12"]))

            group.cancelAll()
        }
        // run() returned only after removing every route it made.
        #expect(Self.kernelRoutes(ns).isEmpty)
    }
}
