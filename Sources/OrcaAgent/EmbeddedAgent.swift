import Foundation
import Logging
import OrcaClient
import OrcaCore
import OrcaNetwork
import OrcaRuntime

/// The node agent: registers its Node, heartbeats, and runs the pods bound to it with
/// one serial worker per pod UID.
public struct EmbeddedAgent: Sendable {
    public let nodeName: String
    let client: any APIClient
    let kubeletServer: KubeletServer.Configuration?
    /// Sends the agent's events.
    let broadcaster: EventBroadcaster
    let reporter: NodeStatusReporter
    let syncer: PodSyncer
    let workers: PodWorkers
    /// The one writer of the pods' status.
    let statusManager: StatusManager
    let images: ImageStore
    /// Removes unused images when the disk fills up.
    let imageGC: ImageGarbageCollector
    /// Serves `kubectl logs` through the API server.
    public let logs: any PodStreamProvider
    /// The cluster's Services and EndpointSlices, as kube-proxy watches them: for the service
    /// proxy, the cluster DNS and the Service environment variables.
    let services: SharedInformer<Service>
    let endpointSlices: SharedInformer<EndpointSlice>
    let configuration: Configuration
    /// The node's pod CIDR (its bridge's subnet).
    let podCIDR: String
    let logger = Logger(label: "orca.agent")

    /// Configuration of the agent's directories and network.
    public struct Configuration: Sendable {
        public var dataDir: String
        public var nodeName: String
        public var hostIP: String
        /// The node's pod CIDR; nil: wait for the one the server's node IPAM gives it.
        public var podCIDR: String? = "10.42.0.0/24"
        /// Labels and taints the node registers with (`--node-label`, `--node-taint`).
        public var nodeLabels: [String: String] = [:]
        public var nodeTaints: [Taint] = []
        /// Whether this is the server's own node (`node-role.kubernetes.io/control-plane`).
        public var controlPlane = false
        /// The kubelet server (port 10250) and its serving certificate; nil: none.
        public var kubeletServer: KubeletServer.Configuration?
        public var bridgeName: String = "orca0"
        public var logRoot: String = "/var/log/pods"
        public var runDir: String = "/run/orca"
        /// The cgroup under which containers get theirs.
        public var cgroupRoot: String = "/orca"
        /// How registries are reached (plain-HTTP registries, mirrors).
        public var registries = RegistryConfiguration()
        /// The cluster DNS address pods resolve with (`--cluster-dns`); the node serves it.
        public var clusterDNS = "10.43.0.10"
        /// The cluster DNS domain.
        public var clusterDomain = "cluster.local"
        /// The cluster's pod network (traffic from outside it to a Service is masqueraded).
        public var clusterCIDR = "10.42.0.0/16"
        /// The Services' network (its unknown reverse names are the cluster DNS's NXDOMAIN).
        public var serviceCIDR = "10.43.0.0/16"
        /// Unsafe sysctls (names or `prefix*` patterns) pods may set besides the safe set
        /// (`--allowed-unsafe-sysctls`).
        public var allowedUnsafeSysctls: [String] = []

        /// The service proxy's nftables table: `orca-proxy`, or `orca-proxy-<bridge>` for an
        /// agent on another bridge (several agents in one network namespace, as in tests).
        public var proxyTableName: String { bridgeName == "orca0" ? "orca-proxy" : "orca-proxy-\(bridgeName)" }

        public init(dataDir: String, nodeName: String, hostIP: String) {
            self.dataDir = dataDir
            self.nodeName = nodeName
            self.hostIP = hostIP
        }
    }

