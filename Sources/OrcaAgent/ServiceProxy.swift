import Foundation
import Logging
import OrcaClient
import OrcaCore
import OrcaNetwork

/// This node's service proxy — kube-proxy in nftables mode: keeps one nftables table
/// (`ServiceProxyRules`) in step with the Services and EndpointSlices.
///
/// The caller creates and runs the two informers; this adds its event handlers and waits for
/// them to sync. Then it makes sure bridged pod traffic passes netfilter
/// (`net.bridge.bridge-nf-call-iptables=1`, loading `br_netfilter` if needed) and the host
/// forwards IPv4, and on every relevant add, update or delete — at most once per
/// `minimumInterval`, changes in between coalesced — builds the script and applies it with one
/// `nft -f` when the rules differ from the last ones applied. The first apply recreates the table
/// (an earlier run may have left anything in it); later ones update it in place, so ClientIP
/// affinity survives changes to other services, and — kube-proxy's partial syncs — send only what
/// differs from what the last apply wrote: a changed service costs its own chains and map
/// elements, not the whole table. Every `fullSyncInterval`, and after nft refused an update, the
/// next pass rewrites every chain and map instead (a full sync, which also repairs the table if
/// something outside changed it); a refused partial update is retried at once as a full one.
/// Every `resyncInterval` it rebuilds too, and restores the table if something outside removed
/// it. A script nft refuses is logged with nft's message; the previous rules stay in place and
/// the next signal retries. After each apply it
/// deletes the conntrack entries of UDP and SCTP flows the new rules would not make
/// (`DatagramServicePorts`), with the `conntrack` binary when there is one.
/// When cancelled it deletes its table.
public struct ServiceProxy: Sendable {
    /// This node: endpoints with this `nodeName` are local.
    public let nodeName: String
    let services: SharedInformer<Service>
    let slices: SharedInformer<EndpointSlice>
    let rules: ServiceProxyRules
    let nftables: NFTables
    let bridgeNetfilter: BridgeNetfilter
    let conntrack: Conntrack
    /// Only used to turn on IPv4 forwarding.
    let forwarding: NodeRoutes
    let resyncInterval: Duration
    let minimumInterval: Duration
    let fullSyncInterval: Duration
    let clock: any WallClock
    let logger = Logger(label: "orca.agent.proxy")

    /// Creates the proxy of `nodeName`, owning the `ip` table `tableName`.
    public init(services: SharedInformer<Service>, slices: SharedInformer<EndpointSlice>, nodeName: String,
                tableName: String = ServiceProxyRules.defaultTableName,
                clusterCIDR: String = ServiceProxyRules.defaultClusterCIDR,
                clusterDNS: ServiceProxyRules.ClusterDNSRedirect? = nil,
                nftables: NFTables = NFTables(), bridgeNetfilter: BridgeNetfilter = BridgeNetfilter(),
                conntrack: Conntrack = Conntrack(), forwarding: NodeRoutes = NodeRoutes(),
                minimumInterval: Duration = .seconds(1), resyncInterval: Duration = .seconds(30),
                fullSyncInterval: Duration = .seconds(3600), clock: any WallClock = SystemClock()) {
        self.services = services
        self.slices = slices
        self.nodeName = nodeName
        self.rules = ServiceProxyRules(nodeName: nodeName, tableName: tableName, clusterCIDR: clusterCIDR, clusterDNS: clusterDNS)
        self.nftables = nftables
        self.bridgeNetfilter = bridgeNetfilter
        self.conntrack = conntrack
        self.forwarding = forwarding
        self.minimumInterval = minimumInterval
        self.resyncInterval = resyncInterval
        self.fullSyncInterval = fullSyncInterval
        self.clock = clock
    }

    /// The table this proxy owns (as made a valid nft name).
    public var tableName: String { rules.tableName }

    // MARK: change filters (no I/O)

    /// Whether a Service update touched what rules are made from (spec, load balancer status).
    static func serviceChanged(_ old: Service, _ new: Service) -> Bool {
        old.spec != new.spec || old.status?.loadBalancer != new.status?.loadBalancer
    }

