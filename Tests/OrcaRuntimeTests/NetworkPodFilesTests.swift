import Foundation
import OrcaNetwork
import Testing

/// One `/etc/hosts` expectation.
struct NetworkHostsCase: Sendable, CustomTestStringConvertible {
    var name: String
    var spec: PodFilesSpec
    var hostHosts: String = ""
    var expected: String
    var testDescription: String { name }
}

/// One `/etc/resolv.conf` expectation.
struct NetworkResolvCase: Sendable, CustomTestStringConvertible {
    var name: String
    var spec: PodFilesSpec
    var hostResolv: String
    var expected: String
    var testDescription: String { name }
}

private let localhostLines = """
# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters

"""

struct NetworkPodFilesTests {
    static let hostsCases: [NetworkHostsCase] = [
        .init(name: "plain pod",
              spec: .init(hostname: "web-0", namespace: "default", podIPs: ["10.42.0.5"]),
              expected: localhostLines + "10.42.0.5\tweb-0\n"),
        .init(name: "subdomain gives the FQDN",
              spec: .init(hostname: "web-0", subdomain: "web", namespace: "shop", podIPs: ["10.42.0.5"]),
              expected: localhostLines + "10.42.0.5\tweb-0.web.shop.svc.cluster.local\tweb-0\n"),
        .init(name: "dual stack: one line per IP",
              spec: .init(hostname: "p", namespace: "default", podIPs: ["10.42.0.5", "fd00::5"]),
              expected: localhostLines + "10.42.0.5\tp\nfd00::5\tp\n"),
        .init(name: "host aliases appended",
              spec: .init(hostname: "p", namespace: "default", podIPs: ["10.42.0.5"], hostAliases: [
                  .init(ip: "127.0.0.1", hostnames: ["foo.local", "bar.local"]),
                  .init(ip: "10.1.2.3", hostnames: ["foo.remote"]),
              ]),
              expected: localhostLines + "10.42.0.5\tp\n\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\n"),
        .init(name: "no IP yet",
              spec: .init(hostname: "p", namespace: "default", podIPs: []),
              expected: localhostLines),
        .init(name: "host network copies the node's file",
              spec: .init(hostname: "node1", namespace: "kube-system", podIPs: ["192.0.2.10"],
                          hostAliases: [.init(ip: "192.0.2.20", hostnames: ["x"])], hostNetwork: true),
              hostHosts: "127.0.0.1 localhost\n192.0.2.10 node1\n",
              expected: "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n192.0.2.10 node1\n\n# Entries added by HostAliases.\n192.0.2.20\tx\n"),
    ]

    @Test(arguments: hostsCases)
    func hostsFile(_ c: NetworkHostsCase) {
        #expect(PodFiles().hostsFileContent(c.spec, hostHostsFile: c.hostHosts) == c.expected)
    }

    static let hostResolv = "# generated\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example. .\noptions edns0 timeout:2\n"
    static let clusterSearch = "search ns1.svc.cluster.local svc.cluster.local cluster.local"

