import Foundation
import NIOHTTP1
import OrcaAPI
import OrcaAgent
import OrcaCore
import OrcaNetwork

/// The rules half of `orca bench services`: how fast one node's service proxy (kube-proxy's
/// nftables mode; every sync writes all its rules in one `nft -f`) follows the API with
/// `services` selectorless Services of `endpoints` endpoints each, on one `BenchHost` whose
/// `orca agent` joined a `BenchCluster`.
///
/// Every instant here is when a poll of the agent's table (`ServicesBenchmarkTable`, from
/// outside its network namespace) that first showed the change returned; each measured write is
/// followed by `settle`, longer than the proxy's one-second pause after an apply, so every
/// sample starts with an idle proxy.
struct ServicesBenchmark: Sendable {
    let cluster: BenchCluster
    let host: BenchHost
    let services: Int
    let endpoints: Int
    let samples: Int
    let table: ServicesBenchmarkTable
    let clock = ContinuousClock()

    static let createConcurrency = 32
    static let settle = Duration.milliseconds(1500)
    /// Pause between polls of the `service-ips` map (about 20 ms and 10 ms of CPU each at 1,000 Services).
    static let pollInterval = Duration.milliseconds(20)
    /// Pause between polls of a service chain (about 70 ms each, most of it CPU: nft reads every
    /// chain name first), longer so that polling takes less CPU from the agent and nft.
    static let chainPollInterval = Duration.milliseconds(50)
    static let sampleTimeout = Duration.seconds(120)
    /// The cluster DNS address (the agents' `--cluster-dns` default), always in the table.
    static let clusterDNS = "10.43.0.10"

    var client: BenchAPIClient { cluster.client }
    var servicesPath: String { "/api/v1/namespaces/\(cluster.namespace)/services" }
    var slicesPath: String { "/apis/discovery.k8s.io/v1/namespaces/\(cluster.namespace)/endpointslices" }

    init(cluster: BenchCluster, host: BenchHost, services: Int, endpoints: Int, samples: Int) {
        self.cluster = cluster
        self.host = host
        self.services = services
        self.endpoints = endpoints
        self.samples = samples
        // The table the agent names for its bridge, as the proxy makes it a valid nft name.
        var agent = EmbeddedAgent.Configuration(dataDir: host.dataDir, nodeName: host.nodeName, hostIP: host.ip)
        agent.bridgeName = host.bridgeName
        let name = ServiceProxyRules(nodeName: host.nodeName, tableName: agent.proxyTableName).tableName
        table = ServicesBenchmarkTable(netnsPath: host.netnsPath, name: name)
    }

    /// Resident memory of the agent and the server at one moment.
    struct Memory: Sendable {
        var label: String
        var agent: Int?
        var server: Int?
    }

    /// What the rules half measured.
    struct Results: Sendable {
        var creates: LatencySamples
        var firstCreateToSynced: Duration
        var lastCreateToSynced: Duration
        var stats: ServicesBenchmarkTable.Stats
        var listTable: Duration
        /// One poll of the map and of a chain (the resolution of the instants).
        var pollMap: Double?
        var pollChain: Double?
        /// The peers: `nft -f` of the agent's table in a scratch namespace, in place and recreated.
        var nftInPlace: LatencySamples?
        var nftRecreate: LatencySamples?
        var nftAloneProblem: String?
        var updates: LatencySamples
        /// The update polls read the whole table (the service chains did not name their endpoints).
        var updatesPolledTable: Bool
        var creations: LatencySamples
        var deletions: LatencySamples
        /// Service `i`'s ClusterIP.
        var clusterIPs: [String]
        var memory: [Memory]
    }

    func memory(_ label: String) -> Memory {
        Memory(label: label, agent: host.agentPID.flatMap { ProcessUsage.of(pid: $0)?.residentBytes },
               server: cluster.server.flatMap { $0.isRunning ? ProcessUsage.of(pid: $0.pid)?.residentBytes : nil })
    }

    /// Throws when the agent has exited.
    func checkAgent() throws {
        guard host.agentIsRunning else {
            throw OrcaError(.unavailable, "the agent of \(host.nodeName) exited:\n\(host.agentLogTail())")
        }
    }

