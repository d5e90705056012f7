import Foundation
import OrcaAPI
import OrcaCore

/// The DNS half of `orca bench services`: queries per second and latency of the node's cluster
/// DNS from a pod's place in the network, side by side with dnsmasq serving the same names.
///
/// The client is a network namespace on the node's pod bridge, as a pod's would be: a veth
/// pair (`eth0` inside, `orcbd<tag>` on the bridge in the host's namespace), an address near the
/// top of the node's pod CIDR and a route to the service network through the bridge's gateway
/// (nothing else is routed, and the host has no default route). From there the hidden
/// `orca bench services dns-load` child (this executable under `nsenter --net`) sends `A`
/// queries for `svc-<i>.<ns>.svc.cluster.local` with `clients` UDP sockets:
/// 1. to 10.43.0.10:53, the pods' path — the proxy's DNAT (and conntrack) to the agent's server;
/// 2. to the gateway:53 directly — the agent's server alone;
/// 3. to dnsmasq on the gateway:5353 in the host's namespace, answering the same names from a
///    hosts file (`--no-resolv`: it forwards nothing) — the peer.
struct ServicesBenchmarkDNS: Sendable {
    let resources: ServicesBenchmarkResources
    let host: BenchHost
    let podCIDR: IPv4CIDR
    /// The pod bridge's address, where the agent's DNS server listens.
    let gateway: String
    /// The client namespace's address.
    let clientAddress: String
    let clients: Int
    let seconds: Int

    static let dnsmasqPath = "/usr/sbin/dnsmasq"
    static let dnsmasqPort = 5353

    var namesFile: String { resources.directory + "/names" }
    var hostsFile: String { resources.directory + "/hosts" }

    /// What the DNS half measured.
    struct Results: Sendable {
        var gateway: String
        var viaServiceIP: ServicesBenchmarkDNSLoad.Result
        var direct: ServicesBenchmarkDNSLoad.Result
        var dnsmasq: ServicesBenchmarkDNSLoad.Result?
        var dnsmasqVersion: String?
        /// Why there is no dnsmasq figure.
        var dnsmasqProblem: String?
    }

    /// Reads the node's pod CIDR; the gateway is its first address, the client its sixth from the end.
    static func make(cluster: BenchCluster, host: BenchHost, resources: ServicesBenchmarkResources, clients: Int, seconds: Int) async throws -> ServicesBenchmarkDNS {
        let node = try await cluster.client.expect(.GET, "/api/v1/nodes/\(host.nodeName)")
        let text = node[path: ["spec", "podCIDR"]]?.stringValue ?? ""
        guard let cidr = IPv4CIDR(text), cidr.size >= 16, let gateway = cidr.address(at: 1), let client = cidr.address(at: cidr.size - 6) else {
            throw OrcaError(.internalError, "node \(host.nodeName) has no usable pod CIDR (\(text.isEmpty ? "none" : text))")
        }
        return ServicesBenchmarkDNS(resources: resources, host: host, podCIDR: cidr, gateway: gateway, clientAddress: client,
                                    clients: clients, seconds: seconds)
    }

