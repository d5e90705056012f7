import Foundation
import Logging
import NIOCore
import OrcaClient
import OrcaCore
import OrcaNetwork

/// The cluster DNS on this node, in place of CoreDNS: a `ClusterDNSServer` on the pod
/// bridge's gateway address, port 53, answering from the node's Service and EndpointSlice
/// caches and forwarding other names to the host's resolvers. The service proxy sends the
/// cluster DNS address (`10.43.0.10:53`) here, so every node answers its own pods' queries (as
/// NodeLocal DNSCache does) and no query crosses nodes.
///
/// The records are rebuilt on every change of a Service or EndpointSlice, at most every
/// `minimumInterval`, each time with a greater SOA serial. The host's resolvers are read from
/// `/etc/resolv.conf` again whenever it changes (checked every `resolvConfInterval`) and handed
/// to the running server. The gateway address exists once the bridge does: `run()` makes the
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
    let resolvConfPath: String
    let resolvConfInterval: Duration
    let clock: any WallClock
    let logger = Logger(label: "orca.agent.dns")

    /// - Parameters:
    ///   - clusterDNS: the address pods resolve with; never forwarded to.
    ///   - reverseCIDRs: the pod and service networks (their unknown reverse names are NXDOMAIN).
    ///   - serviceCIDR: the service network, added to `reverseCIDRs` when known.
    ///   - resolvConfPath: the host's resolver file, whose name servers are the upstreams.
    ///   - resolvConfInterval: how often that file is checked for changes (one `stat` each time).
    ///   - clock: the SOA serials are its Unix time (or one more than the last one).
    public init(services: SharedInformer<Service>, endpointSlices: SharedInformer<EndpointSlice>, bridge: PodBridge,
                clusterDNS: String, zone: String = "cluster.local", reverseCIDRs: [String] = [], serviceCIDR: String? = nil,
                port: Int = 53, minimumInterval: Duration = .milliseconds(100), retryInterval: Duration = .seconds(1),
                resolvConfPath: String = "/etc/resolv.conf", resolvConfInterval: Duration = .seconds(30),
                clock: any WallClock = SystemClock()) {
        self.services = services
        self.endpointSlices = endpointSlices
        self.bridge = bridge
        self.clusterDNS = clusterDNS
        self.zone = zone
        var networks = reverseCIDRs
        if let serviceCIDR, !serviceCIDR.isEmpty, !networks.contains(serviceCIDR) { networks.append(serviceCIDR) }
        self.reverseCIDRs = networks
        self.port = port
        self.minimumInterval = minimumInterval
        self.retryInterval = retryInterval
        self.resolvConfPath = resolvConfPath
        self.resolvConfInterval = resolvConfInterval
        self.clock = clock
    }

    /// The address the server listens on (the bridge's gateway).
    public var listenAddress: String { bridge.gateway }

    /// The records of the caches now, with SOA serial `serial`.
    func records(serial: UInt32) async -> ClusterDNSRecords {
        let zoneName = (try? DNSName(zone)) ?? ClusterDNSRecords.defaultZone
        return ClusterDNSRecords(services: await services.list(), endpointSlices: await endpointSlices.list(), zone: zoneName,
                                 reverseCIDRs: reverseCIDRs, nameserver: IPAddress(clusterDNS), serial: serial)
    }

    /// Serves until cancelled.
    public func run() async {
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        // Rebuilt only when what records are made of changed: the proxy's inputs are the same.
        await services.addEventHandler(InformerEventHandler(
            onAdd: { _ in signal.yield() },
            onUpdate: { old, new in if ServiceProxy.serviceChanged(old, new) { signal.yield() } },
            onDelete: { _ in signal.yield() }))
        await endpointSlices.addEventHandler(InformerEventHandler(
            onAdd: { _ in signal.yield() },
            onUpdate: { old, new in if ServiceProxy.sliceChanged(old, new) { signal.yield() } },
            onDelete: { _ in signal.yield() }))
        await services.waitForSync()
        await endpointSlices.waitForSync()
        guard !Task.isCancelled else { return }
        var resolvConf = ResolvConfWatcher(path: resolvConfPath, excluding: [clusterDNS, listenAddress])
        let upstreams = resolvConf.changedUpstreams() ?? []
        if upstreams.isEmpty { logger.warning("no upstream resolvers in \(resolvConfPath): names outside the cluster get SERVFAIL") }
        let firstSerial = ClusterDNSRecords.nextSerial(after: nil, now: clock.now)
        let server = ClusterDNSServer(host: listenAddress, port: port, upstreams: upstreams,
                                      records: await records(serial: firstSerial), logger: logger)
        await withDiscardingTaskGroup { [resolvConf] group in
            group.addTask {
                var serial = firstSerial
                for await _ in signals {
                    serial = ClusterDNSRecords.nextSerial(after: serial, now: clock.now)
                    server.update(await records(serial: serial))
                    try? await Task.sleep(for: minimumInterval)
                    if Task.isCancelled { return }
                }
            }
            group.addTask {
                var resolvConf = resolvConf
                while !Task.isCancelled {
                    do { try await clock.sleep(for: resolvConfInterval) } catch { return }
                    guard let upstreams = resolvConf.changedUpstreams(), upstreams != server.upstreams else { continue }
                    logger.info("upstream resolvers changed", metadata: ["upstreams": "\(upstreams)"])
                    server.update(upstreams: upstreams)
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