    /// All measurements of the rules half, in order.
    func run(resources: ServicesBenchmarkResources) async throws -> Results {
        let ready = try await waitForProxy()
        BenchLog.info("service proxy table ip \(table.name) on \(host.nodeName) after \(BenchControllersCommand.seconds(ready)) (agent Ready)")
        var memory = [self.memory("node Ready, no Services")]

        BenchLog.info("creating the EndpointSlices of the \(samples) create/delete samples' Services (untimed)")
        _ = try await APIBenchmark(client: client).closedLoop("churn slices", count: samples, concurrency: 16) { [self] j in
            try await client.expect(.POST, slicesPath, json: Self.endpointSlice(service: Self.churnName(j), addresses: churnAddresses(j)))
        }

        BenchLog.info("creating \(services) Services with \(endpoints) endpoints each (\(Self.createConcurrency) at once)")
        let slots = ServicesBenchmarkSlots(count: services)
        let first = clock.now
        let creates = try await APIBenchmark(client: client).closedLoop(
            "create a Service + its EndpointSlice (\(Self.createConcurrency) at once)", count: services,
            concurrency: Self.createConcurrency, unit: "svc"
        ) { [self] i in
            let name = Self.serviceName(i)
            let created = try await client.expect(.POST, servicesPath, json: Self.service(name))
            guard let ip = created[path: ["spec", "clusterIP"]]?.stringValue, IPv4CIDR.parse(ip) != nil else {
                throw OrcaError(.internalError, "Service \(name) was created without an IPv4 clusterIP: \(created.jsonString.prefix(300))")
            }
            slots.set(i, ip)
            try await client.expect(.POST, slicesPath, json: Self.endpointSlice(service: name, addresses: initialAddresses(i)))
        }
        let last = clock.now
        guard let clusterIPs = slots.all else { throw OrcaError(.internalError, "a Service create returned no clusterIP") }
        BenchLog.info("all created after \(BenchControllersCommand.seconds(first.duration(to: last))); waiting for the table to hold them")
        let keys = Set(clusterIPs.map { ServicesBenchmarkTable.key(clusterIP: $0, port: Self.servicePort) })
        let synced = try await waitUntilInTable(keys, timeout: .seconds(max(300, services)))
        BenchLog.info("initial sync: all \(services) in the table \(BenchControllersCommand.seconds(last.duration(to: synced))) after the last create")
        memory.append(self.memory("\(services) Services synced"))

        let listStart = clock.now
        let listing = try await table.listTable()
        let listTable = listStart.duration(to: clock.now)
        let stats = ServicesBenchmarkTable.stats(listing)
        BenchLog.info("table: \(BenchReport.format(bytes: stats.bytes)), \(stats.lines) lines, \(stats.chains) chains, \(stats.rules) rules, \(stats.elements) map elements (listed in \(BenchControllersCommand.seconds(listTable)))")
        var nftAlone: (inPlace: LatencySamples, recreate: LatencySamples)?
        var nftAloneProblem: String?
        do {
            nftAlone = try await nftAloneApply(listing: listing, resources: resources, runs: 5)
        } catch {
            if Task.isCancelled { throw error }
            BenchLog.info("the nft-alone comparison failed: \(error)")
            nftAloneProblem = String("\(error)".prefix(300))
        }
        let (pollMap, pollChain) = try await pollCost(clusterIP: clusterIPs[0])

        let (updates, polledTable) = try await measureUpdates(clusterIPs: clusterIPs)
        let (creations, deletions) = try await measureCreateDelete()
        return Results(creates: creates, firstCreateToSynced: first.duration(to: synced), lastCreateToSynced: last.duration(to: synced),
                       stats: stats, listTable: listTable, pollMap: pollMap, pollChain: pollChain,
                       nftInPlace: nftAlone?.inPlace, nftRecreate: nftAlone?.recreate,
                       nftAloneProblem: nftAloneProblem, updates: updates, updatesPolledTable: polledTable,
                       creations: creations, deletions: deletions, clusterIPs: clusterIPs, memory: memory)
    }