    /// The three runs; a dnsmasq failure is reported, not thrown.
    func measure(names: [ServicesBenchmarkDNSLoad.Name]) async throws -> Results {
        try await prepare(names: names)
        BenchLog.info("DNS: orca via \(ServicesBenchmark.clusterDNS):53 (the pods' path), \(clients) clients, \(seconds) s")
        let viaServiceIP = try await load(server: ServicesBenchmark.clusterDNS, port: 53)
        BenchLog.info("DNS: orca at \(gateway):53 directly")
        let direct = try await load(server: gateway, port: 53)
        var results = Results(gateway: gateway, viaServiceIP: viaServiceIP, direct: direct)
        guard FileManager.default.isExecutableFile(atPath: Self.dnsmasqPath) else {
            results.dnsmasqProblem = "\(Self.dnsmasqPath) is not installed (apt-get install dnsmasq-base)"
            return results
        }
        results.dnsmasqVersion = await BenchSystem.output(Self.dnsmasqPath, ["--version"]).split(separator: "\n").first
            .map { $0.split(separator: " ").prefix(3).joined(separator: " ") }  // "Dnsmasq version 2.90"
        do {
            BenchLog.info("DNS: dnsmasq at \(gateway):\(Self.dnsmasqPort)")
            try resources.startDnsmasq(path: Self.dnsmasqPath, hostNetns: host.netnsPath, address: gateway, port: Self.dnsmasqPort, hostsFile: hostsFile)
            results.dnsmasq = try await load(server: gateway, port: Self.dnsmasqPort)
        } catch {
            if Task.isCancelled {
                await resources.stopDnsmasq()
                throw error
            }
            let log = resources.dnsmasqLogTail()
            BenchLog.info("the dnsmasq comparison failed: \(error)\ndnsmasq log:\n\(log)")
            results.dnsmasqProblem = String("\(error)".prefix(300))
        }
        await resources.stopDnsmasq()
        return results
    }

    /// Writes the names and hosts files, waits for the pod bridge, and attaches the client namespace to it.
    func prepare(names: [ServicesBenchmarkDNSLoad.Name]) async throws {
        try names.map { "\($0.name) \($0.address)\n" }.joined().write(toFile: namesFile, atomically: true, encoding: .utf8)
        try names.map { "\($0.address) \($0.name)\n" }.joined().write(toFile: hostsFile, atomically: true, encoding: .utf8)
        let host = self.host, gateway = self.gateway
        // The agent makes the bridge (with the gateway address) for its DNS server.
        try await BenchWatch.until("pod bridge \(host.bridgeName) with \(gateway) on \(host.nodeName)", timeout: .seconds(120),
                                   interval: .milliseconds(250)) {
            let shown = await BenchSystem.output(BenchSystem.ip, ["-n", host.netns, "-4", "-o", "addr", "show", "dev", host.bridgeName])
            return shown.contains(" \(gateway)/") ? () : nil
        }
        let ns = resources.dnsNamespace, veth = resources.clientVeth, ip = BenchSystem.ip
        try await resources.addNamespace(ns)
        try await BenchSystem.must(ip, ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        try await BenchSystem.must(ip, ["link", "set", veth, "netns", host.netns])
        try await BenchSystem.must(ip, ["-n", host.netns, "link", "set", veth, "master", host.bridgeName])
        try await BenchSystem.must(ip, ["-n", host.netns, "link", "set", veth, "up"])
        try await BenchSystem.must(ip, ["-n", ns, "addr", "add", "\(clientAddress)/\(podCIDR.prefixLength)", "dev", "eth0"])
        try await BenchSystem.must(ip, ["-n", ns, "link", "set", "eth0", "up"])
        try await BenchSystem.must(ip, ["-n", ns, "route", "add", "10.43.0.0/16", "via", gateway])
        BenchLog.info("DNS client namespace \(ns) at \(clientAddress) on \(host.bridgeName) (gateway \(gateway))")
    }

    /// One run of the `dns-load` child against `server:port` from the client namespace.
    func load(server: String, port: Int) async throws -> ServicesBenchmarkDNSLoad.Result {
        let arguments = ["--net=\(ServicesBenchmarkResources.netnsPath(resources.dnsNamespace))", BenchServer.executable,
                         "bench", "services", "dns-load", "--server", server, "--port", String(port), "--names", namesFile,
                         "--clients", String(clients), "--seconds", String(seconds)]
        let r = try await BenchSystem.run(BenchSystem.nsenter, arguments)
        guard r.exitCode == 0 else {
            throw OrcaError(.internalError, "the DNS client against \(server):\(port) exited \(r.exitCode): \(r.errorText.suffix(800))")
        }
        let line = String(decoding: r.standardOutput, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        do {
            return try JSONDecoder().decode(ServicesBenchmarkDNSLoad.Result.self, from: Data(line.utf8))
        } catch {
            throw OrcaError(.internalError, "the DNS client against \(server):\(port) printed no result: \(line.prefix(300))", cause: error)
        }
    }
}
