import Foundation
import OrcaCore
import OrcaNetwork
import Testing

/// Real namespaces, real CNI plugins, a private bridge per test (root only).
@Suite(.enabled(if: networkIntegrationAvailable, "needs root, util-linux and /usr/lib/cni"))
struct NetworkPodTests {
    @Test func namespacesHoldHostnameAndTeardownUnmounts() async throws {
        try await withNetworkTestFixture { fx, pods in
            let ns = PodNamespaces(runDirectory: "\(fx.root)/run")
            let id = fx.podID("ns")
            pods.append(id)
            let (paths, created) = try await ns.create(podID: id, hostname: "web-0")
            #expect(created)
            #expect(ns.exists(podID: id))
            #expect(networkTestRun("/usr/bin/nsenter", ["--uts=\(paths.uts)", "/usr/bin/hostname"]).output
                .trimmingCharacters(in: .whitespacesAndNewlines) == "web-0")
            // The host's name is untouched.
            #expect(ProcessInfo.processInfo.hostName != "web-0")
            #expect(Set(fx.mountsUnderRoot()) == Set(paths.all))

            let again = try await ns.create(podID: id, hostname: "other")
            #expect(!again.created)
            #expect(again.paths == paths)

            try ns.remove(podID: id)
            #expect(fx.mountsUnderRoot().isEmpty)
            #expect(!ns.exists(podID: id))
            for p in paths.all { #expect(!FileManager.default.fileExists(atPath: p)) }
            try ns.remove(podID: id)  // missing is fine
        }
    }

    @Test func rejectsBadIDsAndHostnames() async throws {
        let ns = PodNamespaces(runDirectory: "/tmp/orca-nettest-unused")
        await #expect(throws: OrcaError.self) { try await ns.create(podID: "../x", hostname: "a") }
        await #expect(throws: OrcaError.self) { try await ns.create(podID: "ok", hostname: "-n") }
        #expect(throws: OrcaError.self) { try ns.remove(podID: "") }
    }

    @Test func twoSandboxesGetDistinctIPsAndReachEachOther() async throws {
        try await withNetworkTestFixture { fx, pods in
            let a = fx.podID("a"), b = fx.podID("b")
            pods += [a, b]
            let sa = try await fx.network.setUp(podID: a, hostname: "pod-a")
            let sb = try await fx.network.setUp(podID: b, hostname: "pod-b")
            #expect(sa.podIP != sb.podIP)
            let prefix = String(fx.subnet.dropLast("0/24".count))
            #expect(sa.podIP.hasPrefix(prefix) && sb.podIP.hasPrefix(prefix))
            #expect(sa.prefixLength == 24)
            #expect(sa.gateway == prefix + "1")
            #expect(sa.interfaceName == "eth0")
            #expect(fx.allocatedIPs() == [sa.podIP, sb.podIP].sorted())
            #expect(Set(fx.bridgePorts()) == Set([sa.hostInterfaceName, sb.hostInterfaceName].compactMap { $0 }))

            // lo is up (loopback plugin) and eth0 holds the pod IP.
            let lo = networkTestRun("/usr/bin/nsenter", ["--net=\(sa.namespaces.network)", "/usr/sbin/ip", "-o", "link", "show", "lo"])
            #expect(lo.output.contains("UP"))
            let addr = networkTestRun("/usr/bin/nsenter", ["--net=\(sa.namespaces.network)", "/usr/sbin/ip", "-o", "-4", "addr", "show", "eth0"])
            #expect(addr.output.contains("\(sa.podIP)/24"))
            #expect(networkTestRun("/usr/bin/nsenter", ["--uts=\(sb.namespaces.uts)", "/usr/bin/hostname"]).output
                .trimmingCharacters(in: .whitespacesAndNewlines) == "pod-b")

            // Pod A pings pod B and itself over loopback; pod B pings pod A.
            let ping = networkTestRun("/usr/bin/nsenter", ["--net=\(sa.namespaces.network)", "/usr/bin/busybox", "ping", "-c1", "-W2", sb.podIP])
            #expect(ping.code == 0, "\(ping.output)")
            let back = networkTestRun("/usr/bin/nsenter", ["--net=\(sb.namespaces.network)", "/usr/bin/busybox", "ping", "-c1", "-W2", sa.podIP])
            #expect(back.code == 0, "\(back.output)")
            let local = networkTestRun("/usr/bin/nsenter", ["--net=\(sa.namespaces.network)", "/usr/bin/busybox", "ping", "-c1", "-W2", "127.0.0.1"])
            #expect(local.code == 0, "\(local.output)")

            // Set-up of an existing sandbox returns it unchanged.
            let again = try await fx.network.setUp(podID: a, hostname: "pod-a")
            #expect(again == sa)
            #expect(fx.network.existingSandbox(podID: a) == sa)
            try await fx.network.check(podID: a)
            // CHECK notices a sandbox whose interface was removed behind our back.
            networkTestRun("/usr/bin/nsenter", ["--net=\(sb.namespaces.network)", "/usr/sbin/ip", "addr", "flush", "dev", "eth0"])
            await #expect(throws: OrcaError.self) { try await fx.network.check(podID: b) }

            try await fx.network.tearDown(podID: a)
            try await fx.network.tearDown(podID: b)
            #expect(fx.allocatedIPs().isEmpty)
            #expect(fx.bridgePorts().isEmpty)
            #expect(fx.mountsUnderRoot().isEmpty)
            for veth in [sa.hostInterfaceName, sb.hostInterfaceName].compactMap({ $0 }) {
                #expect(networkTestRun("/usr/sbin/ip", ["link", "show", veth]).code != 0)
            }
            for p in sa.namespaces.all + sb.namespaces.all { #expect(!FileManager.default.fileExists(atPath: p)) }
            #expect(fx.network.existingSandbox(podID: a) == nil)
            await #expect(throws: OrcaError.self) { try await fx.network.check(podID: a) }
            try await fx.network.tearDown(podID: a)  // again: fine
        }
    }

    @Test func tearDownOfUnknownPodIsFine() async throws {
        try await withNetworkTestFixture { fx, _ in
            try await fx.network.tearDown(podID: fx.podID("never"))
        }
    }

    @Test func setUpAdoptsPartialSandbox() async throws {
        try await withNetworkTestFixture { fx, pods in
            let id = fx.podID("partial")
            pods.append(id)
            // A crash after the namespaces were made but before CNI ADD.
            _ = try await fx.network.namespaces.create(podID: id, hostname: "partial")
            let s = try await fx.network.setUp(podID: id, hostname: "partial")
            #expect(fx.allocatedIPs() == [s.podIP])
            try await fx.network.tearDown(podID: id)
            #expect(fx.allocatedIPs().isEmpty)
            #expect(fx.mountsUnderRoot().isEmpty)
        }
    }

    @Test func failedSetUpLeavesNothingAndReportsPluginMessage() async throws {
        try await withNetworkTestFixture { fx, pods in
            var config = fx.network.configuration
            config.subnet = "not-a-subnet"
            let broken = PodNetwork(configuration: config)
            let id = fx.podID("broken")
            pods.append(id)
            do {
                _ = try await broken.setUp(podID: id, hostname: "broken")
                Issue.record("setUp with an invalid subnet succeeded")
            } catch let error as OrcaError {
                #expect(error.code == .networkPlugin)
                #expect(error.message.contains("CNI plugin bridge ADD failed"), "\(error)")
            }
            #expect(fx.mountsUnderRoot().isEmpty)
            #expect(!broken.namespaces.exists(podID: id))
            #expect(fx.allocatedIPs().isEmpty)
        }
    }
}
