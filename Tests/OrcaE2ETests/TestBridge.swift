import Foundation

/// The test hosts' network: a Linux bridge `orcatb<tag>` in the root network namespace with
/// the first address of a private /24 (10.252.<n>.0/24, one no address or route of this
/// machine uses), to which every `TestHost` is joined by a veth pair.
///
/// The root namespace owns the bridge address, so a host reaches the server (running in the
/// root namespace) there or at any other local address of the machine. `remove()` deletes the
/// bridge and with it its address and connected route.
struct TestBridge: Sendable {
    /// The bridge device (at most 15 bytes).
    let name: String
    /// `10.252.<n>.`: a host's address is this prefix and its host number.
    let prefix: String

    /// The bridge's own address: the hosts' default gateway.
    var gateway: String { prefix + "1" }

    /// The address of host `index` (`.11`, `.12`, …).
    func address(ofHost index: Int) -> String { prefix + String(11 + index) }

    /// Creates the bridge with its address, up.
    init(tag: String) throws {
        name = "orcatb\(tag)"
        let used = (try? SystemCommand.run(SystemCommand.ip, ["-4", "-o", "addr"]).out) ?? ""
        let routes = (try? SystemCommand.run(SystemCommand.ip, ["-4", "route", "show", "table", "all"]).out) ?? ""
        guard let n = (1...254).shuffled().first(where: { !(used + routes).contains("10.252.\($0).") }) else {
            throw E2EError("no free 10.252.<n>.0/24 for the test hosts' bridge")
        }
        prefix = "10.252.\(n)."
        do {
            try SystemCommand.must(SystemCommand.ip, ["link", "add", "name", name, "type", "bridge"])
            try SystemCommand.must(SystemCommand.ip, ["addr", "add", "\(prefix)1/24", "dev", name])
            try SystemCommand.must(SystemCommand.ip, ["link", "set", name, "up"])
        } catch {
            remove()
            throw error
        }
    }

    /// Deletes the bridge (its address and route go with it). Never fails.
    func remove() {
        _ = try? SystemCommand.run(SystemCommand.ip, ["link", "del", name])
    }
}
