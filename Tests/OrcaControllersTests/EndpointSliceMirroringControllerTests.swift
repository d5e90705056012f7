import Foundation
import OrcaClient
@testable import OrcaControllers
import Testing

/// The EndpointSlice mirroring controller on an in-process registry.
@Suite struct EndpointSliceMirroringControllerTests {
    func start(_ f: EndpointTestFixture, withEndpointsController: Bool = false) async -> Task<Void, Never> {
        var runnables: [any Runnable] = [
            await EndpointSliceMirroringController.controller(client: f.c.client, informers: f.c.informers, clock: f.c.clock),
        ]
        if withEndpointsController {
            runnables.append(await EndpointsController.controller(client: f.c.client, informers: f.c.informers, clock: f.c.clock))
        }
        let manager = ControllerManager(name: "test", informers: f.c.informers, runnables: runnables)
        return Task { await manager.run() }
    }

    static let http = EndpointPort(name: "http", port: 8080, protocol: "TCP")

    /// A hand-written Endpoints for `name`.
    @discardableResult
    func endpoints(_ f: EndpointTestFixture, _ name: String, ready: [String], notReady: [String] = [],
                   labels: [String: String]? = nil, annotations: [String: String]? = nil) async throws -> Endpoints {
        let subset = EndpointSubset(addresses: ready.isEmpty ? nil : ready.map { EndpointAddress(ip: $0, nodeName: "n1") },
                                    notReadyAddresses: notReady.isEmpty ? nil : notReady.map { EndpointAddress(ip: $0) },
                                    ports: [Self.http])
        return try await f.c.client.create(Endpoints(metadata: ObjectMeta(annotations: annotations, labels: labels, name: name,
                                                                          namespace: "default"),
                                                     subsets: [subset]))
    }

    /// The slices this controller mirrored for `name`.
    func mirrored(_ f: EndpointTestFixture, _ name: String) async throws -> [EndpointSlice] {
        try await f.slices(name).filter { $0.managedBy == WellKnownEndpointLabels.endpointSliceMirroringController }
    }

    /// address → ready, over `slices`.
    func readiness(_ slices: [EndpointSlice]) -> [String: Bool] {
        var result: [String: Bool] = [:]
        for e in slices.flatMap({ $0.endpoints ?? [] }) { result[e.addresses?.first ?? ""] = e.conditions?.ready }
        return result
    }

