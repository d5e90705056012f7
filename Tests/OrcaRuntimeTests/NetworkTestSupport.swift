import Foundation
import OrcaCore
import OrcaNetwork
import Testing

/// Runs a host command for network tests (no shell); returns its exit code and combined output.
@discardableResult
func networkTestRun(_ executable: String, _ arguments: [String]) -> (code: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Whether network integration tests can run here (root, CNI plugins, unshare).
let networkIntegrationAvailable: Bool = getuid() == 0
    && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter")

/// A private bridge, subnet (10.250.x.0/24) and temporary run/data dirs for one test; `cleanUp`
/// removes every pod sandbox, namespace mount, veth, the bridge and the files it made.
struct NetworkTestFixture: Sendable {
    let root: String
    let bridge: String
    let subnet: String
    let network: PodNetwork
    let ipForwardBefore: String?

    init() throws {
        let token = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        root = "/tmp/orca-nettest-\(token.prefix(12))"
        bridge = "orct\(token.prefix(8))"
        // A /24 in 10.250.0.0/16 that no interface on this machine uses yet.
        let inUse = networkTestRun("/usr/sbin/ip", ["-4", "-o", "addr", "show"]).output
            + networkTestRun("/usr/sbin/ip", ["-4", "route", "show"]).output
        var third = Int.random(in: 1...254)
        for _ in 0..<254 where inUse.contains("10.250.\(third).") { third = third % 254 + 1 }
        subnet = "10.250.\(third).0/24"
        ipForwardBefore = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        network = PodNetwork(configuration: .init(
            networkName: "orcatest", bridgeName: bridge, subnet: subnet,
            runDirectory: "\(root)/run", dataDirectory: "\(root)/data"))
    }

    /// A unique pod sandbox ID.
    func podID(_ name: String) -> String { "\(name)-\(UUID().uuidString.lowercased().prefix(8))" }

    /// host-local's allocation directory of the test network.
    var allocationDirectory: String { "\(root)/data/cni/networks/orcatest" }

    /// The addresses host-local holds (files named like IPs).
    func allocatedIPs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: allocationDirectory)) ?? []
        return names.filter { $0.hasPrefix("10.250.") }.sorted()
    }

    /// Host interfaces enslaved to the test bridge.
    func bridgePorts() -> [String] {
        let out = networkTestRun("/usr/sbin/ip", ["-o", "link", "show", "master", bridge]).output
        return out.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":")
            return parts.count > 1 ? String(parts[1].trimmingCharacters(in: .whitespaces).split(separator: "@")[0]) : nil
        }
    }

    /// Mount points under the fixture root still in our mount table.
    func mountsUnderRoot() -> [String] { MountTable.mountPoints().filter { $0.hasPrefix(root) } }

    /// Removes everything the test made, whatever state it is in.
    func cleanUp(podIDs: [String]) async {
        for id in podIDs { try? await network.tearDown(podID: id) }
        for mount in mountsUnderRoot() {
            for _ in 0..<8 where networkTestRun("/usr/bin/umount", ["-l", mount]).code == 0 {}
        }
        if networkTestRun("/usr/sbin/ip", ["link", "show", bridge]).code == 0 {
            networkTestRun("/usr/sbin/ip", ["link", "del", bridge])
        }
        if ipForwardBefore == "0" {
            try? "0\n".write(toFile: "/proc/sys/net/ipv4/ip_forward", atomically: false, encoding: .utf8)
        }
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Runs `body` with a fresh fixture and cleans up afterwards, also when `body` throws.
func withNetworkTestFixture(_ body: (NetworkTestFixture, inout [String]) async throws -> Void) async throws {
    let fixture = try NetworkTestFixture()
    var pods: [String] = []
    do {
        try await body(fixture, &pods)
    } catch {
        await fixture.cleanUp(podIDs: pods)
        throw error
    }
    await fixture.cleanUp(podIDs: pods)
}
