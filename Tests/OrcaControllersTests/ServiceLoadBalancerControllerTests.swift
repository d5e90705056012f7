import Foundation
import OrcaClient
import OrcaControllers
import Testing

/// The service load balancer (k3s's ServiceLB): LoadBalancer Services get the Ready nodes'
/// addresses as ingress, kept current as nodes come and go.
@Suite struct ServiceLoadBalancerControllerTests {
    func node(_ c: ControllerTestCluster, _ name: String, internalIP: String, external: String? = nil, ready: Bool = true) -> Node {
        var n = c.readyNode(name)
        n.status?.conditions = [NodeCondition(status: ready ? "True" : "False", type: "Ready")]
        n.status?.addresses = [NodeAddress(address: internalIP, type: "InternalIP")] + (external.map { [NodeAddress(address: $0, type: "ExternalIP")] } ?? [])
        return n
    }

    func ingress(_ c: ControllerTestCluster, _ name: String) async throws -> [String] {
        try await c.client.get(Service.self, namespace: "default", name: name).status?.loadBalancer?.ingress?.compactMap(\.ip) ?? []
    }

    @Test func loadBalancersGetTheReadyNodesAddresses() async throws {
        let c = try await ControllerTestCluster()
        let a = node(c, "a", internalIP: "10.0.0.2")
        try await c.client.create(a)
        try await c.client.create(node(c, "b", internalIP: "10.0.0.3", external: "192.0.2.3"))
        try await c.client.create(node(c, "down", internalIP: "10.0.0.4", ready: false))
        let controller = await ServiceLoadBalancerController.controller(client: c.client, informers: c.informers, clock: c.clock)
        let run = Task { await ControllerManager(name: "test", informers: c.informers, runnables: [controller]).run() }
        defer { run.cancel() }
        let ports = [ServicePort(port: 80, protocol: "TCP")]
        try await c.client.create(Service(metadata: ObjectMeta(name: "lb", namespace: "default"),
                                          spec: ServiceSpec(ports: ports, selector: ["app": "web"], type: "LoadBalancer")))
        try await c.client.create(Service(metadata: ObjectMeta(name: "other", namespace: "default"),
                                          spec: ServiceSpec(loadBalancerClass: "example.com/lb", ports: ports, type: "LoadBalancer")))
        try await c.client.create(Service(metadata: ObjectMeta(name: "plain", namespace: "default"), spec: ServiceSpec(ports: ports)))
        #expect(try await eventually { try await ingress(c, "lb") == ["10.0.0.2", "192.0.2.3"] })
        // A node leaving takes its address away.
        try await c.client.delete(Node.self, namespace: nil, name: "a")
        #expect(try await eventually { try await ingress(c, "lb") == ["192.0.2.3"] })
        // Another class and other types are left alone.
        #expect(try await ingress(c, "other").isEmpty)
        #expect(try await ingress(c, "plain").isEmpty)
        // No longer a LoadBalancer: the ingress goes.
        try await c.client.mergePatch(Service.self, namespace: "default", name: "lb", patch: ["spec": ["type": "ClusterIP"]])
        #expect(try await eventually { try await ingress(c, "lb").isEmpty })
    }
}

extension ServiceLoadBalancerControllerTests {
    @Test func aPortHeldByAnOlderLoadBalancerOrReservedStaysPending() async throws {
        let c = try await ControllerTestCluster()
        try await c.client.create(node(c, "a", internalIP: "10.0.0.2"))
        let controller = await ServiceLoadBalancerController.controller(client: c.client, informers: c.informers, reservedPorts: [6443], clock: c.clock)
        let run = Task { await ControllerManager(name: "test", informers: c.informers, runnables: [controller]).run() }
        defer { run.cancel() }
        func lb(_ name: String, port: Int32) -> Service {
            Service(metadata: ObjectMeta(name: name, namespace: "default"),
                    spec: ServiceSpec(ports: [ServicePort(port: port, protocol: "TCP")], type: "LoadBalancer"))
        }
        try await c.client.create(lb("first", port: 80))
        #expect(try await eventually { try await ingress(c, "first") == ["10.0.0.2"] })
        c.clock.advance(by: .seconds(5))
        try await c.client.create(lb("second", port: 80))
        try await c.client.create(lb("api", port: 6443))
        try await c.client.create(lb("free", port: 81))
        #expect(try await eventually { try await ingress(c, "free") == ["10.0.0.2"] })
        #expect(try await ingress(c, "second").isEmpty)
        #expect(try await ingress(c, "api").isEmpty)
        // The older one goes: the port is the second's.
        try await c.client.delete(Service.self, namespace: "default", name: "first")
        #expect(try await eventually { try await ingress(c, "second") == ["10.0.0.2"] })
    }
}
