import Foundation
import OrcaClient
@testable import OrcaControllers
import Testing

/// The legacy Endpoints controller on an in-process registry.
@Suite struct EndpointsControllerTests {
    func start(_ f: EndpointTestFixture, capacity: Int = EndpointsController.maxCapacity, workers: Int = 5) async -> Task<Void, Never> {
        let controller = await EndpointsController.controller(client: f.c.client, informers: f.c.informers, clock: f.c.clock,
                                                              capacity: capacity, workers: workers)
        let manager = ControllerManager(name: "test", informers: f.c.informers, runnables: [controller])
        return Task { await manager.run() }
    }

    func endpoints(_ f: EndpointTestFixture, _ name: String) async throws -> Endpoints? {
        do {
            return try await f.c.client.get(Endpoints.self, namespace: "default", name: name)
        } catch let e as APIError where e.isNotFound {
            return nil
        }
    }

    /// Ready and not-ready IPs over all subsets.
    func ips(_ ep: Endpoints?) -> (ready: [String], notReady: [String]) {
        let subsets = ep?.subsets ?? []
        return (subsets.flatMap { ($0.addresses ?? []).compactMap(\.ip) }.sorted(),
                subsets.flatMap { ($0.notReadyAddresses ?? []).compactMap(\.ip) }.sorted())
    }

    @Test func subsetsListReadyAndNotReadyPodsButNotTerminatingOnes() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web", labels: ["team": "a"])
        try await f.pod("ready", ip: "10.42.0.10", hostname: "ready", subdomain: "web")
        try await f.pod("unready", ip: "10.42.0.11", ready: false)
        try await f.pod("leaving", ip: "10.42.0.12")
        try await f.deletePod("leaving", graceful: true)
        try await f.pod("failed", ip: "10.42.0.13", phase: "Failed")
        let run = await start(f)
        defer { run.cancel() }

