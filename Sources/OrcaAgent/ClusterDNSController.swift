import Foundation
import Logging
import NIOCore
import OrcaClient
import OrcaNetwork

/// The cluster DNS on this node, in place of CoreDNS: a `ClusterDNSServer` on the pod
/// bridge's gateway address, port 53, answering from the node's Service and EndpointSlice
/// caches and forwarding other names to the host's resolvers. The service proxy sends the
/// cluster DNS address (`10.43.0.10:53`) here, so every node answers its own pods' queries (as
/// NodeLocal DNSCache does) and no query crosses nodes.
///
/// The records are rebuilt on every change of a Service or EndpointSlice, at most every
/// `minimumInterval`. The gateway address exists once the bridge does: `run()` makes the
/// bridge, and binds again after a failure, every `retryInterval`.
public struct ClusterDNSController: Sendable {
    let services: SharedInformer<Service>
    let endpointSlices: SharedInformer<EndpointSlice>
    let bridge: PodBridge
    let clusterDNS: String
    let zone: String
    let reverseCIDRs: [String]
    let port: Int
    let minimumInterval: Duration
    let retryInterval: Duration
    let logger = Logger(label: "orca.agent.dns")

    /// - Parameters:
    ///   - clusterDNS: the address pods resolve with; never forwarded to.
    ///   - reverseCIDRs: the pod and service networks (their unknown reverse names are NXDOMAIN).
    public init(services: SharedInformer<Service>, endpointSlices: SharedInformer<EndpointSlice>, bridge: PodBridge,
                clusterDNS: String, zone: String = "cluster.local", reverseCIDRs: [String] = [], port: Int = 53,
                minimumInterval: Duration = .milliseconds(100), retryInterval: Duration = .seconds(1)) {
        self.services = services
        self.endpointSlices = endpointSlices
        self.bridge = bridge
        self.clusterDNS = clusterDNS
        self.zone = zone
        self.reverseCIDRs = reverseCIDRs
        self.port = port
        self.minimumInterval = minimumInterval
        self.retryInterval = retryInterval
    }

    /// The address the server listens on (the bridge's gateway).
    public var listenAddress: String { bridge.gateway }

    /// The records of the caches now.
    func records() async -> ClusterDNSRecords {
        let zoneName = (try? DNSName(zone)) ?? ClusterDNSRecords.defaultZone
        return ClusterDNSRecords(services: await services.list(), endpointSlices: await endpointSlices.list(), zone: zoneName,
                                 reverseCIDRs: reverseCIDRs, nameserver: IPAddress(clusterDNS))
    }

    /// Serves until cancelled.
    public func run() async {
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await services.addEventHandler(InformerEventHandler(onAdd: { _ in signal.yield() }, onUpdate: { _, _ in signal.yield() },
                                                            onDelete: { _ in signal.yield() }))
        await endpointSlices.addEventHandler(InformerEventHandler(onAdd: { _ in signal.yield() }, onUpdate: { _, _ in signal.yield() },
                                                                  onDelete: { _ in signal.yield() }))
        await services.waitForSync()
        await endpointSlices.waitForSync()
        guard !Task.isCancelled else { return }
        let server = ClusterDNSServer(host: listenAddress, port: port,
                                      upstreams: ClusterDNSServer.hostUpstreams(excluding: [clusterDNS, listenAddress]),
                                      records: await records(), logger: logger)
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in signals {
                    server.update(await records())
                    try? await Task.sleep(for: minimumInterval)
                    if Task.isCancelled { return }
                }
            }
            group.addTask {
                var reported = false
                while !Task.isCancelled {
                    do {
                        try await bridge.ensure()
                        try await server.run()
                        return
                    } catch {
                        // Say it once; keep trying quietly (the bridge may come with the first pod).
                        if !reported { logger.warning("cluster DNS on \(listenAddress):\(port): \(error); retrying") }
                        reported = true
                    }
                    try? await Task.sleep(for: retryInterval)
                }
            }
        }
        signal.finish()
    }
}
