import Foundation
import OrcaAPI
import OrcaCore
@testable import OrcaNetwork
import Testing

/// `ServiceProxyRules` updating a table it knows in place: affinity sets survive, what is no longer
/// wanted is deleted, and (as root) nft takes every update between the rules tests' scenarios.
/// (What a partial update leaves out: `ServiceProxyPartialSyncTests`.)
struct ServiceProxyUpdateTests {
    typealias O = ProxyObjects
    static let rules = ServiceProxyRules(nodeName: "node-a", tableName: "orca-test")
    static let prefix = "ip orca-test"

    /// `web` (ClientIP affinity) → `webEndpoints`; `other` (10.43.0.30) → 10.42.0.9 when `withOther`.
    static func build(webEndpoints: [String], withOther: Bool = true, timeout: Int32? = nil,
                      current: ServiceProxyRules.TableContents?, fullSync: Bool = false) -> ServiceProxyRules.Output {
        var services = [O.service("web", configure: {
            $0.sessionAffinity = "ClientIP"
            if let timeout { $0.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: timeout)) }
        })]
        var slices = [O.slice("web", endpoints: webEndpoints.map { O.endpoint($0) })]
        if withOther {
            services.append(O.service("other", clusterIP: "10.43.0.30"))
            slices.append(O.slice("other", endpoints: [O.endpoint("10.42.0.9")]))
        }
        return rules.build(services: services, slices: slices, current: current, fullSync: fullSync)
    }

    @Test func aFullSyncKeepsTheTableAndItsAffinitySets() {
        let web = O.Names("web"), other = O.Names("other")
        let (a, b) = ("10.42.0.5:8080", "10.42.0.6:8080")
        let first = Self.build(webEndpoints: ["10.42.0.5", "10.42.0.6"], current: nil)
        #expect(first.sync == .recreate)
        let update = Self.build(webEndpoints: ["10.42.0.5"], withOther: false, current: first.contents, fullSync: true)
        #expect(update.sync == .full)
        let s = ProxyScript(update.script)
        let p = Self.prefix

        // No table delete; the kept affinity set is declared (idempotent), never flushed or deleted.
        #expect(Array(s.lines.dropFirst().prefix(1)) == ["add table \(p)"])
        #expect(!s.has("delete table \(p)"))
        #expect(s.has("add set \(p) \(web.affinity(a)) { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }"))
        #expect(!s.lines.contains { $0.hasPrefix("flush set") })
        #expect(!s.lines.contains { $0.hasSuffix(" \(web.affinity(a))") && $0.hasPrefix("delete") })
        // Every chain and map the script fills is flushed first.
        for chain in ["nat-prerouting", "services", web.service, web.endpoint(a)] { #expect(s.has("flush chain \(p) \(chain)")) }
        for map in ["service-ips", "service-nodeports", "no-endpoint-services", "no-endpoint-nodeports", "firewall-ips"] {
            #expect(s.has("flush map \(p) \(map)"))
        }
        // What went: the removed endpoint's chain and set, the removed service's chains.
        let gone = [web.endpoint(b), other.service, other.endpoint("10.42.0.9:8080")]
        for chain in gone {
            #expect(s.has("add chain \(p) \(chain)"))  // so the delete cannot fail if it is already gone
            #expect(s.has("flush chain \(p) \(chain)"))
            #expect(s.has("delete chain \(p) \(chain)"))
        }
        #expect(s.has("delete set \(p) \(web.affinity(b))"))
        // Deletes of chains come after every rule (nothing refers to them by then); the set's before its rules.
        let lastRule = try! #require(s.lines.lastIndex { $0.hasPrefix("add rule") })
        let firstRule = try! #require(s.lines.firstIndex { $0.hasPrefix("add rule") })
        #expect(s.lines.indices.filter { s.lines[$0].hasPrefix("delete chain") }.allSatisfy { $0 > lastRule })
        #expect(s.lines.firstIndex(of: "delete set \(p) \(web.affinity(b))")! < firstRule)
        #expect(s.lines.firstIndex(of: "flush chain \(p) \(web.service)")! < firstRule)

        // The same snapshot gives the same rules and contents however the table is reached.
        let recreated = Self.build(webEndpoints: ["10.42.0.5"], withOther: false, current: nil)
        #expect(update.rules == recreated.rules)
        #expect(update.contents == recreated.contents)
        #expect(Self.build(webEndpoints: ["10.42.0.5"], withOther: false, current: first.contents).contents == recreated.contents)
        #expect(update.script.hasSuffix(update.rules + gone.sorted().map { "delete chain \(p) \($0)\n" }.joined()))
    }

    @Test func anUnchangedSnapshotDeletesNothing() {
        let first = Self.build(webEndpoints: ["10.42.0.5", "10.42.0.6"], current: nil)
        let again = Self.build(webEndpoints: ["10.42.0.5", "10.42.0.6"], current: first.contents)
        #expect(again.rules == first.rules && again.contents == first.contents)
        #expect(again.deferringChainDeletion == nil)
        #expect(!again.script.contains("\ndelete "))
        // A partial update of nothing is the table alone.
        #expect(again.sync == .partial)
        #expect(ProxyScript(again.script).lines.filter { !$0.hasPrefix("#") } == ["add table \(Self.prefix)"])
        // Deterministic for the same snapshot and table.
        #expect(Self.build(webEndpoints: ["10.42.0.6", "10.42.0.5"], current: first.contents) == again)
    }

    @Test func aChangedAffinityTimeoutRecreatesTheSet() {
        let web = O.Names("web"), p = Self.prefix
        let set = web.affinity("10.42.0.5:8080")
        let first = Self.build(webEndpoints: ["10.42.0.5"], current: nil)
        let update = ProxyScript(Self.build(webEndpoints: ["10.42.0.5"], timeout: 60, current: first.contents).script)
        let deleted = try! #require(update.lines.firstIndex(of: "delete set \(p) \(set)"))
        let added = try! #require(update.lines.firstIndex(of: "add set \(p) \(set) { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }"))
        #expect(deleted < added)
        // Declared as it was before the delete, so the delete finds it.
        let old = try! #require(update.lines.firstIndex(of: "add set \(p) \(set) { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }"))
        #expect(old < deleted)
        // The chains that use the set are rewritten around it, though their rules are the same.
        let endpoint = web.endpoint("10.42.0.5:8080")
        for chain in [web.service, endpoint] { #expect(update.lines.firstIndex(of: "flush chain \(p) \(chain)") ?? .max < deleted) }
        for rule in ["\(web.service) ip saddr @\(set) goto \(endpoint)", "\(endpoint) update @\(set) { ip saddr }"] {
            let index = try! #require(update.lines.firstIndex(of: "add rule \(p) \(rule)"))
            #expect(index > added)
        }
        #expect(!update.has("flush chain \(p) \(O.Names("other").service)"))
    }

    @Test func chainDeletionCanBeDeferredToTheNextUpdate() throws {
        let web = O.Names("web"), other = O.Names("other"), p = Self.prefix
        let first = Self.build(webEndpoints: ["10.42.0.5"], current: nil)
        let update = Self.build(webEndpoints: ["10.42.0.5"], withOther: false, current: first.contents)
        let deferring = try #require(update.deferringChainDeletion)
        let s = ProxyScript(deferring.script)
        let gone = [other.service, other.endpoint("10.42.0.9:8080")]
        for chain in gone {
            #expect(s.has("flush chain \(p) \(chain)"))
            #expect(!s.has("delete chain \(p) \(chain)"))
        }
        #expect(deferring.contents != update.contents)
        #expect(!s.has("flush chain \(p) \(web.service)"))  // partial: web is unchanged
        let full = try #require(Self.build(webEndpoints: ["10.42.0.5"], withOther: false, current: first.contents,
                                           fullSync: true).deferringChainDeletion)
        #expect(full.contents == deferring.contents)
        for chain in gone { #expect(!ProxyScript(full.script).has("delete chain \(p) \(chain)")) }

        // The next update deletes them, and has nothing left to defer.
        let next = Self.build(webEndpoints: ["10.42.0.5"], withOther: false, current: deferring.contents)
        for chain in gone { #expect(ProxyScript(next.script).has("delete chain \(p) \(chain)")) }
        #expect(next.deferringChainDeletion == nil)
        #expect(next.contents == update.contents)
        // …while one that also empties new chains still deletes those already empty.
        let third = Self.build(webEndpoints: ["10.42.0.6"], withOther: false, current: deferring.contents)
        let thirdDeferring = ProxyScript(try #require(third.deferringChainDeletion).script)
        for chain in gone { #expect(thirdDeferring.has("delete chain \(p) \(chain)")) }
        #expect(!thirdDeferring.has("delete chain \(p) \(web.endpoint("10.42.0.5:8080"))"))
    }

    // MARK: nft takes every update (root only)

    @Test(.enabled(if: serviceProxyNFTAvailable, "needs root, nft and iproute2"))
    func nftAcceptsUpdatesBetweenScenarios() async throws {
        let scenarios = ServiceProxyRulesTests.scenarios
        let rules = ServiceProxyRules(nodeName: "node-a", tableName: "orca-test",
                                      clusterDNS: .init(ip: "10.43.0.10", target: "10.42.0.1", port: 53))
        // Every scenario to every other, both ways, and each through the deferring variant too.
        let order = [0, 1, 2, 0, 2, 1, 2, 2, 0]
        try await withScratchNamespace("ospu") { ns in
            let nft = NFTables(namespace: ns)
            var current: ServiceProxyRules.TableContents?
            for (step, index) in order.enumerated() {
                let (name, services, slices) = scenarios[index]
                let output = rules.build(services: services, slices: slices, current: current)
                let update = step % 2 == 1 ? output.deferringChainDeletion ?? .init(script: output.script, contents: output.contents)
                                           : .init(script: output.script, contents: output.contents)
                try await nft.check(update.script)
                try await nft.apply(update.script)
                current = update.contents
                let listed = try #require(try await nft.listTable(name: "orca-test"))
                let chains = Set(listed.split(separator: "\n").compactMap { line -> String? in
                    let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
                    return words.count >= 2 && words[0] == "chain" ? String(words[1]) : nil
                })
                #expect(chains == update.contents.chainNames, "step \(step): \(name)")
            }
            // A full sync still applies when the table went behind the proxy's back (it only recreates
            // it); a partial one, which trusts `current`, is refused and changes nothing.
            try await nft.deleteTable(name: "orca-test")
            let (_, services, slices) = scenarios[1]
            await #expect(throws: (any Error).self) {
                try await nft.apply(rules.build(services: services, slices: slices, current: current).script)
            }
            #expect(try await nft.listTable(name: "orca-test") == nil)
            try await nft.apply(rules.build(services: services, slices: slices, current: current, fullSync: true).script)
            #expect(try await nft.listTable(name: "orca-test")?.contains("chain \(O.Names("web").service) {") == true)
        }
    }
}