    public static func make(client: any APIClient, configuration c: Configuration) async throws -> EmbeddedAgent {
        let clock: @Sendable () -> Date = { Date() }
        let sysctls = try SysctlAllowlist(allowingUnsafe: c.allowedUnsafeSysctls)
        // Pod data, logs (which may hold secrets) and namespace mounts are root's alone.
        for dir in [c.dataDir + "/pods", c.logRoot, c.runDir] { try PrivateFiles.directory(dir, mode: 0o700) }
        let images = try ImageStore(root: c.dataDir + "/images")
        let runtime = try RuncContainerRuntime(dataDirectory: c.dataDir + "/runtime")
        var registration = NodeStatusReporter.Registration(podCIDR: c.podCIDR, labels: c.nodeLabels, taints: c.nodeTaints,
                                                           controlPlane: c.controlPlane)
        registration.kubeletPort = c.kubeletServer?.port ?? 10250
        var reporter = NodeStatusReporter(client: client, nodeName: c.nodeName, hostIP: c.hostIP, registration: registration,
                                          images: { NodeStatusReporter.imageList(images) }, clock: clock)
        var net = PodNetwork.Configuration()
        net.bridgeName = c.bridgeName
        if let cidr = c.podCIDR {
            // Registered now, before the controllers start, so the node IPAM sees its CIDR taken.
            do { try await reporter.register() } catch { Logger(label: "orca.agent").warning("registering node \(c.nodeName): \(error)") }
            net.subnet = cidr
        } else {
            net.subnet = try await waitForPodCIDR(reporter)
            // Should the Node be deleted and registered again, it asks for the CIDR its bridge uses.
            registration.podCIDR = net.subnet
            reporter = NodeStatusReporter(client: client, nodeName: c.nodeName, hostIP: c.hostIP, registration: registration,
                                          images: { NodeStatusReporter.imageList(images) }, clock: clock)
        }
        net.dataDirectory = c.dataDir
        net.runDirectory = c.runDir
        let network = PodNetwork(configuration: net)
        let paths = AgentPaths(podsRoot: c.dataDir + "/pods", logRoot: c.logRoot, cgroupRoot: c.cgroupRoot)
        let services = SharedInformer<Service>(client: client, resource: client.resource("services"))
        let endpointSlices = SharedInformer<EndpointSlice>(client: client, resource: client.resource("endpointslices", group: "discovery.k8s.io"))
        let env = EnvironmentResolver(client: client, services: services)
        // Pod workers never wait for an event to be written: a broadcaster task sends them.
        let broadcaster = EventBroadcaster()
        let events = EventRecorder(client: client, component: "kubelet", host: c.nodeName, clock: clock, broadcaster: broadcaster)
        let probes = ProbeManager(prober: Prober(runtime: runtime), events: events, clock: clock)
        let puller = ImagePuller(store: images, configuration: c.registries)
        let imageManager = ImageManager(images: images, puller: puller, client: client, events: events, clock: clock)
        let statusManager = StatusManager(writer: APIPodStatusWriter(client: client), clock: SystemClock())
        let volumes = VolumeManager(client: client, env: env, sources: VolumeSourceCache(client: client, clock: SystemClock()),
                                    tokens: ServiceAccountTokenCache(client: client, clock: SystemClock()))
        let syncer = PodSyncer(client: client, runtime: runtime, network: network, imageManager: imageManager,
                               podFiles: PodFiles(clusterDomain: c.clusterDomain, clusterDNS: [c.clusterDNS]),
                               volumes: volumes, envResolver: env,
                               events: events, probes: probes, statusManager: statusManager,
                               hooks: LifecycleHookRunner(runtime: runtime, sleep: { try? await Task.sleep(for: .seconds(clamping: $0)) }),
                               paths: paths, nodeName: c.nodeName, hostIP: c.hostIP, sysctls: sysctls, clock: clock)
        return EmbeddedAgent(nodeName: c.nodeName, client: client, kubeletServer: c.kubeletServer, broadcaster: broadcaster,
                             reporter: reporter,
                             syncer: syncer, workers: PodWorkers(), statusManager: statusManager, images: images,
                             imageGC: ImageGarbageCollector(store: images, runtime: runtime, clock: clock),
                             logs: PodLogReader(paths: paths, clock: clock, hasExited: { id in
                                 switch try? await runtime.state(id) {
                                 case .running?, .created?: return false
                                 default: return true
                                 }
                             }),
                             services: services, endpointSlices: endpointSlices, configuration: c, podCIDR: net.subnet)
    }