        #expect(try await eventually {
            let got = ips(try await endpoints(f, "web"))
            return got.ready == ["10.42.0.10"] && got.notReady == ["10.42.0.11"]
        })
        let ep = try #require(try await endpoints(f, "web"))
        #expect(ep.metadata?.labels == ["team": "a", "endpoints.kubernetes.io/managed-by": "endpoint-controller"])
        let subset = try #require(ep.subsets?.first)
        #expect(ep.subsets?.count == 1)
        #expect(subset.ports == [EndpointPort(name: "http", port: 8080, protocol: "TCP")])
        let ready = try #require(subset.addresses?.first)
        #expect(ready.hostname == "ready" && ready.nodeName == "n1")
        #expect(ready.targetRef?.kind == "Pod" && ready.targetRef?.name == "ready" && ready.targetRef?.uid != nil)

        // Becoming ready moves the address over.
        try await f.setStatus("unready", ip: "10.42.0.11", ready: true)
        #expect(try await eventually {
            let got = ips(try await endpoints(f, "web"))
            return got.ready == ["10.42.0.10", "10.42.0.11"] && got.notReady.isEmpty
        })
    }

    @Test func publishNotReadyAddressesListsEveryPodAsReady() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web", clusterIP: "None", publishNotReady: true)
        try await f.pod("unready", ip: "10.42.0.11", ready: false)
        try await f.pod("leaving", ip: "10.42.0.12")
        try await f.deletePod("leaving", graceful: true)
        let run = await start(f)
        defer { run.cancel() }

        #expect(try await eventually {
            let got = ips(try await endpoints(f, "web"))
            return got.ready == ["10.42.0.11", "10.42.0.12"] && got.notReady.isEmpty
        })
        #expect(try await endpoints(f, "web")?.metadata?.labels?[WellKnownEndpointLabels.headlessService] == "")
    }

    @Test func podsResolvingPortsDifferentlyGetTheirOwnSubsets() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web", ports: [ServicePort(name: "web", port: 80, protocol: "TCP", targetPort: .string("http")),
                                           ServicePort(name: "metrics", port: 9100, protocol: "TCP", targetPort: .int(9100))])
        try await f.pod("a", ip: "10.42.0.10", ports: [ContainerPort(containerPort: 8080, name: "http")])
        try await f.pod("b", ip: "10.42.0.11", ports: [ContainerPort(containerPort: 8080, name: "http")])
        try await f.pod("c", ip: "10.42.0.12", ports: [ContainerPort(containerPort: 9090, name: "http")])
        let run = await start(f)
        defer { run.cancel() }

        // Subsets group ports by the exact set of addresses they reach (`RepackSubsets`).
        #expect(try await eventually { try await endpoints(f, "web")?.subsets?.count == 3 })
        let subsets = try #require(try await endpoints(f, "web")?.subsets)
        let byIPs = Dictionary(uniqueKeysWithValues: subsets.map { (($0.addresses ?? []).compactMap(\.ip), $0.ports ?? []) })
        #expect(byIPs[["10.42.0.10", "10.42.0.11", "10.42.0.12"]] == [EndpointPort(name: "metrics", port: 9100, protocol: "TCP")])
        #expect(byIPs[["10.42.0.10", "10.42.0.11"]] == [EndpointPort(name: "web", port: 8080, protocol: "TCP")])
        #expect(byIPs[["10.42.0.12"]] == [EndpointPort(name: "web", port: 9090, protocol: "TCP")])
    }

    @Test func addressesOverCapacityAreTruncatedAndAnnotated() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web")
        for i in 0..<5 { try await f.pod("p\(i)", ip: "10.42.0.\(10 + i)") }
        try await f.pod("slow", ip: "10.42.0.20", ready: false)
        let run = await start(f, capacity: 3)
        defer { run.cancel() }

        #expect(try await eventually {
            let ep = try await endpoints(f, "web")
            let got = ips(ep)
            return got.ready.count == 3 && got.notReady.isEmpty
                && ep?.metadata?.annotations?[WellKnownEndpointLabels.overCapacity] == "truncated"
        })
        // Back under capacity: everything listed, no annotation.
        for i in 0..<4 { try await f.deletePod("p\(i)") }
        #expect(try await eventually {
            let ep = try await endpoints(f, "web")
            let got = ips(ep)
            return got.ready == ["10.42.0.14"] && got.notReady == ["10.42.0.20"]
                && ep?.metadata?.annotations?[WellKnownEndpointLabels.overCapacity] == nil
        })
    }

    @Test func onlyManagedEndpointsAreDeleted() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web")
        try await f.service("external", selector: nil)
        try await f.pod("a", ip: "10.42.0.10")
        // A hand-written Endpoints of a selectorless Service.
        let manual = Endpoints(metadata: ObjectMeta(name: "external", namespace: "default"),
                               subsets: [EndpointSubset(addresses: [EndpointAddress(ip: "192.168.1.5")],
                                                        ports: [EndpointPort(name: "http", port: 80, protocol: "TCP")])])
        try await f.c.client.create(manual)
        let run = await start(f)
        defer { run.cancel() }

        #expect(try await eventually { ips(try await endpoints(f, "web")).ready == ["10.42.0.10"] })
        try await f.c.client.delete(Service.self, namespace: "default", name: "web")
        try await f.c.client.delete(Service.self, namespace: "default", name: "external")
        #expect(try await eventually { try await endpoints(f, "web") == nil })
        // The hand-written one outlives its Service: it is not the controller's.
        let kept = try await endpoints(f, "external")
        #expect(ips(kept).ready == ["192.168.1.5"])
    }

    @Test func unchangedEndpointsAreNotRewritten() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web")
        try await f.service("api", selector: ["app": "api"])
        try await f.pod("a", ip: "10.42.0.10")
        let run = await start(f, workers: 1)
        defer { run.cancel() }

        #expect(try await eventually { ips(try await endpoints(f, "web")).ready == ["10.42.0.10"] })
        #expect(try await eventually { try await endpoints(f, "api") != nil })
        let before = try await endpoints(f, "web")?.metadata?.resourceVersion
        // Syncs of "web" that change nothing: annotations on its pod and its Service.
        var pod = try await f.c.client.get(Pod.self, namespace: "default", name: "a")
        pod.metadata?.annotations = ["note": "x"]
        try await f.c.client.update(pod)
        var service = try await f.c.client.get(Service.self, namespace: "default", name: "web")
        service.metadata?.annotations = ["note": "y"]
        try await f.c.client.update(service)
        // Once the controller has seen them, a change elsewhere, synced after them by the one worker.
        let cached = await f.c.informers.informer(Service.self)
        #expect(await eventually { await cached.get(namespace: "default", name: "web")?.metadata?.annotations?["note"] != nil })
        try await f.pod("b", labels: ["app": "api"], ip: "10.42.0.11")
        #expect(try await eventually { ips(try await endpoints(f, "api")).ready == ["10.42.0.11"] })
        #expect(try await endpoints(f, "web")?.metadata?.resourceVersion == before)
    }

    @Test func packingMergesPortsThatReachTheSameAddresses() {
        var packed = PackedEndpointSubsets()
        let a = EndpointAddress(ip: "10.0.0.1", targetRef: ObjectReference(kind: "Pod", name: "a", uid: "ua"))
        let b = EndpointAddress(ip: "10.0.0.2", targetRef: ObjectReference(kind: "Pod", name: "b", uid: "ub"))
        let http = EndpointPort(name: "http", port: 80, protocol: "TCP")
        let dns = EndpointPort(name: "dns", port: 53, protocol: "UDP")
        packed.add(a, ready: true, port: http)
        packed.add(b, ready: false, port: http)
        packed.add(a, ready: true, port: dns)
        packed.add(b, ready: false, port: dns)
        let subsets = packed.subsets
        #expect(subsets.count == 1)
        #expect(subsets.first?.ports == [dns, http])
        #expect(subsets.first?.addresses?.map(\.ip) == ["10.0.0.1"] && subsets.first?.notReadyAddresses?.map(\.ip) == ["10.0.0.2"])
        // The same meaning written differently compares equal.
        let split = [EndpointSubset(addresses: [a], notReadyAddresses: [b], ports: [http]),
                     EndpointSubset(addresses: [a], notReadyAddresses: [b], ports: [dns])]
        #expect(PackedEndpointSubsets(split).subsets == subsets)
    }
}
