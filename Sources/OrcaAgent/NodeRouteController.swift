import Foundation
import Logging
import OrcaClient
import OrcaNetwork

/// Keeps this host's routes to the other nodes' pod CIDRs in step with the Nodes (flannel's
/// host-gw backend): for every other node with a pod CIDR and an InternalIP, `<podCIDR> via
/// <InternalIP>`, kept by `NodeRoutes` under route protocol 79.
///
/// Watches Nodes with a typed `SharedInformer<Node>`; once it has synced, makes sure the host
/// forwards IPv4 (and, once there is another node to route to, warns when the iptables `FORWARD`
/// policy would drop pod traffic), then resyncs the routes on every node add, delete and route-relevant update — at most once per
/// `minimumInterval`, changes in between coalesced — and every `resyncInterval` in case
/// something outside removed a route. When cancelled it removes every route it made.
public struct NodeRouteController: Sendable {
    /// This node: its own Node is never routed to.
    public let nodeName: String
    let client: any APIClient
    /// The address the agent registers with; nodes with it (other agents on this host) are not routed to.
    let hostIP: String?
    let routes: NodeRoutes
    let resyncInterval: Duration
    let minimumInterval: Duration
    let logger = Logger(label: "orca.agent.routes")

    /// Creates the controller of `nodeName`'s routes.
    public init(client: any APIClient, nodeName: String, hostIP: String? = nil, routes: NodeRoutes = NodeRoutes(),
                resyncInterval: Duration = .seconds(30), minimumInterval: Duration = .seconds(1)) {
        self.client = client
        self.nodeName = nodeName
        self.hostIP = hostIP
        self.routes = routes
        self.resyncInterval = resyncInterval
        self.minimumInterval = minimumInterval
    }

    // MARK: desired state (no I/O)

    /// The routes this node wants: one per other node with an IPv4 pod CIDR and InternalIP,
    /// in node-name order (so of two nodes claiming one CIDR the first name wins). Skipped:
    /// this node; nodes whose InternalIP is this host's (other agents here: their bridges are
    /// local) or a loopback address; CIDRs overlapping this node's own.
    public static func desiredRoutes(nodes: [Node], nodeName: String, hostIPs: Set<String> = []) -> [NodeRoute] {
        let own = nodes.first { $0.metadata?.name == nodeName }
        let local = hostIPs.union(own.map(internalIPs) ?? [])
        let ownCIDR = own.flatMap(podCIDR)
        var out: [NodeRoute] = []
        for node in nodes.sorted(by: { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }) {
            guard let name = node.metadata?.name, name != nodeName,
                  let cidr = podCIDR(of: node), let ip = internalIPs(of: node).first,
                  !local.contains(ip), !NodeRoute.isIPv4Loopback(ip),
                  ownCIDR.map({ !NodeRoute.ipv4CIDRsOverlap($0, cidr) }) ?? true,
                  let route = NodeRoute(podCIDR: cidr, nodeIP: ip)
            else { continue }
            out.append(route)
        }
        return out
    }

    /// The node's first IPv4 pod CIDR (`spec.podCIDR`, then `spec.podCIDRs`), canonical.
    static func podCIDR(of node: Node) -> String? {
        let candidates = [node.spec?.podCIDR].compactMap { $0 } + (node.spec?.podCIDRs ?? [])
        return candidates.lazy.compactMap(NodeRoute.canonicalIPv4CIDR).first
    }

    /// The node's IPv4 InternalIPs, in status order.
    static func internalIPs(of node: Node) -> [String] {
        (node.status?.addresses ?? []).compactMap { a in
            guard a.type == "InternalIP", let ip = a.address, NodeRoute.isIPv4Address(ip) else { return nil }
            return ip
        }
    }

    /// Whether an update touched what routes are made from (pod CIDRs or addresses); heartbeats do not.
    static func routeInputsChanged(_ old: Node, _ new: Node) -> Bool {
        old.spec?.podCIDR != new.spec?.podCIDR || old.spec?.podCIDRs != new.spec?.podCIDRs
            || old.status?.addresses != new.status?.addresses
    }

    // MARK: running

    /// Watches Nodes and keeps the routes until cancelled; then removes every route it made.
    public func run() async {
        let nodes = SharedInformer<Node>(client: client, resource: client.resource("nodes"))
        // One pending signal at most: changes during a resync or the pause after it coalesce.
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await nodes.addEventHandler(InformerEventHandler(
            onAdd: { _ in signal.yield() },
            onUpdate: { old, new in if Self.routeInputsChanged(old, new) { signal.yield() } },
            onDelete: { _ in signal.yield() }))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await nodes.run() }
            group.addTask { [resyncInterval] in
                while (try? await Task.sleep(for: resyncInterval)) != nil { signal.yield() }
            }
            group.addTask {
                await nodes.waitForSync()
                guard !Task.isCancelled else { return }
                await enableForwarding()
                signal.yield()
                var reported: Set<NodeRoutes.Failure> = []
                var policyChecked = false
                for await _ in signals {
                    let desired = Self.desiredRoutes(nodes: await nodes.list(), nodeName: nodeName, hostIPs: hostIP.map { [$0] } ?? [])
                    if !desired.isEmpty, !policyChecked {
                        policyChecked = true
                        await warnIfForwardingDropped()
                    }
                    reported = await resync(desired, reported: reported)
                    try? await Task.sleep(for: minimumInterval)
                    if Task.isCancelled { break }
                }
            }
        }
        signal.finish()
        // Cancelled: the routes go with the agent. Detached, so `ip` is not killed by our cancellation.
        let routes = self.routes, logger = self.logger
        await Task.detached {
            do {
                let result = try await routes.removeAll()
                for failure in result.failures { logger.warning("removing node route: \(failure)") }
                if !result.applied.isEmpty { logger.info("removed \(result.applied.count) node routes") }
            } catch {
                logger.warning("cannot remove node routes: \(error)")
            }
        }.value
    }

    /// Turns on IPv4 forwarding (pods on other nodes are reached through this host's routes).
    func enableForwarding() async {
        do { try await routes.enableForwarding() } catch {
            logger.warning("cannot enable IPv4 forwarding, pods on other nodes are unreachable: \(error)")
        }
    }

    /// Warns when the iptables `FORWARD` policy would drop routed pod traffic (checked once
    /// there are other nodes to route to).
    func warnIfForwardingDropped() async {
        if await routes.forwardPolicyDrops() {
            logger.warning("""
                the iptables FORWARD policy is DROP (Docker sets it): pod traffic between nodes may be dropped; \
                allow it with `iptables -I FORWARD -s 10.42.0.0/16 -j ACCEPT` and `iptables -I FORWARD -d 10.42.0.0/16 -j ACCEPT` \
                (or in the DOCKER-USER chain)
                """)
        }
    }

    /// One resync to `desired`; logs applied changes and the failures not reported last time.
    func resync(_ desired: [NodeRoute], reported: Set<NodeRoutes.Failure>) async -> Set<NodeRoutes.Failure> {
        do {
            let result = try await routes.sync(desired)
            for change in result.applied { logger.info("node route \(change)") }
            for failure in result.failures where !reported.contains(failure) {
                logger.warning("node route \(failure) (other nodes' routes are unaffected)")
            }
            return Set(result.failures)
        } catch {
            logger.warning("cannot list node routes: \(error)")
            return reported
        }
    }
}
