import Foundation
import NIOCore

extension ClusterDNSServer {
    /// The port upstream resolvers listen on.
    public static let upstreamPort = 53

    /// The name servers of `resolvConf` as upstream addresses on port 53, in order. Addresses in
    /// `excluding` (the cluster DNS's own) and entries that are not IP addresses (or carry a
    /// zone, `fe80::1%eth0`) are skipped, so the server never forwards to itself.
    public static func upstreams(from resolvConf: ResolvConf, excluding: [String] = []) -> [SocketAddress] {
        let excluded = Set(excluding.compactMap { IPAddress($0) })
        var seen: Set<IPAddress> = []
        return resolvConf.nameservers.compactMap { nameserver in
            guard let address = IPAddress(nameserver), !excluded.contains(address), seen.insert(address).inserted else { return nil }
            return try? SocketAddress(ipAddress: address.description, port: upstreamPort)
        }
    }

    /// `upstreams(from:excluding:)` of the host's resolver file (`/etc/resolv.conf`); no
    /// upstreams when the file cannot be read. `ResolvConfWatcher` reads it again on changes.
    public static func hostUpstreams(resolvConfPath: String = "/etc/resolv.conf", excluding: [String] = []) -> [SocketAddress] {
        guard let text = try? String(contentsOfFile: resolvConfPath, encoding: .utf8) else { return [] }
        return upstreams(from: ResolvConf(parsing: text), excluding: excluding)
    }
}