    /// Whether an EndpointSlice update touched what rules are made from.
    static func sliceChanged(_ old: EndpointSlice, _ new: EndpointSlice) -> Bool {
        let label = WellKnownEndpointLabels.serviceName
        return old.endpoints != new.endpoints || old.ports != new.ports || old.addressType != new.addressType
            || old.metadata?.labels?[label] != new.metadata?.labels?[label]
    }

    // MARK: running

    /// What the sync loop remembers between passes.
    struct SyncState: Sendable {
        /// The rules of the last script nft took.
        var applied: String?
        /// What the table holds since then; nil when unknown (before the first apply, or after the
        /// table vanished): the next script recreates the table.
        var contents: ServiceProxyRules.TableContents?
        /// When the last full sync or recreate was applied; nil before the first apply.
        var lastFullSync: Date?
        /// Whether the next update rewrites everything (after nft refused one).
        var needsFullSync = false
        /// The UDP and SCTP ports of the applied rules (none before the first apply, as kube-proxy
        /// starts: every UDP service with endpoints is then newly active).
        var datagramPorts = DatagramServicePorts()
        /// The rules of the last script nft refused, and its error (so a repeat is not logged again).
        var refused: String?
        var refusedMessage: String?
        /// Problems already logged.
        var reported: Set<ServiceProxyRules.Problem> = []
        /// Whether the missing conntrack binary, and a deferred chain deletion, were reported.
        var reportedNoConntrack = false
        var reportedDeferredDeletion = false
    }

