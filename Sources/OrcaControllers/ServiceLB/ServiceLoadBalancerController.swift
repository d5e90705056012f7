import Foundation
import Logging
import OrcaClient

/// Gives LoadBalancer Services their address the way k3s's service load balancer (ServiceLB)
/// does on a cluster without a cloud: every node forwards the Service's ports, so
/// `status.loadBalancer.ingress` lists the nodes' addresses (ExternalIP when a node has one,
/// else InternalIP) of the Ready nodes, sorted. The node proxies then accept the Service's
/// port on those addresses, besides its node ports. A Service with a `loadBalancerClass` belongs
/// to another implementation and is left alone; a Service that stops being a LoadBalancer has
/// its ingress cleared.
///
/// As with ServiceLB, a node port can serve one Service: a LoadBalancer whose port and
/// protocol an older LoadBalancer holds, or whose port the nodes reserve (the API server's,
/// the kubelet's), stays pending (no ingress) until the port is free.
public struct ServiceLoadBalancerController: Reconciler {
    let client: any APIClient
    let services: SharedInformer<Service>
    let nodes: SharedInformer<Node>
    /// TCP ports the nodes' own servers use.
    let reservedPorts: Set<Int32>
    let logger = Logger(label: "orca.controller.service-lb")

    /// Builds the controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, reservedPorts: Set<Int32> = [6443, 10250],
                                  clock: any WallClock = SystemClock()) async -> Controller<ServiceLoadBalancerController> {
        let services = await informers.informer(Service.self)
        let nodes = await informers.informer(Node.self)
        let queue = RateLimitingQueue(clock: clock)
        let reconciler = ServiceLoadBalancerController(client: client, services: services, nodes: nodes, reservedPorts: reservedPorts)
        // A node joining, leaving or changing readiness or addresses changes every LoadBalancer's
        // ingress; a LoadBalancer going (or changing ports) may free a port another waits for.
        let requeueAll: @Sendable () async -> Void = {
            for s in await services.list() where s.spec?.type == "LoadBalancer" { await queue.add(SharedInformer<Service>.key(s)) }
        }
        await services.addEventHandler(InformerEventHandler(
            onAdd: { s in await queue.add(SharedInformer<Service>.key(s)) },
            onUpdate: { old, new in
                if old.spec != new.spec { await requeueAll() }
                if old.spec != new.spec || old.status != new.status { await queue.add(SharedInformer<Service>.key(new)) }
            },
            onDelete: { s in if s.spec?.type == "LoadBalancer" { await requeueAll() } }))
        await nodes.addEventHandler(InformerEventHandler(
            onAdd: { _ in await requeueAll() },
            onUpdate: { old, new in if addresses(old) != addresses(new) { await requeueAll() } },
            onDelete: { _ in await requeueAll() }))
        return Controller(name: "service-lb", queue: queue, reconciler: reconciler,
                          waitForSync: [{ await services.waitForSync() }, { await nodes.waitForSync() }])
    }

    /// The address a node offers LoadBalancers: nil unless it is Ready.
    static func addresses(_ node: Node) -> String? {
        let ready = node.status?.conditions?.first { $0.type == "Ready" }?.status == "True"
        guard ready else { return nil }
        let all = node.status?.addresses ?? []
        return (all.first { $0.type == "ExternalIP" } ?? all.first { $0.type == "InternalIP" })?.address
    }

    /// The ingress a LoadBalancer Service should have, given the nodes.
    static func ingress(_ nodes: [Node]) -> [LoadBalancerIngress] {
        Set(nodes.compactMap(addresses)).sorted().map { LoadBalancerIngress(ip: $0, ipMode: "VIP") }
    }

    /// Whether a LoadBalancer is served here (no other class).
    static func isOurs(_ service: Service) -> Bool {
        service.spec?.type == "LoadBalancer" && (service.spec?.loadBalancerClass ?? "").isEmpty
    }

    /// Why `service` cannot have its ports on the nodes (nil: it can): a reserved port, or a
    /// port and protocol an older LoadBalancer of ours holds.
    static func conflict(_ service: Service, among all: [Service], reserved: Set<Int32>) -> String? {
        func ports(_ s: Service) -> Set<String> {
            Set((s.spec?.ports ?? []).compactMap { p in p.port.map { "\($0)/\(p.protocol ?? "TCP")" } })
        }
        for p in service.spec?.ports ?? [] where (p.protocol ?? "TCP") == "TCP" {
            if let n = p.port, reserved.contains(n) { return "port \(n)/TCP is reserved on the nodes" }
        }
        func order(_ s: Service) -> (String, String) {
            (s.metadata?.creationTimestamp ?? "", "\(s.metadata?.namespace ?? "")/\(s.metadata?.name ?? "")")
        }
        let mine = ports(service)
        for other in all where isOurs(other) && order(other) < order(service) {
            if let taken = mine.intersection(ports(other)).sorted().first {
                return "port \(taken) is held by service \(other.metadata?.namespace ?? "")/\(other.metadata?.name ?? "")"
            }
        }
        return nil
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let service = await services.get(key), let name = service.metadata?.name else { return .done }
        let isOurs = Self.isOurs(service)
        let current = service.status?.loadBalancer?.ingress ?? []
        var desired = isOurs ? Self.ingress(await nodes.list()) : (service.spec?.type == "LoadBalancer" ? current : [])
        if isOurs, let why = Self.conflict(service, among: await services.list(), reserved: reservedPorts) {
            if !current.isEmpty || !desired.isEmpty { logger.info("service \(key) stays pending: \(why)") }
            desired = []
        }
        guard desired != current else { return .done }
        let ingress: JSONValue = .array(desired.map { i in ["ip": .string(i.ip ?? ""), "ipMode": .string(i.ipMode ?? "VIP")] })
        _ = try await client.mergePatch(Service.self, namespace: service.metadata?.namespace, name: name,
                                        patch: ["status": ["loadBalancer": ["ingress": desired.isEmpty ? .null : ingress]]],
                                        subresource: "status")
        logger.info("service \(key): load balancer ingress \(desired.compactMap(\.ip))")
        return .done
    }
}
