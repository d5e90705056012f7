import Foundation
import OrcaAPI
import OrcaCore
@testable import OrcaNetwork
import Testing

/// `ServiceProxyRules`' partial updates (kube-proxy's partial sync): a change touches only its own
/// service's chains and map elements, and (as root) a sequence of partial updates leaves exactly
/// the table a recreate of the final state makes.
struct ServiceProxyPartialSyncTests {
    typealias O = ProxyObjects
    static let p = "ip orca-test"

    /// One step of a cluster: services `svc-N` (ClusterIP 10.43.1.N, port 80 → 8080) and their
    /// endpoints.
    struct Cluster {
        var endpoints: [Int: [String]] = [:]
        var configure: [Int: (inout ServiceSpec) -> Void] = [:]

        /// `count` services with three endpoints each (10.42.N.1-3).
        static func many(_ count: Int) -> Cluster {
            var cluster = Cluster()
            for i in 0..<count { cluster.endpoints[i] = (1...3).map { "10.42.\(i).\($0)" } }
            return cluster
        }

        var services: [Service] {
            endpoints.keys.sorted().map { i in
                O.service("svc-\(i)", clusterIP: "10.43.1.\(i)", configure: { spec in configure[i]?(&spec) })
            }
        }
        var slices: [EndpointSlice] {
            endpoints.keys.sorted().map { i in O.slice("svc-\(i)", endpoints: (endpoints[i] ?? []).map { O.endpoint($0) }) }
        }

        func build(_ rules: ServiceProxyRules = ServiceProxyUpdateTests.rules,
                   current: ServiceProxyRules.TableContents?) -> ServiceProxyRules.Output {
            rules.build(services: services, slices: slices, current: current)
        }
    }

    /// The script's commands (comments left out).
    static func commands(_ output: ServiceProxyRules.Output) -> [String] {
        ProxyScript(output.script).lines.filter { !$0.hasPrefix("#") }
    }