    /// Waits until the proxy has written its table (the cluster DNS redirect is in its map).
    func waitForProxy() async throws -> Duration {
        let start = clock.now
        let dnsKey = "\(Self.clusterDNS) . udp . 53"
        try await BenchWatch.until("the service proxy's table ip \(table.name) on \(host.nodeName)", timeout: .seconds(180),
                                   interval: .milliseconds(250), progress: { [host] in host.agentLogTail(10) }) { [self] in
            try checkAgent()
            return (try? await table.serviceMap())?[dnsKey] != nil ? () : nil
        }
        return start.duration(to: clock.now)
    }

    /// Waits until every key of `keys` is in the `service-ips` map; returns when the poll that saw it returned.
    func waitUntilInTable(_ keys: Set<String>, timeout: Duration) async throws -> ContinuousClock.Instant {
        let seen = ServicesBenchmarkProgress()
        return try await BenchWatch.until("all \(keys.count) ClusterIPs in table ip \(table.name)", timeout: timeout,
                                          interval: .milliseconds(50), progress: { await seen.text }) { [self] in
            try checkAgent()
            guard let map = try? await table.serviceMap() else { return nil }
            let now = clock.now
            let present = keys.filter { map[$0] != nil }.count
            await seen.set("\(present) of \(keys.count) in the table")
            return present == keys.count ? now : nil
        }
    }

    /// The peers: `nft -f` of the agent's own table as listed, in a scratch namespace that holds it
    /// already, written the two ways the proxy writes it — in place (`flush table` first: every
    /// rule and element rewritten, as each update) and recreated (`add` + `delete table` first, as
    /// the first sync). One recreate into the empty namespace first is not counted.
    func nftAloneApply(listing: String, resources: ServicesBenchmarkResources, runs: Int) async throws -> (inPlace: LatencySamples, recreate: LatencySamples) {
        let recreateScript = resources.directory + "/table-recreate.nft", inPlaceScript = resources.directory + "/table-in-place.nft"
        try ("add table ip \(table.name)\ndelete table ip \(table.name)\n" + listing).write(toFile: recreateScript, atomically: true, encoding: .utf8)
        try ("flush table ip \(table.name)\n" + listing).write(toFile: inPlaceScript, atomically: true, encoding: .utf8)
        try await resources.addNamespace(resources.nftNamespace)
        let path = ServicesBenchmarkResources.netnsPath(resources.nftNamespace), clock = self.clock
        func apply(_ script: String) async throws -> Duration {
            let start = clock.now
            let r = try await BenchSystem.run(BenchSystem.nsenter, ["--net=\(path)", ServicesBenchmarkTable.nftPath, "-f", script])
            guard r.exitCode == 0 else { throw OrcaError(.system, "nft -f of the listed table exited \(r.exitCode): \(r.errorText.prefix(300))") }
            return start.duration(to: clock.now)
        }
        var inPlace = LatencySamples(name: "peer: nft -f of the same table alone, in place", unit: "apply")
        var recreate = LatencySamples(name: "peer: nft -f of the same table alone, recreated", unit: "apply")
        do {
            _ = try await apply(recreateScript)
            for _ in 0..<runs {
                inPlace.record(try await apply(inPlaceScript))
                recreate.record(try await apply(recreateScript))
            }
        } catch {
            await resources.removeNamespace(resources.nftNamespace)
            throw error
        }
        await resources.removeNamespace(resources.nftNamespace)
        return (inPlace, recreate)
    }

    /// Median milliseconds of one map poll and one chain poll (5 each).
    func pollCost(clusterIP: String) async throws -> (Double?, Double?) {
        var map = LatencySamples(name: "map"), chain = LatencySamples(name: "chain")
        let verdict = (try await table.serviceMap())[ServicesBenchmarkTable.key(clusterIP: clusterIP, port: Self.servicePort)]
        for _ in 0..<5 {
            var start = clock.now
            _ = try await table.listServiceMap()
            map.record(start.duration(to: clock.now))
            if let verdict, verdict.hasPrefix("goto ") {
                start = clock.now
                _ = try await table.listChain(String(verdict.dropFirst(5)))
                chain.record(start.duration(to: clock.now))
            }
        }
        return (map.p50, chain.p50)
    }
}

/// The last progress text of a wait, for its timeout message.
actor ServicesBenchmarkProgress {
    var text = ""
    func set(_ value: String) { text = value }
}