    static let resolvCases: [NetworkResolvCase] = [
        .init(name: "ClusterFirst",
              spec: .init(hostname: "p", namespace: "ns1", podIPs: []),
              hostResolv: "nameserver 192.0.2.53\n",
              expected: "\(clusterSearch)\nnameserver 10.43.0.10\noptions ndots:5\n"),
        .init(name: "ClusterFirst appends the node's search domains",
              spec: .init(hostname: "p", namespace: "ns1", podIPs: []),
              hostResolv: hostResolv,
              expected: "\(clusterSearch) corp.example\nnameserver 10.43.0.10\noptions ndots:5\n"),
        .init(name: "Default uses the node's settings",
              spec: .init(hostname: "p", namespace: "ns1", podIPs: [], dnsPolicy: .default),
              hostResolv: hostResolv,
              expected: "search corp.example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions edns0 timeout:2\n"),
        .init(name: "ClusterFirst on host network acts as Default",
              spec: .init(hostname: "p", namespace: "ns1", podIPs: [], hostNetwork: true),
              hostResolv: hostResolv,
              expected: "search corp.example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions edns0 timeout:2\n"),
        .init(name: "ClusterFirstWithHostNet on host network",
              spec: .init(hostname: "p", namespace: "ns1", podIPs: [], hostNetwork: true, dnsPolicy: .clusterFirstWithHostNet),
              hostResolv: "nameserver 192.0.2.53\n",
              expected: "\(clusterSearch)\nnameserver 10.43.0.10\noptions ndots:5\n"),
        .init(name: "None with dnsConfig",
              spec: .init(hostname: "p", namespace: "ns1", podIPs: [], dnsPolicy: .none, dnsConfig: .init(
                  nameservers: ["192.0.2.1"], searches: ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"],
                  options: [.init(name: "ndots", value: "2"), .init(name: "edns0")])),
              hostResolv: hostResolv,
              expected: "search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 192.0.2.1\noptions ndots:2 edns0\n"),
        .init(name: "None without dnsConfig is empty",
              spec: .init(hostname: "p", namespace: "ns1", podIPs: [], dnsPolicy: .none),
              hostResolv: hostResolv,
              expected: ""),
        .init(name: "ClusterFirst merged with dnsConfig",
              spec: .init(hostname: "p", namespace: "ns1", podIPs: [], dnsConfig: .init(
                  nameservers: ["10.43.0.10", "192.0.2.1"], searches: ["cluster.local", "extra.example"],
                  options: [.init(name: "ndots", value: "2"), .init(name: "single-request")])),
              hostResolv: "",
              expected: "\(clusterSearch) extra.example\nnameserver 10.43.0.10\nnameserver 192.0.2.1\noptions ndots:2 single-request\n"),
        .init(name: "at most three name servers",
              spec: .init(hostname: "p", namespace: "ns1", podIPs: [], dnsPolicy: .default, dnsConfig: .init(nameservers: ["192.0.2.3", "192.0.2.4"])),
              hostResolv: "nameserver 192.0.2.1\nnameserver 192.0.2.2\n",
              expected: "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n"),
    ]

    @Test(arguments: resolvCases)
    func resolvConf(_ c: NetworkResolvCase) {
        #expect(PodFiles().resolvConf(c.spec, hostResolvConf: c.hostResolv).rendered == c.expected)
    }

    @Test func searchListIsCutToLimits() {
        let many = (1...40).map { "d\($0).example" }
        let spec = PodFilesSpec(hostname: "p", namespace: "ns1", podIPs: [], dnsPolicy: .none, dnsConfig: .init(searches: many))
        #expect(PodFiles().resolvConf(spec, hostResolvConf: "").searches == Array(many.prefix(32)))
        let long = (1...30).map { String(repeating: "a", count: 100) + "\($0)" }
        let spec2 = PodFilesSpec(hostname: "p", namespace: "ns1", podIPs: [], dnsPolicy: .none, dnsConfig: .init(searches: long))
        #expect(PodFiles().resolvConf(spec2, hostResolvConf: "").searches.joined(separator: " ").count <= 2048)
    }

    @Test func writesFilesInPlace() throws {
        let dir = "/tmp/orca-nettest-files-\(UUID().uuidString.lowercased().prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let resolv = "\(dir)/host-resolv.conf"
        try "nameserver 192.0.2.53\nsearch corp.example\n".write(toFile: resolv, atomically: true, encoding: .utf8)
        let files = PodFiles(hostResolvConfPath: resolv, hostHostsPath: "\(dir)/missing-hosts")
        var spec = PodFilesSpec(hostname: "web-0", subdomain: "web", namespace: "shop", podIPs: ["10.42.0.9"])

        let paths = try files.write(spec, podDirectory: "\(dir)/pod")
        #expect(paths == files.paths(podDirectory: "\(dir)/pod"))
        #expect(try String(contentsOfFile: paths.hostname, encoding: .utf8) == "web-0\n")
        #expect(try String(contentsOfFile: paths.hosts, encoding: .utf8).hasSuffix("10.42.0.9\tweb-0.web.shop.svc.cluster.local\tweb-0\n"))
        #expect(try String(contentsOfFile: paths.resolvConf, encoding: .utf8)
            == "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.43.0.10\noptions ndots:5\n")

        // Rewriting keeps the inode, so a bind mount of the file sees the change.
        let inode = try FileManager.default.attributesOfItem(atPath: paths.hosts)[.systemFileNumber] as? UInt64
        spec.podIPs = ["10.42.0.10"]
        try files.write(spec, podDirectory: "\(dir)/pod")
        #expect(try FileManager.default.attributesOfItem(atPath: paths.hosts)[.systemFileNumber] as? UInt64 == inode)
        #expect(try String(contentsOfFile: paths.hosts, encoding: .utf8).contains("10.42.0.10\t"))

        // A host-network pod needs the node's hosts file.
        spec.hostNetwork = true
        #expect(throws: (any Error).self) { try files.write(spec, podDirectory: "\(dir)/pod") }
    }
}