    @Test func anEndpointChangeRewritesOnlyItsServiceChain() {
        var cluster = Cluster.many(50)
        let first = cluster.build(current: nil)
        cluster.endpoints[7] = ["10.42.7.1", "10.42.7.2", "10.42.7.9"]
        let update = cluster.build(current: first.contents)
        let n = O.Names("svc-7"), (gone, new) = (n.endpoint("10.42.7.3:8080"), n.endpoint("10.42.7.9:8080"))
        let commands = Self.commands(update)
        let rules = ProxyScript(cluster.build(current: nil).script)
        let p = Self.p
        #expect(commands == ["add table \(p)", "add chain \(p) \(new)", "flush chain \(p) \(n.service)", "flush chain \(p) \(gone)"]
                + rules.rules(of: new).map { "add rule \(p) \(new) \($0)" }  // in chain order: endpoints first
                + rules.rules(of: n.service).map { "add rule \(p) \(n.service) \($0)" }
                + ["delete chain \(p) \(gone)"])
        #expect(!commands.contains { $0.contains("element") || $0.hasPrefix("flush map") })
        #expect(update.sync == .partial)
        // What the table holds afterwards does not depend on how it was reached.
        #expect(update.contents == cluster.build(current: nil).contents)
        #expect(update.rules == cluster.build(current: nil).rules)
    }

    @Test func addingAndRemovingAServiceTouchesOnlyItsElementsAndChains() {
        var cluster = Cluster.many(20)
        let first = cluster.build(current: nil)
        let p = Self.p

        cluster.endpoints[20] = ["10.42.20.1"]
        let added = cluster.build(current: first.contents)
        let n = O.Names("svc-20"), endpoint = n.endpoint("10.42.20.1:8080")
        let commands = Self.commands(added)
        #expect(commands.filter { !$0.hasPrefix("add rule") } == [
            "add table \(p)", "add chain \(p) \(endpoint)", "add chain \(p) \(n.service)",
            "add element \(p) service-ips { 10.43.1.20 . tcp . 80 : goto \(n.service) }",
        ])
        #expect(commands.filter { $0.hasPrefix("add rule") }.allSatisfy {
            $0.hasPrefix("add rule \(p) \(n.service) ") || $0.hasPrefix("add rule \(p) \(endpoint) ")
        })
        #expect(added.contents == cluster.build(current: nil).contents)

        cluster.endpoints[3] = nil
        let removed = cluster.build(current: added.contents)
        let r = O.Names("svc-3")
        let chains = [r.service] + (1...3).map { r.endpoint("10.42.3.\($0):8080") }
        #expect(Self.commands(removed) == ["add table \(p)"]
                + chains.map { "flush chain \(p) \($0)" }.sorted()
                + ["delete element \(p) service-ips { 10.43.1.3 . tcp . 80 }"]
                + chains.map { "delete chain \(p) \($0)" }.sorted())
        #expect(removed.contents == cluster.build(current: nil).contents)

        // Its last endpoint gone, a service's element moves from dispatch to reject.
        cluster.endpoints[5] = []
        let emptied = Self.commands(cluster.build(current: removed.contents))
        #expect(emptied.filter { $0.contains("element") } == [
            "delete element \(p) service-ips { 10.43.1.5 . tcp . 80 }",
            "add element \(p) no-endpoint-services { 10.43.1.5 . tcp . 80 : goto reject-chain }",
        ])
        #expect(!emptied.contains { $0.hasPrefix("add rule") })
    }

    @Test func aChangedVerdictIsDeletedThenAdded() {
        var cluster = Cluster.many(3)
        let first = cluster.build(current: nil)
        cluster.configure[1] = { $0.internalTrafficPolicy = "Local" }
        let n = O.Names("svc-1")
        let commands = Self.commands(cluster.build(current: first.contents))
        let deleted = try! #require(commands.firstIndex(of: "delete element \(Self.p) service-ips { 10.43.1.1 . tcp . 80 }"))
        let added = try! #require(commands.firstIndex(of: "add element \(Self.p) service-ips { 10.43.1.1 . tcp . 80 : goto \(n.local) }"))
        #expect(deleted < added)
        // The local chain exists before the element names it; the cluster chain goes after it no longer does.
        #expect(commands.firstIndex(of: "add chain \(Self.p) \(n.local)") ?? .max < added)
        #expect(commands.firstIndex(of: "delete chain \(Self.p) \(n.service)") ?? -1 > added)
    }

    // MARK: nft: partial updates leave what a recreate makes (root only)

    /// The table as nft lists it, order-independent: one line per chain, set and map (sorted), map
    /// elements sorted; set elements (what affinity learnt) are left out.
    static func normalized(_ listing: String) -> [String] {
        var blocks: [String] = []
        var block: [String]?
        for raw in listing.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard var lines = block else {
                if ["chain ", "set ", "map "].contains(where: { line.hasPrefix($0) }) { block = [line] }
                continue
            }
            if line == "}" {
                var text = lines.joined(separator: " ")
                if let start = text.range(of: "elements = { "), let end = text[start.upperBound...].firstIndex(of: "}") {
                    let elements = text[start.upperBound..<end].split(separator: ",")
                        .map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
                    let kept = lines[0].hasPrefix("map ") ? "elements = { " + elements.joined(separator: ", ") + " }" : ""
                    text.replaceSubrange(start.lowerBound...end, with: kept)
                }
                blocks.append(text.trimmingCharacters(in: .whitespaces))
                block = nil
            } else {
                lines.append(line)
                block = lines
            }
        }
        return blocks.sorted()
    }

    /// The elements of set `name` in the table.
    static func setElements(_ ns: String, _ name: String) -> String {
        networkTestRun("/usr/sbin/ip", ["netns", "exec", ns, "/usr/sbin/nft", "list", "set", "ip", "orca-test", name]).output
    }

    @Test(.enabled(if: serviceProxyNFTAvailable, "needs root, nft and iproute2"))
    func partialUpdatesLeaveWhatARecreateMakes() async throws {
        let rules = ServiceProxyRules(nodeName: "node-a", tableName: "orca-test",
                                      clusterDNS: .init(ip: "10.43.0.10", target: "10.42.0.1", port: 53))
        var cluster = Cluster.many(10)
        cluster.configure[2] = { $0.sessionAffinity = "ClientIP" }
        var steps: [(String, Cluster)] = [("start", cluster)]
        cluster.endpoints[3] = ["10.42.3.1", "10.42.3.7"]
        steps.append(("one service's endpoints", cluster))
        cluster.endpoints[10] = ["10.42.10.1"]
        cluster.endpoints[4] = nil
        steps.append(("a service added, one removed", cluster))
        cluster.endpoints[2]?.append("10.42.2.4")
        steps.append(("an endpoint added to the affinity service", cluster))
        cluster.configure[5] = { $0.type = "NodePort"; $0.ports = [O.port(nodePort: 30085)]; $0.externalTrafficPolicy = "Local" }
        cluster.endpoints[6] = []
        steps.append(("node port with local policy; a service without endpoints", cluster))
        cluster.endpoints[1] = ["10.42.1.1"]
        steps.append(("deferred chain deletion", cluster))
        cluster.configure[2] = {
            $0.sessionAffinity = "ClientIP"; $0.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 60))
        }
        steps.append(("affinity timeout changed", cluster))
        cluster.configure = [:]
        cluster.endpoints[6] = ["10.42.6.1"]
        steps.append(("affinity, node port and reject gone", cluster))
        steps.append(("unchanged", cluster))
        let learnt = O.Names("svc-2").affinity("10.42.2.1:8080")

        try await withScratchNamespace("osps") { updated in
            try await withScratchNamespace("ospr") { recreated in
                let (nft, fresh) = (NFTables(namespace: updated), NFTables(namespace: recreated))
                var current: ServiceProxyRules.TableContents?
                var compare = true
                for (step, (name, state)) in steps.enumerated() {
                    let output = state.build(rules, current: current)
                    #expect(output.sync == (step == 0 ? .recreate : .partial), "\(name)")
                    if name == "deferred chain deletion" {
                        let deferring = try #require(output.deferringChainDeletion)
                        try await nft.apply(deferring.script)
                        current = deferring.contents
                        compare = false  // emptied chains stay until the next update
                    } else {
                        try await nft.apply(output.script)
                        current = output.contents
                        compare = true
                    }
                    if step == 0 {
                        // The kernel learns a client of svc-2's first endpoint.
                        #expect(networkTestRun("/usr/sbin/ip", ["netns", "exec", updated, "/usr/sbin/nft", "add", "element",
                                                                "ip", "orca-test", learnt, "{ 10.42.9.9 }"]).code == 0)
                    }
                    if step < 6 { #expect(Self.setElements(updated, learnt).contains("10.42.9.9"), "\(name): affinity kept") }
                    try await fresh.apply(state.build(rules, current: nil).script)
                    guard compare else { continue }
                    let got = Self.normalized(try #require(try await nft.listTable(name: "orca-test")))
                    let want = Self.normalized(try #require(try await fresh.listTable(name: "orca-test")))
                    #expect(got == want, "\(name): only partial \(got.filter { !want.contains($0) }), only recreate \(want.filter { !got.contains($0) })")
                    #expect(got.count > 20)
                }
                // A full sync and the scenarios with every kind of service agree too.
                for (name, services, slices) in ServiceProxyRulesTests.scenarios.reversed() {
                    for fullSync in [false, true] {
                        let output = rules.build(services: services, slices: slices, current: current, fullSync: fullSync)
                        try await nft.apply(output.script)
                        current = output.contents
                        try await fresh.apply(rules.build(services: services, slices: slices).script)
                        let got = Self.normalized(try #require(try await nft.listTable(name: "orca-test")))
                        let want = Self.normalized(try #require(try await fresh.listTable(name: "orca-test")))
                        #expect(got == want, "\(name), full sync \(fullSync): only updated \(got.filter { !want.contains($0) }), only recreated \(want.filter { !got.contains($0) })")
                    }
                }
            }
        }
    }
}
