import ArgumentParser
import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// `orca bench services`: how fast a node's service proxy follows Services and EndpointSlices
/// at scale (1,000 Services × 10 endpoints by default), what its nftables table and the agent
/// cost, and the node's cluster DNS against dnsmasq serving the same names.
struct BenchServicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services",
        abstract: "Measure service proxy rule propagation and table size at scale, and the cluster DNS against dnsmasq.",
        discussion: """
        Starts `orca server --disable-agent` (this executable) and one host — a network namespace on a \
        private bridge orcbb<hex>, 10.254.<n>.0/24 — whose `orca agent` joins it, like `bench join`. Creates \
        S selectorless ClusterIP Services, each with one EndpointSlice of E made-up endpoints in \
        10.42.128.1–10.42.254.250 (written into rules only: nothing is sent to them), and measures, by \
        polling the agent's nftables table from outside its namespace: first create → all S in the table; \
        the table's size; N EndpointSlice updates → the new address in the table; N Service creates → \
        ClusterIP in the table and deletes → gone. The peer is `nft -f` of the same table alone in a scratch \
        namespace. Then queries the cluster DNS from a namespace on the node's pod bridge (via 10.43.0.10 and \
        directly) and dnsmasq (Debian's dnsmasq-base) serving the same names from a hosts file, with the \
        same UDP client. Everything is removed at the end, also after an error or Ctrl-C. The defaults take \
        about ten minutes. Build with -c release; needs root and nft.
        """,
        subcommands: [ServicesBenchmarkDNSLoadCommand.self]
    )

    @Option(help: "Selectorless ClusterIP Services, each with one EndpointSlice.") var services = 1000
    @Option(help: "Endpoints in each Service's EndpointSlice.") var endpoints = 10
    @Option(help: "Samples of each propagation measurement (endpoint update, Service create, Service delete).") var samples = 30
    @Option(help: "Seconds of DNS load per server.") var dnsSeconds = 10
    @Option(help: "Concurrent DNS clients (UDP sockets, one query in flight each).") var dnsClients = 8

    func validate() throws {
        guard (1...20000).contains(services) else { throw ValidationError("--services must be 1 to 20000") }
        guard (1...100).contains(endpoints) else { throw ValidationError("--endpoints must be 1 to 100") }
        guard (1...1000).contains(samples) else { throw ValidationError("--samples must be 1 to 1000") }
        let needed = ServicesBenchmark.addressesNeeded(services: services, endpoints: endpoints, samples: samples)
        guard needed <= ServicesBenchmark.addressCapacity else {
            throw ValidationError("--services × --endpoints + --samples × (--endpoints + 1) must be at most \(ServicesBenchmark.addressCapacity) (the made-up endpoint addresses), not \(needed)")
        }
        guard (1...600).contains(dnsSeconds) else { throw ValidationError("--dns-seconds must be 1 to 600") }
        guard (1...256).contains(dnsClients) else { throw ValidationError("--dns-clients must be 1 to 256") }
        guard getuid() == 0 else { throw ValidationError("services makes network namespaces and reads nftables: it needs root") }
    }

    /// What one run measured.
    struct Results: Sendable {
        var node: String
        var table: String
        var rules: ServicesBenchmark.Results
        var dns: ServicesBenchmarkDNS.Results
        var end: ServicesBenchmark.Memory
    }

    func run() async throws {
        guard FileManager.default.isExecutableFile(atPath: ServicesBenchmarkTable.nftPath) else {
            throw ValidationError("\(ServicesBenchmarkTable.nftPath) is missing: install it with `apt-get install nftables`")
        }
        let cluster = BenchCluster()
        let resources = ServicesBenchmarkResources(cluster: cluster)
        let services = self.services, endpoints = self.endpoints, samples = self.samples
        let dnsSeconds = self.dnsSeconds, dnsClients = self.dnsClients
        let outcome = await BenchInterrupt.run {
            try await cluster.start()
            try resources.prepare()
            let host = try await cluster.addHost()
            try cluster.startAgent(host)
            try await cluster.waitForReadyNodes([host])
            BenchLog.info("node \(host.nodeName) Ready")
            let bench = ServicesBenchmark(cluster: cluster, host: host, services: services, endpoints: endpoints, samples: samples)
            let rules = try await bench.run(resources: resources)
            let dns = try await ServicesBenchmarkDNS.make(cluster: cluster, host: host, resources: resources, clients: dnsClients, seconds: dnsSeconds)
            let names = rules.clusterIPs.enumerated().map { i, ip in
                ServicesBenchmarkDNSLoad.Name(name: "\(ServicesBenchmark.serviceName(i)).\(cluster.namespace).svc.cluster.local", address: ip)
            }
            let dnsResults = try await dns.measure(names: names)
            return Results(node: host.nodeName, table: bench.table.name, rules: rules, dns: dnsResults, end: bench.memory("at the end"))
        }
        if case .failure(let error) = outcome { BenchLog.info("failed: \(error)") }
        await resources.tearDown()
        await cluster.shutdown(failed: (try? outcome.get()) == nil)
        report(try outcome.get())
    }
}

