import Foundation
import OrcaCore

/// The benchmark hosts' network: a Linux bridge `orcbb<tag>` in the root network namespace
/// holding the first address of a private /24 (10.254.<n>.0/24, one no address or route of
/// this machine uses), to which every `BenchHost` is joined by a veth pair.
///
/// The server runs in the root namespace, so the hosts reach it at the bridge address (which
/// its certificate names through `--tls-san`). `remove()` deletes the bridge, and with it its
/// address and connected route.
struct BenchBridge: Sendable {
    /// The bridge device (at most 15 bytes).
    let name: String
    /// `10.254.<n>.`: a host's address is this prefix and its host number.
    let prefix: String

    /// The bridge's own address, where the hosts reach the server.
    var gateway: String { prefix + "1" }

    /// The address of host `index` (`.11`, `.12`, …).
    func address(ofHost index: Int) -> String { prefix + String(11 + index) }

    /// The most hosts one bridge numbers (`.11` to `.254`).
    static let maxHosts = 244

    /// Creates the bridge with its address, up. A failure removes what was made.
    static func create(tag: String) async throws -> BenchBridge {
        let used = await BenchSystem.output(BenchSystem.ip, ["-4", "-o", "addr"])
            + BenchSystem.output(BenchSystem.ip, ["-4", "route", "show", "table", "all"])
        guard let n = (1...254).shuffled().first(where: { !used.contains("10.254.\($0).") }) else {
            throw OrcaError(.unavailable, "no free 10.254.<n>.0/24 for the benchmark hosts' bridge")
        }
        let bridge = BenchBridge(name: "orcbb\(tag)", prefix: "10.254.\(n).")
        do {
            try await BenchSystem.must(BenchSystem.ip, ["link", "add", "name", bridge.name, "type", "bridge"])
            try await BenchSystem.must(BenchSystem.ip, ["addr", "add", "\(bridge.gateway)/24", "dev", bridge.name])
            try await BenchSystem.must(BenchSystem.ip, ["link", "set", bridge.name, "up"])
        } catch {
            await bridge.remove()
            throw error
        }
        return bridge
    }

    /// Deletes the bridge (its address and route go with it). Never fails.
    func remove() async {
        _ = try? await BenchSystem.run(BenchSystem.ip, ["link", "del", name])
    }
}
