import Foundation
import OrcaClient
@testable import OrcaControllers
import Testing

/// Pods, Services and Nodes on an in-process registry; the EndpointSlice controller's slices
/// read back through the API.
struct EndpointTestFixture {
    let c: ControllerTestCluster

    init() async throws {
        c = try await ControllerTestCluster()
    }

    /// A Ready node, optionally in a zone.
    func node(_ name: String, zone: String? = nil) async throws {
        var node = c.readyNode(name)
        if let zone { node.metadata?.labels?[WellKnownEndpointLabels.topologyZone] = zone }
        try await c.client.create(node)
    }

    /// Creates a Service in `default`.
    @discardableResult
    func service(_ name: String, selector: [String: String]? = ["app": "web"], ports: [ServicePort]? = nil,
                 clusterIP: String? = nil, publishNotReady: Bool? = nil, labels: [String: String]? = nil,
                 type: String? = nil, externalName: String? = nil) async throws -> Service {
        var spec = ServiceSpec()
        spec.selector = selector
        spec.ports = ports ?? [ServicePort(name: "http", port: 80, protocol: "TCP", targetPort: .int(8080))]
        spec.clusterIP = clusterIP
        spec.publishNotReadyAddresses = publishNotReady
        spec.type = type
        spec.externalName = externalName
        return try await c.client.create(Service(metadata: ObjectMeta(labels: labels, name: name, namespace: "default"), spec: spec))
    }

    /// Creates a pod bound to `node` and gives it a status: phase, IP and Ready condition.
    func pod(_ name: String, labels: [String: String] = ["app": "web"], node: String = "n1", ip: String?, ready: Bool = true,
             phase: String = "Running", ports: [ContainerPort]? = nil, hostname: String? = nil, subdomain: String? = nil) async throws {
        var pod = c.pod(name, labels: labels, node: node)
        pod.spec?.containers?[0].ports = ports
        pod.spec?.hostname = hostname
        pod.spec?.subdomain = subdomain
        try await c.client.create(pod)
        try await setStatus(name, ip: ip, ready: ready, phase: phase)
    }

    func setStatus(_ name: String, ip: String?, ready: Bool, phase: String = "Running") async throws {
        var pod = try await c.client.get(Pod.self, namespace: "default", name: name)
        var status = pod.status ?? PodStatus()
        status.phase = phase
        status.podIP = ip
        status.podIPs = ip.map { [PodIP(ip: $0)] }
        status.conditions = [PodCondition(status: ready ? "True" : "False", type: "Ready")]
        pod.status = status
        try await c.client.update(pod, subresource: "status")
    }

    /// Deletes a pod: at once, or gracefully (a bound pod then stays, terminating).
    func deletePod(_ name: String, graceful: Bool = false) async throws {
        var options = DeletionOptions()
        if !graceful { options.gracePeriodSeconds = 0 }
        try await c.client.delete(Pod.self, namespace: "default", name: name, options: options)
    }

    /// The EndpointSlices labelled for `service`.
    func slices(_ service: String) async throws -> [EndpointSlice] {
        try await c.client.list(EndpointSlice.self, namespace: "default",
                                selector: LabelMatcher(parsing: "\(WellKnownEndpointLabels.serviceName)=\(service)"))
    }

    /// Every endpoint of `service`'s slices, by target pod name.
    func endpoints(_ service: String) async throws -> [String: Endpoint] {
        var result: [String: Endpoint] = [:]
        for slice in try await slices(service) {
            for e in slice.endpoints ?? [] { result[e.targetRef?.name ?? ""] = e }
        }
        return result
    }

    /// The target pod names of all endpoints of `service`'s slices, duplicates kept, sorted.
    func endpointNames(_ service: String) async throws -> [String] {
        try await slices(service).flatMap { ($0.endpoints ?? []).map { $0.targetRef?.name ?? "" } }.sorted()
    }

    func start(maxEndpointsPerSlice: Int = EndpointSliceController.defaultMaxEndpointsPerSlice, workers: Int = 5) async -> Task<Void, Never> {
        let controller = await EndpointSliceController.controller(client: c.client, informers: c.informers, clock: c.clock,
                                                                  maxEndpointsPerSlice: maxEndpointsPerSlice, workers: workers)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [controller])
        return Task { await manager.run() }
    }
}

