import Foundation
import OrcaCore
import OrcaRuntime

/// The service proxy's nftables table on a bench host, read from outside with `nsenter
/// --net=<host netns> nft list …`, and the parsing `orca bench services` needs: the
/// `service-ips` map (ClusterIP → service chain), a service chain (which names its endpoint
/// chains, `endpoint-HASH-ns/svc/proto/port__IP/PORT`), the whole table and its size.
///
/// Listing the whole table of 1,000 services × 10 endpoints takes nft most of a second, so the
/// polls read the map (tens of ms) or one chain (about 0.1 s) instead.
struct ServicesBenchmarkTable: Sendable {
    /// The host's network namespace file (`/run/netns/…`).
    let netnsPath: String
    /// The proxy's `ip` table.
    let name: String

    /// The map from `ClusterIP . proto . port` to the service chain (see ServiceProxyScriptWriter).
    static let serviceIPsMap = "service-ips"
    static let nftPath = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/nft"
    /// Room for a map or a chain, and for the whole table (the output buffers are reserved up front).
    private static let pollRunner = SubprocessCommandRunner(outputLimit: 4 << 20)
    private static let tableRunner = SubprocessCommandRunner(outputLimit: 128 << 20)

    /// `nft <arguments>` in the host's namespace; its output, or an error with nft's message.
    func nft(_ arguments: [String], large: Bool = false) async throws -> String {
        let runner = large ? Self.tableRunner : Self.pollRunner
        let r = try await runner.run(BenchSystem.nsenter, ["--net=\(netnsPath)", Self.nftPath] + arguments, environment: nil)
        guard r.exitCode == 0 else {
            throw OrcaError(.system, "nft \(arguments.joined(separator: " ")) exited \(r.exitCode): \(r.errorText.prefix(400))")
        }
        return String(decoding: r.standardOutput, as: UTF8.self)
    }

    /// `nft list table ip <name>`.
    func listTable() async throws -> String { try await nft(["list", "table", "ip", name], large: true) }

    /// `nft list map ip <name> service-ips`.
    func listServiceMap() async throws -> String { try await nft(["list", "map", "ip", name, Self.serviceIPsMap]) }

    /// `nft list chain ip <name> <chain>`.
    func listChain(_ chain: String) async throws -> String { try await nft(["list", "chain", "ip", name, chain]) }

    /// The `service-ips` keys (`10.43.0.12 . tcp . 80`) and their verdicts (`goto service-…`).
    func serviceMap() async throws -> [String: String] {
        Dictionary(Self.mapElements(try await listServiceMap()), uniquingKeysWith: { a, _ in a })
    }

    /// The map key of a TCP service port: `10.43.0.12 . tcp . 80`.
    static func key(clusterIP: String, port: Int) -> String { "\(clusterIP) . tcp . \(port)" }

    // MARK: parsing

    /// The `key : value` elements of every `elements = { … }` block in a listing.
    static func mapElements(_ listing: String) -> [(String, String)] {
        var out: [(String, String)] = []
        var rest = Substring(listing)
        while let open = rest.range(of: "elements = {") {
            rest = rest[open.upperBound...]
            let close = rest.firstIndex(of: "}") ?? rest.endIndex
            for element in rest[..<close].split(separator: ",") {
                let text = element.trimmingCharacters(in: .whitespacesAndNewlines)
                guard let colon = text.range(of: " : ") else { continue }
                out.append((String(text[..<colon.lowerBound]), String(text[colon.upperBound...])))
            }
            rest = rest[close...]
        }
        return out
    }

    /// Whether `text` holds the address `ip` as a whole token (not `10.42.0.1` inside `10.42.0.15`).
    static func containsAddress(_ text: String, _ ip: String) -> Bool {
        let hay = Array(text.utf8), needle = Array(ip.utf8)
        guard !needle.isEmpty, hay.count >= needle.count else { return false }
        func isAddressByte(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || b == 0x2E }
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == needle[0], hay[i..<(i + needle.count)].elementsEqual(needle),
               i == 0 || !isAddressByte(hay[i - 1]),
               i + needle.count == hay.count || !(hay[i + needle.count] >= 0x30 && hay[i + needle.count] <= 0x39) {
                return true
            }
            i += 1
        }
        return false
    }

    /// What a table listing holds.
    struct Stats: Sendable, Hashable {
        var bytes = 0
        var lines = 0
        var chains = 0
        /// Chains attached to a hook (`type … hook …`).
        var baseChains = 0
        /// Chains named `service-…` and `endpoint-…` (per service port and per endpoint).
        var serviceChains = 0
        var endpointChains = 0
        var rules = 0
        var maps = 0
        var sets = 0
        /// Elements of every named map and set.
        var elements = 0
    }

    /// Counts what `nft list table` printed: chain, map and set blocks, the rules in chains (one
    /// per line), the elements of maps and sets.
    static func stats(_ listing: String) -> Stats {
        var s = Stats()
        s.bytes = listing.utf8.count
        enum Block { case none, chain, set }
        var block = Block.none
        var inElements = false
        for raw in listing.split(separator: "\n", omittingEmptySubsequences: false) {
            s.lines += 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if inElements {
                s.elements += line.split(separator: ",").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && $0.trimmingCharacters(in: .whitespaces) != "}" }.count
                if line.hasSuffix("}") { inElements = false }
                continue
            }
            switch block {
            case .none:
                if line.hasPrefix("chain "), line.hasSuffix("{") {
                    block = .chain
                    s.chains += 1
                    if line.hasPrefix("chain service-") { s.serviceChains += 1 }
                    if line.hasPrefix("chain endpoint-") { s.endpointChains += 1 }
                } else if line.hasPrefix("map "), line.hasSuffix("{") {
                    block = .set
                    s.maps += 1
                } else if line.hasPrefix("set "), line.hasSuffix("{") {
                    block = .set
                    s.sets += 1
                }
            case .chain:
                if line == "}" {
                    block = .none
                } else if line.hasPrefix("type "), line.contains(" hook ") {
                    s.baseChains += 1
                } else if !line.isEmpty, !line.hasPrefix("#") {
                    s.rules += 1
                }
            case .set:
                if line == "}" {
                    block = .none
                } else if line.hasPrefix("elements = {") {
                    let body = line.dropFirst("elements = {".count)
                    s.elements += body.split(separator: ",").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && $0.trimmingCharacters(in: .whitespaces) != "}" }.count
                    inElements = !line.hasSuffix("}")
                }
            }
        }
        if listing.hasSuffix("\n") { s.lines -= 1 }
        return s
    }
}
