import ArgumentParser
import Foundation
import Logging
import OrcaPKI
import OrcaAPIServer
import OrcaClient
import OrcaControllers
import OrcaScheduler
import OrcaAgent
import OrcaStoreSQLite
import ServiceLifecycle
import Synchronization

/// `orca server`: API server, store, scheduler, controllers and (unless disabled) a node agent.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "server", abstract: "Run the Orca control plane (and a node agent).")

    @Option(help: "Directory for all state.") var dataDir = "/var/lib/orca"
    @Option(help: "HTTPS port of the Kubernetes API.") var httpsPort = 6443
    @Option(help: "Address to listen on.") var bindAddress = "0.0.0.0"
    @Option(help: "Name of the embedded node (default: the host name).") var nodeName: String?
    @Flag(help: "Do not run the embedded node agent.") var disableAgent = false
    @Option(help: "Pod CIDR of the embedded node.") var podCIDR = "10.42.0.0/24"
    @Option(help: "Name of the pod network bridge.") var bridgeName = "orca0"
    @Option(help: "Directory of container logs.") var podLogDir = "/var/log/pods"
    @Option(help: "Directory of runtime state such as namespace mounts.") var runDir = "/run/orca"
    @Option(help: "Log level (trace, debug, info, warning, error).") var logLevel = "info"
    @Option(help: "Read-only API requests served at once; more get 429 (0: no limit).") var maxRequestsInflight = 400
    @Option(help: "Mutating API requests served at once; more get 429 (0: no limit).") var maxMutatingRequestsInflight = 200
    @Option(help: "kube-apiserver's EncryptionConfiguration file (encryption at rest); default: <data-dir>/tls/encryption-config.yaml, made at first start with a new AES-GCM key for Secrets.")
    var encryptionProviderConfig: String?
    @Option(name: .customLong("tls-san"), help: "Another name or IP address of the server for its certificate (agents on other networks reach it there); repeatable.")
    var tlsSANs: [String] = []
    @Option(help: "The pod network of the cluster; each node gets a /24 of it.") var clusterCIDR = "10.42.0.0/16"
    @Option(help: "Seconds without a heartbeat before a node is marked Unknown and its pods not ready.") var nodeMonitorGracePeriod = 40
    @Option(help: "Port of the embedded node's kubelet server (streams of its pods; 0: none).") var kubeletPort = 10250
    @Option(help: "The range Services' cluster IPs come from.") var serviceCIDR = "10.43.0.0/16"
    @Option(name: .customLong("cluster-dns"), help: "The cluster DNS address Orca serves (default: the service CIDR's tenth address, 10.43.0.10).")
    var clusterDNS: String?
    @OptionGroup var sysctlOptions: SysctlOptions
    @Option(name: .customLong("event-ttl"), help: "How long an Event is kept after its last write (a Go duration, as kube-apiserver's --event-ttl).")
    var eventTTL = "1h0m0s"
    @OptionGroup var registryOptions: RegistryOptions

    func validate() throws {
        guard CIDRAllocator(clusterCIDR: clusterCIDR, nodePrefixLength: 24) != nil else {
            throw ValidationError("--cluster-cidr \(clusterCIDR) must be an IPv4 network of /8 to /24, e.g. 10.42.0.0/16")
        }
        if let nodeName { try NodeName.validate(nodeName) }
        guard nodeMonitorGracePeriod >= 1 else { throw ValidationError("--node-monitor-grace-period must be at least 1 second") }
        guard (0...65535).contains(kubeletPort) else { throw ValidationError("--kubelet-port must be 0 to 65535") }
        _ = try serviceNetwork()
        guard let ttl = GoDuration.seconds(eventTTL), ttl > 0 else { throw ValidationError("--event-ttl \(eventTTL) must be a positive duration such as 1h0m0s") }
    }


    /// The service CIDR and cluster DNS address from the options.
    func serviceNetwork() throws -> ServiceNetwork {
        guard let cidr = IPv4CIDR(serviceCIDR), cidr.prefixLength >= 8, cidr.prefixLength <= 28 else {
            throw ValidationError("--service-cidr \(serviceCIDR) must be an IPv4 network of /8 to /28, e.g. 10.43.0.0/16")
        }
        let dns = clusterDNS ?? ServiceNetwork.defaultClusterDNS(cidr)
        let network = ServiceNetwork(serviceCIDR: cidr, clusterDNS: dns)
        guard network.isAllocatable(dns), dns != network.apiServiceIP else {
            throw ValidationError("--cluster-dns \(dns) must be an address of --service-cidr \(cidr) other than its first")
        }
        return network
    }

    mutating func run() async throws {
        // Two allocator arenas: a server's RSS then follows its live data instead of keeping
        // what fragmented across sixteen (see GlibcMalloc).
        GlibcMalloc.limitArenas(to: 2)
        let logLevel = self.logLevel, bindAddress = self.bindAddress, httpsPort = self.httpsPort
        let dataDir = self.dataDir, nodeName = self.nodeName, disableAgent = self.disableAgent
        let podCIDR = self.podCIDR, bridgeName = self.bridgeName, podLogDir = self.podLogDir, runDir = self.runDir
        let eventTTLSeconds = GoDuration.seconds(eventTTL) ?? EventExpiry.defaultTTL
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return h
        }
        let logger = Logger(label: "orca.server")
        // Nothing under the data dir is for other local users: the store, keys, tokens, images
        // (setuid binaries, device nodes) and pod data. The root only lets them traverse.
        try PrivateFiles.directory(dataDir, mode: 0o711)
        for dir in ["db", "pods", "runtime"] { try PrivateFiles.directory("\(dataDir)/\(dir)", mode: 0o700) }
        let store = try SQLiteKVStore(path: dataDir + "/db/state.sqlite")
        let hostIP = NodeAddress.primaryIPv4() ?? "127.0.0.1"
        let serviceNetwork = try self.serviceNetwork()
        // In-cluster clients reach the API at the `kubernetes` Service's address and names.
        let pki = try ClusterPKI.loadOrCreate(dir: dataDir + "/tls", hosts: ["127.0.0.1", hostIP, serviceNetwork.apiServiceIP,
                                                                            "kubernetes.default.svc.cluster.local"] + tlsSANs)
        // Secrets are encrypted at rest, as with kube-apiserver's --encryption-provider-config.
        let encryption: EncryptionConfiguration
        if let path = encryptionProviderConfig {
            encryption = try EncryptionConfiguration.load(path: path)
        } else {
            let path = dataDir + "/tls/encryption-config.yaml"
            if !FileManager.default.fileExists(atPath: path) {
                // A new key for a store that already holds encrypted Secrets would make them all
                // unreadable: refuse, as kube-apiserver never invents a key.
                let secrets = try await store.list(prefix: "/registry/secrets/", revision: nil, startAfter: nil, limit: nil)
                if secrets.items.contains(where: { $0.value.starts(with: StorageTransformer.encryptedPrefix) }) {
                    throw OrcaError(.invalid, "\(path) is missing but the store holds encrypted Secrets: restore the file (or pass --encryption-provider-config with the keys they were written with)")
                }
            }
            encryption = try EncryptionConfiguration.loadOrCreate(path: path)
        }
        // Node, RBAC: the policy is loaded before the first request and followed after.
        let rbac = RBACPolicyStore()
        let authorizer = RequestAuthorizer(rbac: rbac)
        // Admission as kube-apiserver orders it: the built-in plugins, then the webhooks.
        let webhooks = WebhookConfigurationStore()
        let registry = Registry(store: store, strategies: Strategies.standard, encryption: encryption, serviceNetwork: serviceNetwork,
                                admission: AdmissionChain([LimitRanger(), ServiceAccountAdmission(), NodeRestriction(),
                                                           PodSecurityAdmission(), PriorityAdmission(), RuntimeClassAdmission(),
                                                           RBACEscalationCheck(authorizer: authorizer), AdmissionWebhooks(store: webhooks),
                                                           // Last: it charges the quota once nothing else can refuse.
                                                           ResourceQuotaAdmission()]))
        let webhookController = WebhookConfigurationController(registry: registry, store: webhooks)
        try await webhookController.sync()
        let kubeconfigPath = dataDir + "/kubeconfig.yaml"

        // ServiceAccount tokens: signed with a key kept under the data dir, like kube-apiserver's
        // --service-account-signing-key-file.
        let signingKey = try ServiceAccountSigningKey.loadOrCreate(path: dataDir + "/tls/service-account.key")
        let serviceAccountTokens = try ServiceAccountTokens(key: signingKey, registry: registry,
                                                            externalAddress: httpsPort == 0 ? nil : "\(hostIP):\(httpsPort)")
        let client = LocalAPIClient(registry: registry, serviceAccountTokens: serviceAccountTokens)
        let namespaces = NamespaceController(client: client, caCertPEM: pki.caCertPEM)
        try await namespaces.bootstrap()
        try await RBACBootstrap.ensure(registry: registry)
        try await PriorityClassBootstrap.ensure(registry: registry)
        try await APIServiceBootstrap.ensure(registry: registry)
        let rbacController = RBACPolicyController(registry: registry, store: rbac)
        try await rbacController.sync()
        try await LocalPathProvisioner.bootstrap(client: client)

        var agent: EmbeddedAgent?
        if !disableAgent {
            var config = EmbeddedAgent.Configuration(dataDir: dataDir, nodeName: nodeName ?? NodeAddress.hostname(), hostIP: hostIP)
            config.podCIDR = podCIDR
            config.controlPlane = true
            if kubeletPort != 0 {
                // The embedded node's kubelet server, with a serving certificate straight from the CA.
                let name = config.nodeName
                let serving = try pki.authority.issueWithNewKey(
                    subject: .init(commonName: "system:node:\(name)", organizations: ["system:nodes"], dnsNames: [name, "localhost"],
                                   ipAddresses: [hostIP, "127.0.0.1"]),
                    usages: .init(keyEncipherment: true, serverAuth: true), lifetime: 365 * 86_400)
                config.kubeletServer = .init(port: kubeletPort, certificatePEM: serving.certificatePEM, keyPEM: serving.keyPEM,
                                             caPEM: pki.caCertPEM)
            }
            config.bridgeName = bridgeName
            config.logRoot = podLogDir
            config.runDir = runDir
            config.registries = registryOptions.configuration
            config.clusterDNS = serviceNetwork.clusterDNS
            config.serviceCIDR = serviceNetwork.serviceCIDR.description
            config.clusterCIDR = clusterCIDR
            config.allowedUnsafeSysctls = sysctlOptions.patterns
            agent = try await EmbeddedAgent.make(client: client, configuration: config)
        }
        let adminToken = try AdminToken.loadOrCreate(path: dataDir + "/tls/admin.token")
        // Agents join with this token: the CA's hash to trust the server, a bootstrap token to
        // ask for their certificate.
        let joinToken = try NodeJoinToken.loadOrCreate(path: dataDir + "/node-token", caPEM: pki.caCertPEM)
        var serverConfiguration = APIServer.Configuration(
            host: bindAddress, port: httpsPort, pki: pki,
            tokens: [adminToken: UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"]),
                     joinToken.bootstrapToken: NodeJoinToken.bootstrapUser(id: joinToken.id)])
        serverConfiguration.maxRequestsInflight = maxRequestsInflight
        serverConfiguration.maxMutatingRequestsInflight = maxMutatingRequestsInflight
        let server = APIServer(registry: registry, configuration: serverConfiguration, podStreams: agent?.streams,
                               localNodeName: agent?.nodeName, authorizer: authorizer, serviceAccountTokens: serviceAccountTokens)
        let listeningPort = Mutex<Int?>(nil)
        let app = try server.application(logger: logger) { port in
            // Written once the port is known (`--https-port 0` picks a free one).
            // Created 0600 before its first byte is written: never readable by others.
            do { try PrivateFiles.write(Array(pki.adminKubeconfig(server: "https://127.0.0.1:\(port)").utf8), to: kubeconfigPath) } catch {
                logger.error("writing \(kubeconfigPath): \(error)")
            }
            logger.info("Kubernetes API listening on https://\(bindAddress):\(port)")
            listeningPort.withLock { $0 = port }
            do { try await namespaces.ensureAPIService(hostIP: hostIP, port: port, serviceIP: serviceNetwork.apiServiceIP) } catch {
                logger.warning("creating the kubernetes service: \(error)")
            }
            print("orca: API server ready on https://127.0.0.1:\(port); kubeconfig: \(kubeconfigPath)")
            print("orca: try: KUBECONFIG=\(kubeconfigPath) kubectl get nodes")
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app),
            .init(service: TaskService(name: "compactor") { await StoreCompactor(store: store).run() }),
            .init(service: TaskService(name: "memory-trimmer") { await MemoryTrimmer(store: store).run() }),
            .init(service: TaskService(name: "event-ttl") { await EventExpiry(registry: registry, ttl: eventTTLSeconds).run() }),
            .init(service: TaskService(name: "crd-controller") { await CustomResourceDefinitionController(registry: registry).run() }),
            .init(service: TaskService(name: "rbac") { await rbacController.run() }),
            .init(service: TaskService(name: "admission-webhooks") { await webhookController.run() }),
            .init(service: TaskService(name: "resourcequota") { await ResourceQuotaController(registry: registry).run() }),
            .init(service: TaskService(name: "kubernetes-service") {
                // As kube-apiserver's kubernetes-service controller: the Service, its Endpoints and
                // EndpointSlice come back every 10 s should someone delete or change them.
                while (try? await Task.sleep(for: .seconds(10))) != nil {
                    guard let port = listeningPort.withLock({ $0 }) else { continue }
                    do { try await namespaces.ensureAPIService(hostIP: hostIP, port: port, serviceIP: serviceNetwork.apiServiceIP) } catch {
                        logger.debug("keeping the kubernetes service: \(error)")
                    }
                }
            }),
            .init(service: await controllerManager(client: client, namespaces: namespaces, authority: try pki.authority)),
        ]
        if let agent {
            services.append(.init(service: TaskService(name: "agent") { await agent.run() }))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension ServerCommand {
    /// The scheduler and the controllers on one set of shared informers, leading through the
    /// `kube-system/kube-controller-manager` Lease. The identity is stable per host and data
    /// dir, so a restarted server takes its own lease back at once instead of waiting for it
    /// to expire.
    func controllerManager(client: any APIClient, namespaces: NamespaceController, authority: CertificateAuthority) async -> ControllerManager {
        let informers = SharedInformerFactory(client: client)
        let host = NodeAddress.hostname()
        let dirHash = dataDir.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        let identity = "\(host)_\(String(dirHash, radix: 16))"
        let elector = LeaderElector(client: client, configuration: .init(name: "kube-controller-manager", identity: identity))
        var runnables: [any Runnable] = [
            await namespaces.controller(informers: informers),
            await CertificateSigningRequestApprover.controller(client: client, informers: informers,
                                                               reservedAddresses: Set(["127.0.0.1", NodeAddress.primaryIPv4() ?? "127.0.0.1"] + tlsSANs)),
            await CertificateSigningRequestSigner.controller(client: client, informers: informers, authority: authority),
            await CertificateSigningRequestCleaner.controller(client: client, informers: informers),
            await NodeIPAMController.controller(client: client, informers: informers, clusterCIDR: clusterCIDR),
            await NodeLifecycleController.controller(client: client, informers: informers,
                                                     configuration: .init(nodeMonitorGracePeriod: .seconds(nodeMonitorGracePeriod))),
            await TaintEvictionController.controller(client: client, informers: informers),
            await PodGCController.controller(client: client, informers: informers),
            await Scheduler.controller(client: client, informers: informers),
            await ReplicaSetController<ReplicaSet>.controller(client: client, informers: informers),
            await ReplicaSetController<ReplicationController>.controller(client: client, informers: informers),
            await DeploymentController.controller(client: client, informers: informers),
            await JobController.controller(client: client, informers: informers),
            await TTLAfterFinishedController.controller(client: client, informers: informers),
            await CronJobController.controller(client: client, informers: informers),
            await StatefulSetController.controller(client: client, informers: informers),
            await DaemonSetController.controller(client: client, informers: informers),
            await DisruptionController.controller(client: client, informers: informers),
            await ServiceLoadBalancerController.controller(client: client, informers: informers,
                                                           reservedPorts: Set([httpsPort, kubeletPort, 10250].filter { $0 > 0 }.map { Int32($0) })),
            await EndpointSliceController.controller(client: client, informers: informers),
            await EndpointsController.controller(client: client, informers: informers),
            await EndpointSliceMirroringController.controller(client: client, informers: informers),
            await PersistentVolumeBinder.controller(client: client, informers: informers),
            await PersistentVolumeClaimProtection.controller(client: client, informers: informers),
            await LocalPathProvisioner.controller(client: client, informers: informers, dataDirectory: dataDir,
                                                  localNodeName: disableAgent ? nil : (nodeName ?? NodeAddress.hostname())),
        ]
        runnables += await GarbageCollector.controllers(client: client, informers: informers)
        return ControllerManager(name: "controller-manager", informers: informers, runnables: runnables, elector: elector)
    }
}

/// Runs an async loop as a `Service` that stops on graceful shutdown.
struct TaskService: ServiceLifecycle.Service {
    let name: String
    let body: @Sendable () async -> Void

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await body() }
            group.addTask { try? await gracefulShutdown() }
            await group.next()
            group.cancelAll()
        }
    }
}