@Suite struct EndpointSliceControllerTests {
    @Test func readyNotReadyAndTerminatingPodsGetTheirConditions() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        let service = try await f.service("web", labels: ["team": "a", WellKnownEndpointLabels.managedBy: "someone"])
        try await f.pod("ready", ip: "10.42.0.10")
        try await f.pod("unready", ip: "10.42.0.11", ready: false)
        try await f.pod("leaving", ip: "10.42.0.12")
        try await f.deletePod("leaving", graceful: true)
        try await f.pod("no-ip", ip: nil)
        try await f.pod("done", ip: "10.42.0.13", phase: "Succeeded")
        try await f.pod("other", labels: ["app": "db"], ip: "10.42.0.14")
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually { try await f.endpointNames("web") == ["leaving", "ready", "unready"] })
        let slices = try await f.slices("web")
        try #require(slices.count == 1)
        let slice = slices[0]
        #expect(slice.addressType == "IPv4")
        #expect(slice.metadata?.generateName == "web-")
        #expect(slice.metadata?.name?.hasPrefix("web-") == true)
        #expect(slice.metadata?.labels == ["kubernetes.io/service-name": "web",
                                           "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io", "team": "a"])
        let owner = try #require(slice.metadata?.ownerReferences?.first)
        #expect(owner.kind == "Service" && owner.apiVersion == "v1" && owner.name == "web" && owner.uid == service.metadata?.uid)
        #expect(owner.controller == true && owner.blockOwnerDeletion == true)
        #expect(slice.ports == [DiscoveryV1EndpointPort(name: "http", port: 8080, protocol: "TCP")])
        let byName = try await f.endpoints("web")
        #expect(byName["ready"]?.conditions == EndpointConditions(ready: true, serving: true, terminating: false))
        #expect(byName["unready"]?.conditions == EndpointConditions(ready: false, serving: false, terminating: false))
        #expect(byName["leaving"]?.conditions == EndpointConditions(ready: false, serving: true, terminating: true))
        let ready = try #require(byName["ready"])
        #expect(ready.addresses == ["10.42.0.10"])
        #expect(ready.nodeName == "n1")
        #expect(ready.zone == nil)
        #expect(ready.hostname == nil)
        #expect(ready.targetRef?.kind == "Pod" && ready.targetRef?.namespace == "default" && ready.targetRef?.uid != nil)

        // Readiness flips are followed.
        try await f.setStatus("unready", ip: "10.42.0.11", ready: true)
        #expect(try await eventually { try await f.endpoints("web")["unready"]?.conditions?.ready == true })
        try await f.setStatus("ready", ip: "10.42.0.10", ready: false)
        #expect(try await eventually {
            try await f.endpoints("web")["ready"]?.conditions == EndpointConditions(ready: false, serving: false, terminating: false)
        })
    }

    @Test func publishNotReadyAddressesMarksEveryPodReady() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web", publishNotReady: true)
        try await f.pod("unready", ip: "10.42.0.11", ready: false)
        try await f.pod("leaving", ip: "10.42.0.12")
        try await f.deletePod("leaving", graceful: true)
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually { try await f.endpointNames("web") == ["leaving", "unready"] })
        let byName = try await f.endpoints("web")
        #expect(byName["unready"]?.conditions == EndpointConditions(ready: true, serving: false, terminating: false))
        #expect(byName["leaving"]?.conditions == EndpointConditions(ready: true, serving: true, terminating: true))
    }

    @Test func namedTargetPortsResolvePerPodIntoSeparateSlices() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web", ports: [ServicePort(name: "web", port: 80, protocol: "TCP", targetPort: .string("http"))])
        try await f.pod("old", ip: "10.42.0.10", ports: [ContainerPort(containerPort: 8080, name: "http", protocol: "TCP")])
        try await f.pod("new", ip: "10.42.0.11", ports: [ContainerPort(containerPort: 9090, name: "http")])
        // Its "http" port is UDP: the TCP service port does not resolve on it.
        try await f.pod("odd", ip: "10.42.0.12", ports: [ContainerPort(containerPort: 7070, name: "http", protocol: "UDP")])
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually { try await f.endpointNames("web") == ["new", "odd", "old"] })
        let slices = try await f.slices("web")
        #expect(slices.count == 3)
        func names(port: Int32?) -> [String] {
            slices.filter { $0.ports?.first?.port == port }.flatMap { ($0.endpoints ?? []).map { $0.targetRef?.name ?? "" } }
        }
        #expect(names(port: 8080) == ["old"])
        #expect(names(port: 9090) == ["new"])
        #expect(names(port: nil) == ["odd"])
        #expect(slices.first { $0.ports?.first?.port == 9090 }?.ports == [DiscoveryV1EndpointPort(name: "web", port: 9090, protocol: "TCP")])
    }

    @Test func manyPodsSplitIntoSlicesOfAtMostTheLimitAndScaleDown() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web")
        let all = (0..<150).map { String(format: "web-%03d", $0) }
        for (i, name) in all.enumerated() { try await f.pod(name, ip: "10.42.\(i / 200).\(i % 200 + 2)") }
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually(4000) { try await f.endpointNames("web") == all })
        let slices = try await f.slices("web")
        #expect(slices.count >= 2)
        #expect(slices.allSatisfy { ($0.endpoints?.count ?? 0) <= 100 })

        // Scale down to 30: the rest go, each survivor once.
        for name in all.dropFirst(30) { try await f.deletePod(name) }
        let kept = Array(all.prefix(30))
        #expect(try await eventually(4000) { try await f.endpointNames("web") == kept })
        #expect(try await f.slices("web").allSatisfy { !($0.endpoints ?? []).isEmpty })
    }

    @Test func aServiceWithoutEndpointsKeepsOneEmptyPlaceholderSlice() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web")
        try await f.service("idle", selector: ["app": "nothing"])
        try await f.pod("a", ip: "10.42.0.10")
        try await f.pod("b", ip: "10.42.0.11")
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually { try await f.slices("idle").count == 1 })
        let placeholder = try await f.slices("idle")[0]
        #expect((placeholder.endpoints ?? []).isEmpty && (placeholder.ports ?? []).isEmpty)
        #expect(placeholder.metadata?.labels?[WellKnownEndpointLabels.managedBy] == WellKnownEndpointLabels.endpointSliceController)

        #expect(try await eventually { try await f.endpointNames("web") == ["a", "b"] })
        let before = try await f.slices("web")[0]
        try await f.deletePod("a")
        try await f.deletePod("b")
        // The slice becomes the placeholder in place.
        #expect(try await eventually {
            let slices = try await f.slices("web")
            return slices.count == 1 && (slices[0].endpoints ?? []).isEmpty && (slices[0].ports ?? []).isEmpty
        })
        #expect(try await f.slices("web")[0].metadata?.name == before.metadata?.name)
    }

    @Test func hostnameIsPublishedWhenTheSubdomainNamesTheService() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web", clusterIP: "None", labels: ["team": "a"])
        try await f.pod("web-0", ip: "10.42.0.10", hostname: "web-0", subdomain: "web")
        try await f.pod("web-1", ip: "10.42.0.11", hostname: "web-1", subdomain: "elsewhere")
        try await f.pod("web-2", ip: "10.42.0.12", subdomain: "web")
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually { try await f.endpointNames("web").count == 3 })
        let byName = try await f.endpoints("web")
        #expect(byName["web-0"]?.hostname == "web-0")
        #expect(byName["web-1"]?.hostname == nil)
        #expect(byName["web-2"]?.hostname == nil)
        let labels = try await f.slices("web")[0].metadata?.labels
        #expect(labels?[WellKnownEndpointLabels.headlessService] == "")
        #expect(labels?["team"] == "a")
    }

    @Test func zoneComesFromTheNodeLabel() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1", zone: "zone-a")
        try await f.node("n2")
        try await f.service("web")
        try await f.pod("a", node: "n1", ip: "10.42.0.10")
        try await f.pod("b", node: "n2", ip: "10.42.1.10")
        // Its node is unknown: left out until the node appears.
        try await f.pod("c", node: "n3", ip: "10.42.2.10")
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually { try await f.endpointNames("web") == ["a", "b"] })
        var byName = try await f.endpoints("web")
        #expect(byName["a"]?.zone == "zone-a" && byName["a"]?.nodeName == "n1")
        #expect(byName["b"]?.zone == nil && byName["b"]?.nodeName == "n2")

        var n2 = try await f.c.client.get(Node.self, namespace: nil, name: "n2")
        n2.metadata?.labels?[WellKnownEndpointLabels.topologyZone] = "zone-b"
        try await f.c.client.update(n2)
        try await f.node("n3", zone: "zone-c")
        #expect(try await eventually {
            let e = try await f.endpoints("web")
            return e["b"]?.zone == "zone-b" && e["c"]?.zone == "zone-c"
        })
        byName = try await f.endpoints("web")
        #expect(byName["a"]?.zone == "zone-a")
    }

    @Test func slicesGoWhenTheServiceGoesOrLosesItsSelector() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web")
        try await f.service("api")
        try await f.service("dns", selector: nil)
        try await f.pod("a", ip: "10.42.0.10")
        // Someone else's slice for the same Service is never touched.
        try await f.c.client.create(EndpointSlice(addressType: "IPv4", endpoints: [], metadata: ObjectMeta(
            labels: [WellKnownEndpointLabels.serviceName: "web", WellKnownEndpointLabels.managedBy: "my-controller"],
            name: "web-manual", namespace: "default")))
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually {
            let (web, api) = (try await f.endpointNames("web"), try await f.endpointNames("api"))
            return web == ["a"] && api == ["a"]
        })
        #expect(try await f.slices("dns").isEmpty)

        try await f.c.client.delete(Service.self, namespace: "default", name: "web")
        var api = try await f.c.client.get(Service.self, namespace: "default", name: "api")
        api.spec?.selector = nil
        try await f.c.client.update(api)
        #expect(try await eventually {
            let (web, api) = (try await f.slices("web"), try await f.slices("api"))
            return web.map { $0.metadata?.name } == ["web-manual"] && api.isEmpty
        })
    }

    @Test func aPodMovesBetweenServicesWhenItsLabelsChange() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("blue", selector: ["color": "blue"])
        try await f.service("green", selector: ["color": "green"])
        try await f.pod("p", labels: ["color": "blue"], ip: "10.42.0.10")
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually {
            let (blue, green) = (try await f.endpointNames("blue"), try await f.endpointNames("green"))
            return blue == ["p"] && green.isEmpty
        })
        var pod = try await f.c.client.get(Pod.self, namespace: "default", name: "p")
        pod.metadata?.labels = ["color": "green"]
        try await f.c.client.update(pod)
        #expect(try await eventually {
            let (blue, green) = (try await f.endpointNames("blue"), try await f.endpointNames("green"))
            return blue.isEmpty && green == ["p"]
        })
    }

    @Test func badPodIPsAreLeftOutWithoutBlockingTheRest() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web")
        try await f.pod("good", ip: "10.42.0.10")
        try await f.pod("garbage", ip: "not-an-ip")
        try await f.pod("loopback", ip: "127.0.0.1")
        try await f.pod("v6", ip: "fd00::10")
        let run = await f.start()
        defer { run.cancel() }

        #expect(try await eventually { try await f.endpointNames("web") == ["good"] })
        #expect(try await f.slices("web").allSatisfy { $0.addressType == "IPv4" })
    }

    @Test func unchangedSlicesAreNotRewritten() async throws {
        let f = try await EndpointTestFixture()
        try await f.node("n1")
        try await f.service("web")
        try await f.service("api", selector: ["app": "api"])
        try await f.pod("a", ip: "10.42.0.10")
        let run = await f.start(workers: 1)
        defer { run.cancel() }

        #expect(try await eventually {
            let (web, api) = (try await f.endpointNames("web"), try await f.slices("api"))
            return web == ["a"] && api.count == 1
        })
        let before = try await f.slices("web")[0].metadata?.resourceVersion
        // Syncs of "web" that change nothing: an annotation on its Service and on its pod.
        var service = try await f.c.client.get(Service.self, namespace: "default", name: "web")
        service.metadata?.annotations = ["note": "x"]
        try await f.c.client.update(service)
        var pod = try await f.c.client.get(Pod.self, namespace: "default", name: "a")
        pod.metadata?.annotations = ["note": "y"]
        try await f.c.client.update(pod)
        // Once the controller has seen them, a change elsewhere, synced after them by the one worker.
        let cached = await f.c.informers.informer(Service.self)
        #expect(await eventually { await cached.get(namespace: "default", name: "web")?.metadata?.annotations?["note"] != nil })
        try await f.pod("b", labels: ["app": "api"], ip: "10.42.0.11")
        #expect(try await eventually { try await f.endpointNames("api") == ["b"] })
        #expect(try await f.slices("web")[0].metadata?.resourceVersion == before)
    }
}

