import Foundation

extension ServiceProxyScriptWriter {
    /// The chain and set names of one service port.
    struct Names {
        var cluster: String
        var local: String
        var external: String
        var firewall: String
        let base: String

        init(_ port: ProxiedServicePort) {
            base = port.chainBase
            cluster = NFTName.hashed(prefix: "service-", base)
            local = NFTName.hashed(prefix: "local-", base)
            external = NFTName.hashed(prefix: "external-", base)
            firewall = NFTName.hashed(prefix: "firewall-", base)
        }

        func endpoint(_ e: ProxiedEndpoint) -> String { NFTName.hashed(prefix: "endpoint-", "\(base)__\(e.ip)/\(e.port)") }
        func affinity(_ e: ProxiedEndpoint) -> String { NFTName.hashed(prefix: "affinity-", "\(base)__\(e.ip)/\(e.port)") }
    }

    /// The rules of one service port (kube-proxy's per-service-port part of `syncProxyRules`).
    mutating func write(_ port: ProxiedServicePort, _ selection: EndpointSelection) {
        let names = Names(port)
        let proto = port.transport.rawValue
        script.comment("\(port.displayName) \(proto) \(port.port)")

        // Which chains carry which traffic.
        let usesClusterChain = !selection.cluster.isEmpty && port.usesClusterEndpoints
        let usesLocalChain = !selection.local.isEmpty && port.usesLocalEndpoints
        var internalChain = names.cluster, hasInternal = selection.hasAny
        if port.internalPolicyLocal {
            internalChain = names.local
            if selection.local.isEmpty { hasInternal = false }
        }
        var externalPolicyChain = names.cluster, hasExternal = selection.hasAny
        if port.externalLocal {
            externalPolicyChain = names.local
            if selection.local.isEmpty { hasExternal = false }
        }
        // Even without external endpoints, pod and node traffic to external addresses goes cluster-wide.
        let usesExternalChain = selection.hasAny && port.externallyAccessible

        for e in selection.reachable { script.chain(names.endpoint(e)) }
        if usesClusterChain { script.chain(names.cluster) }
        if usesLocalChain { script.chain(names.local) }
        if usesExternalChain { script.chain(names.external) }

        // No endpoints at all: reject. Endpoints, but none for this policy here: drop.
        let internalFilter = selection.hasAny ? "drop" : "goto \(Self.rejectChain)"
        let externalFilter = selection.hasAny ? "goto \(Self.noLocalEndpointsChain)" : "goto \(Self.rejectChain)"

        // ClusterIP.
        if hasInternal {
            claim(Self.serviceIPsMap, key: ipKey(port.clusterIP, port), value: "goto \(internalChain)", port: port)
        } else {
            reject(ipKey(port.clusterIP, port), internalFilter)
        }
        // External IPs.
        for ip in port.externalIPs {
            if selection.hasAny { claim(Self.serviceIPsMap, key: ipKey(ip, port), value: "goto \(names.external)", port: port) }
            if !hasExternal { reject(ipKey(ip, port), externalFilter) }
        }
        // Load balancer IPs, with their source ranges.
        if let ranges = port.sourceRanges, !port.loadBalancerIPs.isEmpty {
            script.chain(names.firewall)
            script.rule(names.firewall, ranges.isEmpty ? "drop" : "ip saddr != { \(ranges.joined(separator: ", ")) } drop")
            for ip in port.loadBalancerIPs {
                script.element(Self.firewallIPsMap, key: ipKey(ip, port), value: "goto \(names.firewall)")
            }
        }
        for ip in port.loadBalancerIPs {
            if selection.hasAny { claim(Self.serviceIPsMap, key: ipKey(ip, port), value: "goto \(names.external)", port: port) }
            if !hasExternal { reject(ipKey(ip, port), externalFilter) }
        }
        // Node port.
        if let nodePort = port.nodePort {
            let key = "\(proto) . \(nodePort)"
            if selection.hasAny { claim(Self.serviceNodePortsMap, key: key, value: "goto \(names.external)", port: port) }
            if !hasExternal { script.element(Self.noEndpointNodePortsMap, key: key, value: externalFilter) }
        }

        // Outside traffic to the ClusterIP is masqueraded: its replies must come back through here.
        if hasInternal, let clusterCIDR {
            script.rule(internalChain, "ip daddr \(port.clusterIP) \(proto) dport \(port.port) ip saddr != \(clusterCIDR) jump \(Self.markMasqueradeChain)")
        }

        if usesExternalChain {
            if !port.externalLocal {
                // Endpoints may be on other nodes: masquerade so replies come back through this node.
                script.rule(names.external, "jump \(Self.markMasqueradeChain)")
            } else {
                // Pods and the node itself are not "external": they use every endpoint.
                if let clusterCIDR { script.rule(names.external, "ip saddr \(clusterCIDR) goto \(names.cluster)") }
                script.rule(names.external, "fib saddr type local jump \(Self.markMasqueradeChain)")
                script.rule(names.external, "fib saddr type local goto \(names.cluster)")
            }
            if hasExternal { script.rule(names.external, "goto \(externalPolicyChain)") }
        }

        if let timeout = port.affinityTimeout {
            for e in selection.reachable {
                script.set(names.affinity(e), "type ipv4_addr ; flags dynamic,timeout ; timeout \(timeout)s")
            }
        }
        if usesClusterChain { writeDispatch(names.cluster, selection.cluster, names, port) }
        if usesLocalChain { writeDispatch(names.local, selection.local, names, port) }

        for e in selection.reachable {
            let chain = names.endpoint(e)
            // Hairpin: a pod reaching itself through the service must see the reply come from the service.
            script.rule(chain, "ip saddr \(e.ip) jump \(Self.markMasqueradeChain)")
            if port.affinityTimeout != nil { script.rule(chain, "update @\(names.affinity(e)) { ip saddr }") }
            script.rule(chain, "meta l4proto \(proto) dnat to \(e.address)")
        }
    }

    /// Session affinity first (a client seen recently goes to the same endpoint), then a random endpoint.
    mutating func writeDispatch(_ chain: String, _ endpoints: [ProxiedEndpoint], _ names: Names, _ port: ProxiedServicePort) {
        if port.affinityTimeout != nil {
            for e in endpoints { script.rule(chain, "ip saddr @\(names.affinity(e)) goto \(names.endpoint(e))") }
        }
        let targets = endpoints.enumerated().map { "\($0.offset) : goto \(names.endpoint($0.element))" }
        script.rule(chain, "numgen random mod \(endpoints.count) vmap { \(targets.joined(separator: ", ")) }")
    }

    func ipKey(_ ip: String, _ port: ProxiedServicePort) -> String {
        "\(ip) . \(port.transport.rawValue) . \(port.port)"
    }

    /// Adds a dispatch element, reporting a key another service (or the DNS redirect) has.
    mutating func claim(_ map: String, key: String, value: String, port: ProxiedServicePort) {
        if script.element(map, key: key, value: value) { return }
        let owner = reservedKeys.contains(key) ? "the cluster DNS redirect" : "another service"
        problems.append(.init(subject: "\(port.namespace)/\(port.name)",
                              message: "\(key.replacingOccurrences(of: " . ", with: " ")) is taken by \(owner)"))
    }

    /// Adds a no-endpoints verdict unless the address belongs to the DNS redirect.
    mutating func reject(_ key: String, _ verdict: String) {
        guard !reservedKeys.contains(key) else { return }
        script.element(Self.noEndpointServicesMap, key: key, value: verdict)
    }
}
