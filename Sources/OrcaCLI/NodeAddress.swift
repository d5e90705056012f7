import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// The host's name and primary IPv4 address.
enum NodeAddress {
    static func hostname() -> String { HostInfo.hostname() ?? "" }

    /// The first non-loopback IPv4 address of an interface that is up.
    static func primaryIPv4() -> String? {
        var ifaddr: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&ifaddr) == 0, let first = ifaddr else { return nil }
        defer { freeifaddrs(ifaddr) }
        var cur: UnsafeMutablePointer<ifaddrs>? = first
        while let p = cur {
            defer { cur = p.pointee.ifa_next }
            guard let addr = p.pointee.ifa_addr, addr.pointee.sa_family == UInt16(AF_INET) else { continue }
            let name = String(cString: p.pointee.ifa_name)
            if name == "lo" || name.hasPrefix("orca") || name.hasPrefix("veth") || name.hasPrefix("cni") { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(addr, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 {
                return String(cString: host)
            }
        }
        return nil
    }
}