/// The slice planner alone: which slices are written for which desired endpoints.
@Suite struct EndpointSlicePlannerTests {
    static let service = Service(metadata: ObjectMeta(name: "web", namespace: "default", uid: "svc-uid"),
                                 spec: ServiceSpec(clusterIP: "10.43.0.5", ipFamilies: ["IPv4"], selector: ["app": "web"]))
    static let ports = [DiscoveryV1EndpointPort(name: "http", port: 8080, protocol: "TCP")]

    func planner(max: Int = 3) -> EndpointSlicePlanner {
        EndpointSlicePlanner(service: Self.service, addressType: "IPv4", maxEndpointsPerSlice: max)
    }

    func endpoint(_ n: Int, ready: Bool = true) -> Endpoint {
        Endpoint(addresses: ["10.42.0.\(n)"], conditions: EndpointConditions(ready: ready, serving: ready, terminating: false),
                 targetRef: ObjectReference(kind: "Pod", name: "p\(n)", namespace: "default", uid: "uid-\(n)"))
    }

    func slice(_ name: String, _ endpoints: [Endpoint], ports: [DiscoveryV1EndpointPort] = ports, owner: String = "svc-uid") -> EndpointSlice {
        var ref = OwnerReference.controller(Self.service)
        ref.uid = owner
        return EndpointSlice(addressType: "IPv4", endpoints: endpoints,
                             metadata: ObjectMeta(labels: planner().labels, name: name, namespace: "default", ownerReferences: [ref],
                                                  resourceVersion: "7", uid: "uid-\(name)"),
                             ports: ports)
    }