    /// Keeps the rules until cancelled; then deletes the table.
    public func run() async {
        // One pending signal at most: changes during a sync or the pause after it coalesce.
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await services.addEventHandler(InformerEventHandler(
            onAdd: { _ in signal.yield() },
            onUpdate: { old, new in if Self.serviceChanged(old, new) { signal.yield() } },
            onDelete: { _ in signal.yield() }))
        await slices.addEventHandler(InformerEventHandler(
            onAdd: { _ in signal.yield() },
            onUpdate: { old, new in if Self.sliceChanged(old, new) { signal.yield() } },
            onDelete: { _ in signal.yield() }))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [resyncInterval] in
                while (try? await Task.sleep(for: resyncInterval)) != nil { signal.yield() }
            }
            group.addTask {
                await services.waitForSync()
                await slices.waitForSync()
                guard !Task.isCancelled else { return }
                await prepareHost()
                signal.yield()
                var state = SyncState()
                for await _ in signals {
                    if Task.isCancelled { break }
                    state = await sync(state)
                    try? await Task.sleep(for: minimumInterval)
                    if Task.isCancelled { break }
                }
            }
        }
        signal.finish()
        // Cancelled: the rules go with the agent. Detached, so `nft` is not killed by our cancellation.
        let nftables = self.nftables, table = tableName, logger = self.logger
        await Task.detached {
            do {
                if try await nftables.deleteTable(family: .ip, name: table) {
                    logger.info("removed the service proxy rules (nftables table ip \(table))")
                }
            } catch {
                logger.warning("cannot remove the service proxy rules: \(error)")
            }
        }.value
    }

    /// Turns on what service traffic needs from the host; warns about what it cannot.
    func prepareHost() async {
        do { try await bridgeNetfilter.enable() } catch {
            logger.warning("""
                cannot turn on net.bridge.bridge-nf-call-iptables (br_netfilter): a pod connecting to a service \
                whose endpoint is on the same node may get no reply: \(error)
                """)
        }
        do { try await forwarding.enableForwarding() } catch {
            logger.warning("cannot enable IPv4 forwarding, service traffic to other nodes' pods is dropped: \(error)")
        }
    }

    /// One pass: build the script from the informer caches, apply it if the rules changed (or if
    /// the table has gone, or a full sync is due), log new problems and refusals, clean up
    /// conntrack after an apply.
    func sync(_ previous: SyncState) async -> SyncState {
        var state = previous
        let (services, slices) = (await self.services.list(), await self.slices.list())
        let now = clock.now
        let fullSyncDue = state.needsFullSync
            || state.lastFullSync.map { now.timeIntervalSince($0) >= fullSyncInterval.timeInterval } ?? true
        var output = rules.build(services: services, slices: slices, current: state.contents, fullSync: fullSyncDue)
        for problem in output.problems where !state.reported.contains(problem) {
            logger.warning("service proxy skips \(problem) (other services are unaffected)")
        }
        state.reported = Set(output.problems)

        if output.rules == state.applied, output.contents == state.contents, !fullSyncDue {
            // Unchanged: only make sure nobody removed the table (e.g. `nft flush ruleset`).
            guard (try? await nftables.hasTable(family: .ip, name: tableName)) == false else { return state }
            logger.warning("nftables table ip \(tableName) has disappeared; restoring the service proxy rules")
            state.contents = nil
            output = rules.build(services: services, slices: slices, current: nil)
        }
        var contents = await apply(output, &state, reportingRefusal: output.sync != .partial)
        if contents == nil, output.sync == .partial {
            // The table is not what the last apply left (or nft refused the partial update):
            // rewrite everything, declaring every object, in the same pass.
            logger.debug("nft refused a partial update of the service proxy rules; retrying as a full sync")
            output = rules.build(services: services, slices: slices, current: state.contents, fullSync: true)
            contents = await apply(output, &state, reportingRefusal: true)
        }
        guard let contents else {
            state.needsFullSync = true
            return state
        }
        if state.applied == nil {
            logger.info("service proxy rules applied (nftables table ip \(tableName))")
        } else {
            logger.debug("service proxy rules updated (nftables table ip \(tableName), \(output.sync) sync)")
        }
        if output.sync != .partial {
            state.lastFullSync = now
            state.needsFullSync = false
        }
        state.applied = output.rules
        state.contents = contents
        state.refused = nil
        state.refusedMessage = nil
        await cleanUpConntrack(output.datagramPorts.staleFlows(since: state.datagramPorts), &state)
        state.datagramPorts = output.datagramPorts
        return state
    }

    /// Applies the script — or, when nft refuses it and it deletes chains, the same update with
    /// those chains only emptied — and returns what the table then holds; nil when nft took
    /// neither (logged when `reportingRefusal`), and the previous rules stay.
    func apply(_ output: ServiceProxyRules.Output, _ state: inout SyncState,
               reportingRefusal: Bool) async -> ServiceProxyRules.TableContents? {
        do {
            try await nftables.apply(output.script)
            return output.contents
        } catch {
            if let deferring = output.deferringChainDeletion, (try? await nftables.apply(deferring.script)) != nil {
                let level: Logger.Level = state.reportedDeferredDeletion ? .debug : .info
                logger.log(level: level, """
                    nft would not delete unused service chains in the transaction that unlinks them (an older \
                    kernel); they are emptied now and deleted by the next update: \(error)
                    """)
                state.reportedDeferredDeletion = true
                return deferring.contents
            }
            guard reportingRefusal else { return nil }
            let message = "\(error)"
            if output.rules != state.refused || message != state.refusedMessage {
                logger.error("""
                    nft refused the service proxy rules; the previous rules stay in place and the next change \
                    or resync retries: \(message)
                    """)
            }
            state.refused = output.rules
            state.refusedMessage = message
            return nil
        }
    }

    /// Deletes the conntrack entries `filters` match; failures are logged and skipped.
    func cleanUpConntrack(_ filters: [Conntrack.Filter], _ state: inout SyncState) async {
        guard !filters.isEmpty else { return }
        guard conntrack.isAvailable else {
            if !state.reportedNoConntrack {
                logger.warning("""
                    no conntrack binary (Debian package conntrack): UDP flows to removed service endpoints \
                    keep their old destination until they go quiet
                    """)
                state.reportedNoConntrack = true
            }
            return
        }
        for filter in filters {
            do {
                let deleted = try await conntrack.delete(filter)
                if deleted > 0 { logger.debug("deleted \(deleted) stale conntrack entries (\(filter))") }
            } catch {
                logger.warning("cannot delete stale conntrack entries: \(error)")
            }
        }
    }
}
