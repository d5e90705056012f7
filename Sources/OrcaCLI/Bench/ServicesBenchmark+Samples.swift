import Foundation
import NIOHTTP1
import OrcaAPI
import OrcaCore

/// The sampled measurements of `ServicesBenchmark`: one change at a time, each timed from the
/// API write's response to the poll that first shows it in the agent's table, then `settle`.
extension ServicesBenchmark {
    /// Endpoint updates: sample `j` replaces the first endpoint of Service `(997 j + 1) mod N`
    /// with a new address (a merge patch of its slice's `endpoints`) and polls that Service's
    /// chain — which names its endpoint chains, `…__<ip>/<port>` — until the address is there.
    /// Should the chains not name their endpoints, it polls the whole table instead (and says so).
    func measureUpdates(clusterIPs: [String]) async throws -> (LatencySamples, Bool) {
        let map = try await table.serviceMap()
        func chain(of i: Int) throws -> String {
            let key = ServicesBenchmarkTable.key(clusterIP: clusterIPs[i], port: Self.servicePort)
            guard let verdict = map[key], verdict.hasPrefix("goto ") else {
                throw OrcaError(.internalError, "\(Self.serviceName(i)) (\(key)) has no `goto` in the service-ips map: \(map[key] ?? "no element")")
            }
            return String(verdict.dropFirst("goto ".count))
        }
        let probe = try await table.listChain(try chain(of: 0))
        let byChain = ServicesBenchmarkTable.containsAddress(probe, initialAddresses(0)[0])
        if !byChain {
            BenchLog.info("warning: the service chains do not name their endpoints' addresses; polling the whole table (coarse)")
        }

        BenchLog.info("endpoint updates: \(samples) samples, one EndpointSlice change at a time")
        var updates = LatencySamples(name: "EndpointSlice update → new endpoint in the table", unit: "update")
        var current: [Int: [String]] = [:]
        let table = self.table, clock = self.clock
        for j in 0..<samples {
            try Task.checkCancellation()
            let i = (j * 997 + 1) % services
            let name = Self.serviceName(i)
            let chainName = try chain(of: i)
            var addresses = current[i] ?? initialAddresses(i)
            let fresh = updateAddress(j)
            addresses[0] = fresh
            try await client.expect(.PATCH, "\(slicesPath)/\(Self.sliceName(name))", json: ["endpoints": Self.endpointsJSON(addresses)],
                                    contentType: "application/merge-patch+json")
            let written = clock.now
            let seen = try await BenchWatch.until("endpoint \(fresh) of \(name) in table ip \(table.name)", timeout: Self.sampleTimeout,
                                                  interval: byChain ? Self.chainPollInterval : Self.pollInterval,
                                                  progress: { [host] in "agent log:\n" + host.agentLogTail(10) }) { [self] () -> ContinuousClock.Instant? in
                try checkAgent()
                let text = byChain ? (try? await table.listChain(chainName)) : (try? await table.listTable())
                let now = clock.now
                guard let text else { return nil }
                return ServicesBenchmarkTable.containsAddress(text, fresh) ? now : nil
            }
            updates.record(written.duration(to: seen))
            current[i] = addresses
            if (j + 1) % 10 == 0 || j + 1 == samples { BenchLog.info("endpoint updates: \(j + 1)/\(samples), last \(BenchPodStartupCommand.ms(updates.milliseconds.last))") }
            try await Task.sleep(for: Self.settle)
        }
        return (updates, !byChain)
    }

    /// Service creates and deletes: sample `j` creates Service `churn-<j>` (its EndpointSlice was
    /// written before the Services, untimed) and polls the `service-ips` map until its ClusterIP
    /// is there; after `settle` deletes it and polls until the ClusterIP is gone.
    func measureCreateDelete() async throws -> (LatencySamples, LatencySamples) {
        BenchLog.info("Service create/delete: \(samples) samples, one Service at a time")
        var creations = LatencySamples(name: "Service create → ClusterIP in the table", unit: "svc")
        var deletions = LatencySamples(name: "Service delete → ClusterIP gone from the table", unit: "svc")
        for j in 0..<samples {
            try Task.checkCancellation()
            let name = Self.churnName(j)
            let created = try await client.expect(.POST, servicesPath, json: Self.service(name))
            let written = clock.now
            guard let ip = created[path: ["spec", "clusterIP"]]?.stringValue, IPv4CIDR.parse(ip) != nil else {
                throw OrcaError(.internalError, "Service \(name) was created without an IPv4 clusterIP")
            }
            let key = ServicesBenchmarkTable.key(clusterIP: ip, port: Self.servicePort)
            creations.record(written.duration(to: try await waitForKey(key, present: true, what: "\(name)'s ClusterIP \(ip) in the table")))
            try await Task.sleep(for: Self.settle)

            try await client.expect(.DELETE, "\(servicesPath)/\(name)")
            let deleted = clock.now
            deletions.record(deleted.duration(to: try await waitForKey(key, present: false, what: "\(name)'s ClusterIP \(ip) gone from the table")))
            if (j + 1) % 10 == 0 || j + 1 == samples {
                BenchLog.info("Service create/delete: \(j + 1)/\(samples), last \(BenchPodStartupCommand.ms(creations.milliseconds.last)) / \(BenchPodStartupCommand.ms(deletions.milliseconds.last))")
            }
            try await Task.sleep(for: Self.settle)
        }
        return (creations, deletions)
    }

    /// Polls the `service-ips` map until `key` is (or is no longer) in it; a failed listing never counts.
    func waitForKey(_ key: String, present: Bool, what: String) async throws -> ContinuousClock.Instant {
        try await BenchWatch.until(what, timeout: Self.sampleTimeout, interval: Self.pollInterval,
                                   progress: { [host] in "agent log:\n" + host.agentLogTail(10) }) { [self] () -> ContinuousClock.Instant? in
            try checkAgent()
            guard let map = try? await table.serviceMap() else { return nil }
            let now = clock.now
            return (map[key] != nil) == present ? now : nil
        }
    }
}