    @Test func aSelectorlessServicesEndpointsAreMirrored() async throws {
        let f = try await EndpointTestFixture()
        try await f.service("db", selector: nil, ports: [ServicePort(name: "http", port: 80, protocol: "TCP")])
        let ep = try await endpoints(f, "db", ready: ["192.168.1.5", "192.168.1.6"], notReady: ["192.168.1.7"],
                                     labels: ["team": "a"],
                                     annotations: ["note": "kept", WellKnownEndpointLabels.lastChangeTriggerTime: "2024-01-01T00:00:00Z"])
        let run = await start(f)
        defer { run.cancel() }

        #expect(try await eventually {
            try await readiness(mirrored(f, "db")) == ["192.168.1.5": true, "192.168.1.6": true, "192.168.1.7": false]
        })
        let slices = try await mirrored(f, "db")
        try #require(slices.count == 1)
        let slice = slices[0]
        #expect(slice.addressType == "IPv4")
        #expect(slice.ports == [DiscoveryV1EndpointPort(name: "http", port: 8080, protocol: "TCP")])
        #expect(slice.metadata?.labels == ["team": "a", "kubernetes.io/service-name": "db",
                                           "endpointslice.kubernetes.io/managed-by": "endpointslicemirroring-controller.k8s.io"])
        #expect(slice.metadata?.annotations == ["note": "kept"])
        let owner = try #require(slice.metadata?.ownerReferences?.first)
        #expect(owner.kind == "Endpoints" && owner.name == "db" && owner.uid == ep.metadata?.uid && owner.controller == true)
        #expect(slice.endpoints?.first { $0.addresses == ["192.168.1.5"] }?.nodeName == "n1")

        // An edit is mirrored into the same slice.
        var edited = try await f.c.client.get(Endpoints.self, namespace: "default", name: "db")
        edited.subsets?[0].addresses = [EndpointAddress(ip: "192.168.1.8")]
        edited.subsets?[0].notReadyAddresses = nil
        try await f.c.client.update(edited)
        #expect(try await eventually { try await readiness(mirrored(f, "db")) == ["192.168.1.8": true] })
        #expect(try await mirrored(f, "db").map { $0.metadata?.name } == [slice.metadata?.name])
    }

    @Test func ipv4AndIPv6AddressesGoToSlicesOfTheirType() async throws {
        let f = try await EndpointTestFixture()
        try await f.service("db", selector: nil)
        try await endpoints(f, "db", ready: ["192.168.1.5", "fd00::5"])
        let run = await start(f)
        defer { run.cancel() }

        #expect(try await eventually { try await mirrored(f, "db").count == 2 })
        let byType = Dictionary(uniqueKeysWithValues: try await mirrored(f, "db").map { ($0.addressType ?? "", $0) })
        #expect(byType["IPv4"]?.endpoints?.map(\.addresses) == [["192.168.1.5"]])
        #expect(byType["IPv6"]?.endpoints?.map(\.addresses) == [["fd00::5"]])
    }

    @Test func skipMirrorAndSelectorsKeepEndpointsUnmirrored() async throws {
        let f = try await EndpointTestFixture()
        try await f.service("skipped", selector: nil)
        try await endpoints(f, "skipped", ready: ["192.168.1.5"], labels: [WellKnownEndpointLabels.skipMirror: "true"])
        try await f.service("orphan", selector: nil)
        try await f.c.client.delete(Service.self, namespace: "default", name: "orphan")
        try await endpoints(f, "orphan", ready: ["192.168.1.6"])
        try await f.service("db", selector: nil)
        try await endpoints(f, "db", ready: ["192.168.1.7"])
        let run = await start(f)
        defer { run.cancel() }

        #expect(try await eventually { try await mirrored(f, "db").count == 1 })
        #expect(try await mirrored(f, "skipped").isEmpty)
        #expect(try await mirrored(f, "orphan").isEmpty)

        // The Service gains a selector: the mirrored slices go.
        var service = try await f.c.client.get(Service.self, namespace: "default", name: "db")
        service.spec?.selector = ["app": "db"]
        try await f.c.client.update(service)
        #expect(try await eventually { try await mirrored(f, "db").isEmpty })
    }

    @Test func mirroredSlicesGoWithTheEndpointsOrTheService() async throws {
        let f = try await EndpointTestFixture()
        try await f.service("a", selector: nil)
        try await endpoints(f, "a", ready: ["192.168.1.5"])
        try await f.service("b", selector: nil)
        try await endpoints(f, "b", ready: ["192.168.1.6"])
        let run = await start(f)
        defer { run.cancel() }

        #expect(try await eventually {
            let (a, b) = (try await mirrored(f, "a"), try await mirrored(f, "b"))
            return a.count == 1 && b.count == 1
        })
        try await f.c.client.delete(Endpoints.self, namespace: "default", name: "a")
        try await f.c.client.delete(Service.self, namespace: "default", name: "b")
        #expect(try await eventually {
            let (a, b) = (try await mirrored(f, "a"), try await mirrored(f, "b"))
            return a.isEmpty && b.isEmpty
        })
    }

    @Test func endpointsOfTheEndpointsControllerAreNotMirrored() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web")
        try await f.pod("a", ip: "10.42.0.10")
        try await f.service("db", selector: nil)
        try await endpoints(f, "db", ready: ["192.168.1.7"])
        let run = await start(f, withEndpointsController: true)
        defer { run.cancel() }

        #expect(await eventually { (try? await f.c.client.get(Endpoints.self, namespace: "default", name: "web"))?.subsets?.count == 1 })
        #expect(try await eventually { try await mirrored(f, "db").count == 1 })
        #expect(try await mirrored(f, "web").isEmpty)
    }
}
