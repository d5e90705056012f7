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
public struct ServiceLoadBalancerController: Reconciler {
    let client: any APIClient
    let services: SharedInformer<Service>
    let nodes: SharedInformer<Node>
    let logger = Logger(label: "orca.controller.service-lb")

    /// Builds the controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<ServiceLoadBalancerController> {
        let services = await informers.informer(Service.self)
        let nodes = await informers.informer(Node.self)
        let queue = RateLimitingQueue(clock: clock)
        let reconciler = ServiceLoadBalancerController(client: client, services: services, nodes: nodes)
        await services.addEventHandler(InformerEventHandler(
            onAdd: { s in await queue.add(SharedInformer<Service>.key(s)) },
            onUpdate: { old, new in
                if old.spec != new.spec || old.status != new.status { await queue.add(SharedInformer<Service>.key(new)) }
            }))
        // A node joining, leaving or changing readiness or addresses changes every LoadBalancer's ingress.
        let requeueAll: @Sendable () async -> Void = {
            for s in await services.list() where s.spec?.type == "LoadBalancer" { await queue.add(SharedInformer<Service>.key(s)) }
        }
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

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let service = await services.get(key), let name = service.metadata?.name else { return .done }
        let isOurs = service.spec?.type == "LoadBalancer" && (service.spec?.loadBalancerClass ?? "").isEmpty
        let current = service.status?.loadBalancer?.ingress ?? []
        let desired = isOurs ? Self.ingress(await nodes.list()) : (service.spec?.type == "LoadBalancer" ? current : [])
        guard desired != current else { return .done }
        let ingress: JSONValue = .array(desired.map { i in ["ip": .string(i.ip ?? ""), "ipMode": .string(i.ipMode ?? "VIP")] })
        _ = try await client.mergePatch(Service.self, namespace: service.metadata?.namespace, name: name,
                                        patch: ["status": ["loadBalancer": ["ingress": desired.isEmpty ? .null : ingress]]],
                                        subresource: "status")
        logger.info("service \(key): load balancer ingress \(desired.compactMap(\.ip))")
        return .done
    }
}