    /// Registers the node and waits until the server's node IPAM gave it a pod CIDR.
    static func waitForPodCIDR(_ reporter: NodeStatusReporter) async throws -> String {
        let logger = Logger(label: "orca.agent")
        var registered = false
        var attempt = 0
        while true {
            try Task.checkCancellation()
            do {
                if !registered {
                    try await reporter.register(networkReady: false)
                    registered = true
                }
                if let cidr = try await reporter.podCIDR() {
                    logger.info("node \(reporter.nodeName) has pod CIDR \(cidr)")
                    return cidr
                }
                if attempt == 0 { logger.info("waiting for the server to give node \(reporter.nodeName) a pod CIDR") }
            } catch let e as APIError where e.code == 401 || e.code == 403 {
                throw e
            } catch {
                logger.warning("registering node \(reporter.nodeName): \(error)")
            }
            attempt += 1
            try await Task.sleep(for: .milliseconds(attempt < 20 ? 250 : 2000))
        }
    }

    public func run() async {
        do { _ = try await BuiltinImages.ensureBusybox(in: images) } catch {
            logger.error("building the built-in busybox image failed: \(error)")
        }
        await adoptRunningContainers()
        var options = ListOptions()
        options.fieldSelector = try! FieldMatcher(parsing: "spec.nodeName=\(nodeName)")
        let pods = Informer(client: client, resource: client.resource("pods"), options: options)
        let workers = self.workers
        await pods.onChange { change in
            switch change {
            case .added(let p):
                if let uid = p.metadataUID { await workers.update(uid, p) }
            case .updated(let old, let p):
                guard let uid = p.metadataUID else { return }
                if PodHousekeeping.isStatusOnlyChange(old, p) {
                    await workers.record(uid, p)
                } else {
                    await workers.update(uid, p)
                }
            case .deleted(let p):
                // Only a successful list or a watch event deletes from the cache: a server that
                // cannot be reached deletes nothing, and no container stops for it.
                if let uid = p.metadataUID { await workers.remove(uid, lastKnown: p) }
            }
        }
        let syncer = self.syncer
        let probes = syncer.probes
        let statusManager = self.statusManager
        await probes.setOnChange { uid in await workers.poke(uid) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await reporter.run() }
            group.addTask { [broadcaster] in await broadcaster.run() }
            group.addTask { [client, nodeName, reporter] in
                // Routes to the other nodes' pod CIDRs (flannel host-gw style); removed when the agent stops.
                await NodeRouteController(client: client, nodeName: nodeName, hostIP: reporter.hostIP).run()
            }
            group.addTask { await probes.run() }
            group.addTask { await statusManager.run(listPods: { await pods.list() }) }
            if let serving = kubeletServer {
                let server = KubeletServer(configuration: serving, nodeName: nodeName, client: client, streams: streams)
                group.addTask { await server.run() }
            }
            group.addTask { await pods.run() }
            group.addTask { [services] in await services.run() }
            group.addTask { [endpointSlices] in await endpointSlices.run() }
            let bridge = PodBridge(name: configuration.bridgeName, subnet: podCIDR)
            if bridge == nil { logger.error("pod CIDR \(podCIDR) is not an IPv4 network: no service proxy and no cluster DNS on this node") }
            if let bridge {
                let dns = ClusterDNSController(services: services, endpointSlices: endpointSlices, bridge: bridge,
                                               clusterDNS: configuration.clusterDNS, zone: configuration.clusterDomain,
                                               reverseCIDRs: [configuration.clusterCIDR], serviceCIDR: configuration.serviceCIDR)
                group.addTask { await dns.run() }
                // Services on this node (kube-proxy's nftables mode); the cluster DNS address
                // goes to the DNS server on the bridge's gateway.
                let proxy = ServiceProxy(services: services, slices: endpointSlices, nodeName: nodeName,
                                         tableName: configuration.proxyTableName, clusterCIDR: configuration.clusterCIDR,
                                         clusterDNS: .init(ip: configuration.clusterDNS, target: dns.listenAddress, port: 53))
                group.addTask { await proxy.run() }
            }
            group.addTask { [imageGC, logger] in
                // Image garbage collection: first after a minute, then every five minutes.
                try? await Task.sleep(for: .seconds(60))
                while !Task.isCancelled {
                    do {
                        let removed = try await imageGC.collectIfNeeded()
                        if !removed.isEmpty { logger.info("image garbage collection removed \(removed.joined(separator: ", "))") }
                    } catch {
                        logger.warning("image garbage collection failed: \(error)")
                    }
                    try? await Task.sleep(for: .seconds(300))
                }
            }
            group.addTask {
                // As the child subreaper, reap orphaned descendants nobody else waits for.
                let reaper = OrphanReaper()
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(10))
                    reaper.scan()
                }
            }
            group.addTask {
                // Container log rotation (the kubelet's container log manager): every 10 s,
                // logs of running containers over 10 MiB are rotated, 5 files kept.
                let runtime = syncer.runtime
                let rotator = ContainerLogRotator(reopen: { try await runtime.reopenLog($0) }, now: syncer.clock)
                await rotator.run(logs: { await Self.runningContainerLogs(workers, paths: syncer.paths) },
                                  sleep: { try await Task.sleep(for: $0) })
            }
            group.addTask { await workers.run(steps: syncer) }
            group.addTask { await Self.syncLoop(pods: pods, workers: workers, runtime: syncer.runtime) }
            await withTaskCancellationHandler { await group.next() } onCancel: {
                statusManager.shutdown()
                Task {
                    await workers.shutdown()
                    await probes.shutdown()
                }
            }
            group.cancelAll()
        }
        try? await syncer.imageManager.puller.shutdown()
    }

    /// The sync loop (the kubelet's syncLoop and housekeeping; decisions in `PodHousekeeping`):
    /// once the pod cache has synced, every second the PLEG relists containers (no runc
    /// processes) and the pods whose containers changed are synced, as are pods with something
    /// pending (back-off, pull, config errors). Steady pods are resynced every
    /// `PodHousekeeping.fullResyncTicks` seconds; then pods this node still knows (adopted after a
    /// restart) but the cache no longer lists are stopped.
    static func syncLoop(pods: Informer, workers: PodWorkers, runtime: any ContainerRuntime) async {
        await pods.waitForSync()
        let pleg = PodLifecycleEventGenerator(runtime: runtime)
        var tick = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            tick += 1
            let changed = await pleg.relist()
            let full = PodHousekeeping.isFullResync(tick: tick)
            var byUID: [String: JSONValue] = [:]
            var listed: [PodHousekeeping.Listed] = []
            for p in await pods.list() {
                guard let uid = p.metadataUID else { continue }
                byUID[uid] = p
                listed.append(.init(uid: uid, steady: await workers.state(uid).isSteady))
            }
            for uid in PodHousekeeping.podsToSync(listed, changed: changed, fullResync: full) {
                if let p = byUID[uid] { await workers.update(uid, p) }
            }
            guard full else { continue }
            let known = Set(await workers.knownUIDs())
            // Listed again after reading the known pods: one added meanwhile is not an orphan.
            let relisted = Set(await pods.list().compactMap(\.metadataUID))
            let listedUIDs = Set(byUID.keys)
            for uid in PodHousekeeping.orphans(known: known, listed: listedUIDs, relisted: relisted, cacheSynced: true) {
                await workers.remove(uid, lastKnown: nil)
            }
            await workers.pruneForgotten(keeping: listedUIDs.union(relisted))
        }
    }

    /// The log files of the containers that run now, for rotation.
    static func runningContainerLogs(_ workers: PodWorkers, paths: AgentPaths) async -> [ContainerLogRotator.ContainerLog] {
        var logs: [ContainerLogRotator.ContainerLog] = []
        for (pod, state) in await workers.pods() {
            for (name, container) in state.containers {
                guard let id = container.id, container.terminated == nil, container.startedAt != nil else { continue }
                logs.append(.init(containerID: id, path: paths.containerLogPath(pod, container: name, attempt: container.attempt)))
            }
        }
        return logs
    }

    /// After an agent restart: picks up the pods this node ran — running containers are adopted,
    /// not restarted; restart counts, last states and back-offs come from the pods' state files.
    func adoptRunningContainers() async {
        for (uid, state) in await syncer.adopt() {
            await workers.adopt(uid, state)
        }
    }
}