    func desired(_ endpoints: [Endpoint], ports: [DiscoveryV1EndpointPort] = ports) -> [EndpointPortSet: DesiredEndpointGroup] {
        var group = DesiredEndpointGroup(ports: ports)
        for e in endpoints { group.insert(e) }
        return [EndpointPortSet(ports): group]
    }

    @Test func unchangedSlicesAreNotWritten() {
        let existing = [slice("a", [endpoint(1), endpoint(2), endpoint(3)]), slice("b", [endpoint(4)])]
        let plan = planner().plan(desired: desired((1...4).map { endpoint($0) }), existing: existing)
        #expect(plan.isEmpty)
    }

    @Test func endpointsStayInTheirSlicesAndNewOnesFillTheSlicesWrittenAnyway() {
        let existing = [slice("a", [endpoint(1), endpoint(2)]), slice("b", [endpoint(3), endpoint(4)])]
        // p2 turns not ready, p4 goes, p5 comes.
        let plan = planner().plan(desired: desired([endpoint(1), endpoint(2, ready: false), endpoint(3), endpoint(5)]), existing: existing)
        #expect(plan.create.isEmpty && plan.delete.isEmpty)
        let byName = Dictionary(uniqueKeysWithValues: plan.update.map { ($0.metadata?.name ?? "", $0) })
        #expect(byName["a"]?.endpoints?.map { $0.targetRef?.name } == ["p1", "p2", "p5"])
        #expect(byName["a"]?.endpoints?[1].conditions?.ready == false)
        #expect(byName["b"]?.endpoints?.map { $0.targetRef?.name } == ["p3"])
    }