extension BenchServicesCommand {
    private func report(_ r: Results) {
        let ms = BenchPodStartupCommand.ms, ratio = BenchPodStartupCommand.ratio, s = BenchControllersCommand.seconds
        let rules = r.rules, stats = r.rules.stats
        var report = BenchReport(title: "orca bench services (\(services) selectorless ClusterIP Services × \(endpoints) endpoints, one `orca agent` (node \(r.node)); \(samples) samples per change; DNS \(dnsSeconds) s × \(dnsClients) UDP clients per server)")
        report.add(rules.creates)
        report.add(rules.updates)
        report.add(rules.creations)
        report.add(rules.deletions)
        if let peer = rules.nftInPlace { report.add(peer) }
        if let peer = rules.nftRecreate { report.add(peer) }

        report.fact("initial sync: first create sent → all \(services) ClusterIPs in the table", s(rules.firstCreateToSynced))
        report.fact("initial sync: last create answered → all in the table", s(rules.lastCreateToSynced))
        report.fact("nft table ip \(r.table)", "\(BenchReport.format(bytes: stats.bytes)) (\(stats.bytes) bytes), \(stats.lines) lines of `nft list table`, which took \(s(rules.listTable))")
        report.fact("  its objects", "\(stats.chains) chains (\(stats.baseChains) base, \(stats.serviceChains) service-…, \(stats.endpointChains) endpoint-…), \(stats.rules) rules, \(stats.maps) maps + \(stats.sets) sets holding \(stats.elements) elements")
        if let peer = rules.nftInPlace {
            report.fact("ratio endpoint update → table / nft -f alone in place, p50", ratio(rules.updates.p50, peer.p50))
            report.fact("ratio endpoint update → table / nft -f alone in place, p99", ratio(rules.updates.p99, peer.p99))
        } else {
            report.fact("peer nft -f alone", "failed: \(rules.nftAloneProblem ?? "?")")
        }
        report.fact("one poll (resolution of the instants)", "nft list map \(ms(rules.pollMap)), nft list chain \(ms(rules.pollChain))" + (rules.updatesPolledTable ? ", update polls listed the whole table (\(s(rules.listTable)))" : ""))
        let memory = rules.memory + [r.end]
        func mib(_ v: Int?) -> String { v.map { BenchReport.format(bytes: $0) } ?? "n/a" }
        report.fact("agent RSS", memory.map { "\(mib($0.agent)) \($0.label)" }.joined(separator: " → "))
        report.fact("server RSS (--disable-agent)", memory.map { "\(mib($0.server)) \($0.label)" }.joined(separator: " → "))

        let d = r.dns
        report.fact("DNS orca via \(ServicesBenchmark.clusterDNS):53 (pods' path, DNAT)", Self.describe(d.viaServiceIP))
        report.fact("DNS orca at \(d.gateway):53 directly", Self.describe(d.direct))
        if let peer = d.dnsmasq {
            report.fact("DNS \(d.dnsmasqVersion ?? "dnsmasq") at \(d.gateway):\(ServicesBenchmarkDNS.dnsmasqPort)", Self.describe(peer))
            report.fact("ratio orca/dnsmasq (direct): qps, p50, p99",
                        "\(ratio(d.direct.queriesPerSecond, peer.queriesPerSecond)), \(ratio(d.direct.p50, peer.p50)), \(ratio(d.direct.p99, peer.p99))")
            report.fact("ratio orca via 10.43.0.10/dnsmasq: qps, p50, p99",
                        "\(ratio(d.viaServiceIP.queriesPerSecond, peer.queriesPerSecond)), \(ratio(d.viaServiceIP.p50, peer.p50)), \(ratio(d.viaServiceIP.p99, peer.p99))")
        } else {
            report.fact("DNS dnsmasq", "skipped: \(d.dnsmasqProblem ?? "?")")
        }

        let gap = { (d: Duration) in String(format: "%.0f ms", LatencySamples.milliseconds(d)) }
        report.notes.append("propagation: from the API write's response to the return of the first poll that shows the change (`nsenter --net=<host netns> nft list …` from this process): an endpoint update polls its Service's chain, whose vmap names the endpoint chains (`…__<ip>/<port>`), \(gap(ServicesBenchmark.chainPollInterval)) after the previous poll returned; a create or delete polls the service-ips map, \(gap(ServicesBenchmark.pollInterval)) after; a poll's cost (above) bounds the error, and its CPU comes from the same cores the agent and its nft use")
        report.notes.append("each measured write waits until the previous one is in the table plus \(s(ServicesBenchmark.settle)), longer than the proxy's 1 s pause after each apply; the proxy also resyncs every 30 s, which may delay a sample by a rebuild and that pause")
        report.notes.append("every proxy sync writes all the rules and map elements of its table in one `nft -f` (updating the table in place; the first sync recreates it); the peers apply the agent's own table (its `nft list table`) with `nft -f` in a scratch namespace holding it already, after `flush table` (in place) or `add` + `delete table` (recreated), \(rules.nftInPlace?.count ?? 0) runs each, alternating, after one into the empty namespace; the ratio is against in place")
        report.notes.append("endpoints: made-up addresses in 10.42.128.0/17 (inside the cluster CIDR, above the node's pod CIDR); no traffic is sent to them")
        report.notes.append("DNS: `A` queries for svc-<i>.<namespace>.svc.cluster.local cycling over all \(services) names, from a network namespace on the node's pod bridge (a pod's place), by one client thread driving \(dnsClients) UDP sockets with one query in flight each (poll(2)); 1 s warm-up, then \(dnsSeconds) s measured; a query unanswered after 1 s counts as a timeout; latency is of correct answers")
        report.notes.append("dnsmasq: `--no-daemon --no-resolv --no-hosts --addn-hosts=<the same names> --bind-interfaces --cache-size=10000` on the gateway address in the node's namespace (it forwards nothing); orca's DNS server answers from its Service and EndpointSlice caches")

        var summary = "services: \(services)×\(endpoints) endpoint update → table p50 \(ms(rules.updates.p50)) p99 \(ms(rules.updates.p99))"
        if let peer = rules.nftInPlace { summary += " (nft -f alone p50 \(ms(peer.p50)), \(ratio(rules.updates.p50, peer.p50)))" }
        summary += "; create p50 \(ms(rules.creations.p50)), delete p50 \(ms(rules.deletions.p50)); initial sync \(s(rules.lastCreateToSynced))"
        summary += "; table \(BenchReport.format(bytes: stats.bytes)), \(stats.lines) lines; agent RSS \(mib(r.end.agent))"
        summary += "; DNS orca \(BenchReport.format(rate: d.direct.queriesPerSecond)) qps p99 \(ms(d.direct.p99)) (via 10.43.0.10 \(BenchReport.format(rate: d.viaServiceIP.queriesPerSecond)) qps)"
        if let peer = d.dnsmasq {
            summary += ", dnsmasq \(BenchReport.format(rate: peer.queriesPerSecond)) qps p99 \(ms(peer.p99)); orca/dnsmasq qps \(ratio(d.direct.queriesPerSecond, peer.queriesPerSecond))"
        }
        report.print(summary: summary)
    }

    /// `23456 qps; p50 0.312 ms, p99 1.20 ms, p99.9 …, max …; 234560 answers, 0 timeouts, 0 errors, 0 wrong`.
    static func describe(_ r: ServicesBenchmarkDNSLoad.Result) -> String {
        let ms = { (v: Double) in BenchReport.format(ms: v) + " ms" }
        return "\(BenchReport.format(rate: r.queriesPerSecond)) qps; p50 \(ms(r.p50)), p99 \(ms(r.p99)), p99.9 \(ms(r.p999)), max \(ms(r.max)); "
            + "\(r.answers) answers in \(String(format: "%.0f", r.seconds)) s, \(r.timeouts) timeouts, \(r.errors) errors, \(r.wrong) wrong"
    }
}
