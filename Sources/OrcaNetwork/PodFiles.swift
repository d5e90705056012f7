import Foundation
import OrcaCore

/// Writes a pod's `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` into its pod directory, to be
/// bind-mounted into each container — as the kubelet and the CRI runtime do.
///
/// The content functions are pure (`hostsFileContent`, `resolvConf`); `write` reads the node's
/// `/etc/hosts` and `/etc/resolv.conf` only for the policies that use them.
public struct PodFiles: Sendable {
    /// The files written for one pod.
    public struct Paths: Hashable, Sendable {
        /// `<pod-dir>/etc-hosts`, mounted at `/etc/hosts`.
        public var hosts: String
        /// `<pod-dir>/etc-hostname`, mounted at `/etc/hostname`.
        public var hostname: String
        /// `<pod-dir>/resolv.conf`, mounted at `/etc/resolv.conf`.
        public var resolvConf: String
    }

    /// Header of a pod's own hosts file.
    public static let managedHostsHeader = "# Kubernetes-managed hosts file.\n"
    /// Header of a host-network pod's hosts file (a copy of the node's).
    public static let managedHostsHeaderWithHostNetwork = "# Kubernetes-managed hosts file (host network).\n"

    /// The cluster DNS domain (`cluster.local`).
    public var clusterDomain: String
    /// The cluster DNS service addresses (`10.43.0.10`).
    public var clusterDNS: [String]
    /// The node's resolver config, used by `Default` (and for its search domains by `ClusterFirst`).
    public var hostResolvConfPath: String
    /// The node's hosts file, copied for host-network pods.
    public var hostHostsPath: String

    /// Creates a writer with Orca's cluster DNS defaults.
    public init(clusterDomain: String = "cluster.local", clusterDNS: [String] = ["10.43.0.10"],
                hostResolvConfPath: String = "/etc/resolv.conf", hostHostsPath: String = "/etc/hosts") {
        self.clusterDomain = clusterDomain
        self.clusterDNS = clusterDNS
        self.hostResolvConfPath = hostResolvConfPath
        self.hostHostsPath = hostHostsPath
    }

    /// Where the files of a pod directory are.
    public func paths(podDirectory: String) -> Paths {
        Paths(hosts: "\(podDirectory)/etc-hosts", hostname: "\(podDirectory)/etc-hostname", resolvConf: "\(podDirectory)/resolv.conf")
    }

    /// Writes the three files into `podDirectory` (created if missing), in place, so existing bind
    /// mounts see the new content.
    @discardableResult
    public func write(_ spec: PodFilesSpec, podDirectory: String) throws -> Paths {
        let p = paths(podDirectory: podDirectory)
        let hostHosts = spec.hostNetwork ? try Self.readFile(hostHostsPath) : ""
        let policy = effectiveDNSPolicy(spec)
        let hostResolv = policy == .none ? "" : (try? Self.readFile(hostResolvConfPath)) ?? ""
        try SystemCall.createDirectories(podDirectory)
        try SystemCall.writeFile(p.hosts, Array(hostsFileContent(spec, hostHostsFile: hostHosts).utf8))
        try SystemCall.writeFile(p.hostname, Array("\(spec.hostname)\n".utf8))
        try SystemCall.writeFile(p.resolvConf, Array(resolvConf(spec, hostResolvConf: hostResolv).rendered.utf8))
        return p
    }

    /// The domain after the hostname in the pod's FQDN: `<subdomain>.<namespace>.svc.<cluster-domain>`,
    /// or nil without a subdomain.
    public func hostDomain(_ spec: PodFilesSpec) -> String? {
        guard let sub = spec.subdomain, !sub.isEmpty else { return nil }
        return "\(sub).\(spec.namespace).svc.\(clusterDomain)"
    }

    static func readFile(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OrcaError(.system, "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