    @Test func overflowGoesToNewSlicesOfAtMostTheLimit() {
        let plan = planner().plan(desired: desired((1...7).map { endpoint($0) }), existing: [])
        #expect(plan.update.isEmpty && plan.delete.isEmpty)
        #expect(plan.create.map { $0.endpoints?.count ?? 0 } == [3, 3, 1])
        let names = plan.create.flatMap { ($0.endpoints ?? []).compactMap { $0.targetRef?.name } }
        #expect(names.sorted() == (1...7).map { "p\($0)" })
        #expect(plan.create.allSatisfy { $0.metadata?.generateName == "web-" && $0.ports == Self.ports })
    }

    @Test func scalingToZeroTurnsASliceIntoThePlaceholder() {
        let plan = planner().plan(desired: [:], existing: [slice("a", [endpoint(1)]), slice("b", [endpoint(2)])])
        #expect(plan.create.isEmpty)
        #expect(plan.update.count == 1 && plan.delete.count == 1)
        let placeholder = plan.update[0]
        #expect((placeholder.endpoints ?? []).isEmpty && (placeholder.ports ?? []).isEmpty)
        #expect(placeholder.metadata?.name != nil && placeholder.metadata?.resourceVersion == "7")
        // And the placeholder, once there, stays as it is.
        let again = planner().plan(desired: [:], existing: [slice("a", [], ports: [])])
        #expect(again.isEmpty)
    }

    @Test func slicesOfAnEarlierServiceOfTheSameNameAreReplaced() {
        let plan = planner().plan(desired: desired([endpoint(1)]), existing: [slice("old", [endpoint(1)], owner: "old-uid")])
        #expect(plan.delete.map { $0.metadata?.name } == ["old"])
        #expect(plan.create.count == 1 && plan.create[0].metadata?.ownerReferences?.first?.uid == "svc-uid")
    }
}
