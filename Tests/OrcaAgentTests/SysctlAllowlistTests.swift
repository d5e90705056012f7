import Foundation
import OrcaClient
import Testing
@testable import OrcaAgent

/// The node's sysctl allowlist (the kubelet's): the safe set by kernel version, unsafe
/// patterns from `--allowed-unsafe-sysctls`, host-namespace conflicts and name normalization.
struct SysctlAllowlistTests {
    static func pod(_ sysctls: [(String, String)], hostNetwork: Bool = false, hostIPC: Bool = false) -> JSONValue {
        let entries: [JSONValue] = sysctls.map { ["name": .string($0.0), "value": .string($0.1)] }
        return ["spec": ["hostNetwork": .bool(hostNetwork), "hostIPC": .bool(hostIPC),
                         "securityContext": ["sysctls": .array(entries)]]]
    }

    @Test func safeSysctlsAreAdmittedAndUnsafeOnesRejected() throws {
        let allowlist = try SysctlAllowlist(kernelVersion: (6, 1))
        #expect(allowlist.rejection(of: Self.pod([("kernel.shm_rmid_forced", "1"), ("net.ipv4.tcp_wmem", "4096 16384 4194304")])) == nil)
        #expect(allowlist.rejection(of: ["spec": [:]]) == nil)
        #expect(allowlist.rejection(of: Self.pod([("kernel.shm_rmid_forced", "1"), ("kernel.msgmax", "10000")]))
                == #"forbidden sysctl: "kernel.msgmax" not allowlisted"#)
    }

    @Test func kernelVersionGatesTheNewerSafeSysctls() throws {
        let old = try SysctlAllowlist(kernelVersion: (4, 4))
        #expect(old.rejection(of: Self.pod([("net.ipv4.ip_local_reserved_ports", "30000")])) == nil)
        #expect(old.rejection(of: Self.pod([("net.ipv4.tcp_keepalive_time", "60")])) != nil)
        #expect(try SysctlAllowlist(kernelVersion: (4, 5)).rejection(of: Self.pod([("net.ipv4.tcp_keepalive_time", "60")])) == nil)
    }

    @Test func unsafePatternsAllowNamesAndPrefixes() throws {
        let allowlist = try SysctlAllowlist(allowingUnsafe: ["kernel.msg*", "net.core.somaxconn"], kernelVersion: (6, 1))
        #expect(allowlist.rejection(of: Self.pod([("kernel.msgmax", "10000"), ("net.core.somaxconn", "1024")])) == nil)
        #expect(allowlist.rejection(of: Self.pod([("net.core.rmem_max", "1")])) != nil)
        #expect(try SysctlAllowlist(allowingUnsafe: ["net.*"], kernelVersion: (6, 1)).rejection(of: Self.pod([("net.core.rmem_max", "1")])) == nil)
    }

    @Test(arguments: ["kernel.panic", "vm.swappiness", "kernel.*", "*", "Net.core", "net..core", ""])
    func nonNamespacedOrMalformedPatternsAreRefused(_ pattern: String) {
        #expect(throws: SysctlAllowlist.AllowlistError.self) { try SysctlAllowlist(allowingUnsafe: [pattern], kernelVersion: (6, 1)) }
    }

    @Test func hostNamespacesConflictWithTheirSysctls() throws {
        let allowlist = try SysctlAllowlist(kernelVersion: (6, 1))
        #expect(allowlist.rejection(of: Self.pod([("net.ipv4.tcp_syncookies", "1")], hostNetwork: true))
                == #"forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host Net enabled"#)
        #expect(allowlist.rejection(of: Self.pod([("kernel.shm_rmid_forced", "1")], hostIPC: true)) != nil)
        #expect(allowlist.rejection(of: Self.pod([("kernel.shm_rmid_forced", "1")], hostNetwork: true)) == nil)
    }

    @Test func slashSeparatedNamesAreNormalized() throws {
        #expect(SysctlAllowlist.normalize("net/ipv4/conf/eno2.100/rp_filter") == "net.ipv4.conf.eno2/100.rp_filter")
        #expect(SysctlAllowlist.normalize("net.ipv4.tcp_syncookies") == "net.ipv4.tcp_syncookies")
        let allowlist = try SysctlAllowlist(kernelVersion: (6, 1))
        #expect(allowlist.rejection(of: Self.pod([("net/ipv4/tcp_syncookies", "1")])) == nil)
        #expect(SysctlAllowlist.values(of: Self.pod([("net/ipv4/tcp_syncookies", "1")])) == ["net.ipv4.tcp_syncookies": "1"])
        #expect(SysctlAllowlist.values(of: ["spec": [:]]) == nil)
    }
}
