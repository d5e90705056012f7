import Foundation
import OrcaClient
import OrcaControllers
import Testing

/// The node IPAM controller on an in-process registry: every node gets its own /24 of the
/// cluster CIDR, lowest free first, and a restarted controller never hands one out twice.
@Suite struct NodeIPAMControllerTests {
    @Test func nodesGetDistinctSubnetsAndARestartKeepsThem() async throws {
        let c = try await ControllerTestCluster()
        // The server's own node registers with the first subnet already.
        try await c.client.create(Node(metadata: ObjectMeta(name: "server"), spec: NodeSpec(podCIDR: "10.42.0.0/24")))
        try await c.client.create(Node(metadata: ObjectMeta(name: "a")))
        try await c.client.create(Node(metadata: ObjectMeta(name: "b")))
        let first = await start(c, informers: c.informers)
        #expect(try await eventually { try await cidr(c, "a") != nil })
        #expect(try await eventually { try await cidr(c, "b") != nil })
        #expect(try await [cidr(c, "a"), cidr(c, "b")].compactMap { $0 }.sorted() == ["10.42.1.0/24", "10.42.2.0/24"])
        for name in ["server", "a", "b"] {
            let spec = try await c.client.get(Node.self, namespace: nil, name: name).spec
            #expect(spec?.podCIDRs == [spec?.podCIDR ?? ""], "\(name)")
        }
        first.cancel()

        // A new controller (fresh caches, fresh allocator) takes in what the nodes hold.
        let second = await start(c, informers: SharedInformerFactory(client: c.client, clock: c.clock))
        defer { second.cancel() }
        try await c.client.create(Node(metadata: ObjectMeta(name: "c")))
        #expect(try await eventually { try await cidr(c, "c") == "10.42.3.0/24" })
        #expect(try await cidr(c, "server") == "10.42.0.0/24")
    }

    @Test func aFullRangeIsReportedAndRetriedWhenASubnetIsFreed() async throws {
        let c = try await ControllerTestCluster()
        let run = await start(c, informers: c.informers, clusterCIDR: "10.42.0.0/23")
        defer { run.cancel() }
        try await c.client.create(Node(metadata: ObjectMeta(name: "x")))
        try await c.client.create(Node(metadata: ObjectMeta(name: "y")))
        #expect(try await eventually { try await cidr(c, "x") != nil })
        #expect(try await eventually { try await cidr(c, "y") != nil })
        try await c.client.create(Node(metadata: ObjectMeta(name: "z")))
        #expect(try await eventually {
            try await c.client.list(Event.self, namespace: "default").contains {
                $0.reason == "CIDRNotAvailable" && $0.message == "Node z status is now: CIDRNotAvailable" && $0.involvedObject?.name == "z"
            }
        })
        #expect(try await cidr(c, "z") == nil)
        let freed = try #require(try await cidr(c, "x"))
        try await c.client.delete(Node.self, namespace: nil, name: "x")
        #expect(try await eventually { try await cidr(c, "z") == freed })
    }

    @Test func theAllocatorHandsOutTheLowestFreeSubnetOncePerNode() throws {
        var allocator = try #require(CIDRAllocator(clusterCIDR: "10.42.0.0/16"))
        #expect(allocator.capacity == 256)
        let occupied = allocator.occupy("10.42.1.0/24", by: "existing")
        #expect(occupied)
        #expect(allocator.allocate(for: "n1") == "10.42.0.0/24")
        #expect(allocator.allocate(for: "n2") == "10.42.2.0/24")
        #expect(allocator.allocate(for: "n1") == "10.42.0.0/24", "a node asking again gets the same subnet")
        #expect(allocator.release(node: "n1") == "10.42.0.0/24")
        #expect(allocator.allocate(for: "n3") == "10.42.0.0/24")
        let narrow = allocator.occupy("10.42.5.128/25", by: "narrow")
        #expect(narrow, "a narrower CIDR takes its node subnet")
        #expect(allocator.subnet(of: "narrow") == "10.42.5.0/24")
        let outside = allocator.occupy("10.43.0.0/24", by: "outside")
        let wide = allocator.occupy("10.42.0.0/16", by: "wide")
        #expect(!outside && !wide, "only node subnets of the cluster CIDR are taken")
        #expect(allocator.allocatedCount == 4)

        var small = try #require(CIDRAllocator(clusterCIDR: "10.42.0.1/23"))
        #expect(small.allocate(for: "a") == "10.42.0.0/24" && small.allocate(for: "b") == "10.42.1.0/24")
        #expect(small.allocate(for: "c") == nil)
        #expect(CIDRAllocator(clusterCIDR: "10.42.0.0/25") == nil)
        #expect(CIDRAllocator(clusterCIDR: "fd00::/48") == nil)
    }

    // MARK: helpers

    func start(_ c: ControllerTestCluster, informers: SharedInformerFactory, clusterCIDR: String = "10.42.0.0/16") async -> Task<Void, Never> {
        let controller = await NodeIPAMController.controller(client: c.client, informers: informers, clock: c.clock, clusterCIDR: clusterCIDR)
        let manager = ControllerManager(name: "test", informers: informers, runnables: [controller])
        return Task { await manager.run() }
    }

    func cidr(_ c: ControllerTestCluster, _ name: String) async throws -> String? {
        try await c.client.get(Node.self, namespace: nil, name: name).spec?.podCIDR
    }
}
