import Foundation
import OrcaAPI
import OrcaStore

/// Allocates Service cluster IPs from the service CIDR and node ports from the node-port
/// range. Each allocation is a store key created atomically, so two Services can never get
/// the same address; the registry releases a Service's keys when it is deleted — directly or
/// when its last finalizer goes — and the ones an update gave up.
struct ServiceAddressAllocator: Sendable {
    let store: any KVStore
    let network: ServiceNetwork
    static let prefix = "/registry/orca.allocations/"
    static let resource = ResourceType("", "v1", "Service", "services")

    static func ipKey(_ ip: String) -> String { "\(prefix)clusterips/\(ip)" }
    static func portKey(_ port: Int64) -> String { "\(prefix)nodeports/\(port)" }

    /// Claims `key`; false if it is taken.
    func claim(_ key: String, owner: String) async throws -> Bool {
        do {
            _ = try await store.create(key, value: Array(owner.utf8))
            return true
        } catch let e as OrcaError where e.code == .keyExists {
            return false
        }
    }

    /// Gives a new or updated Service the addresses it lacks and claims the ones it asks for
    /// that `old` (the stored Service, nil on create) did not hold: a cluster IP unless it is
    /// headless or an ExternalName, node ports for NodePort and LoadBalancer. Returns the keys
    /// claimed; on a 422 (out of range, already allocated) nothing stays claimed.
    func allocate(_ service: inout JSONValue, old: JSONValue?) async throws -> [String] {
        var claimed: [String] = []
        do {
            try await allocateClusterIP(&service, old: old, claimed: &claimed)
            try await allocateNodePorts(&service, old: old, claimed: &claimed)
            return claimed
        } catch {
            await release(claimed, of: service)
            throw error
        }
    }

    /// What an allocation key holds: the Service's UID (keys of older versions hold `ns/name`).
    static func owner(_ service: JSONValue) -> String {
        service.metadataUID ?? "\(service.metadataNamespace ?? "")/\(service.metadataName ?? "")"
    }

    private func owner(_ service: JSONValue) -> String { Self.owner(service) }

    private func invalid(_ service: JSONValue, _ cause: StatusCause) -> APIError {
        APIError.invalid(Self.resource, service.metadataName ?? "", [cause])
    }

    private func allocateClusterIP(_ service: inout JSONValue, old: JSONValue?, claimed: inout [String]) async throws {
        guard service[path: ["spec", "type"]]?.stringValue != "ExternalName" else { return }
        let requested = service[path: ["spec", "clusterIP"]]?.stringValue ?? ""
        if requested == "None" {
            service[path: ["spec", "clusterIPs"]] = ["None"]
            return
        }
        if !requested.isEmpty, requested == old?[path: ["spec", "clusterIP"]]?.stringValue {
            service[path: ["spec", "clusterIPs"]] = [.string(requested)]  // held already
            return
        }
        if !requested.isEmpty {
            guard network.isAllocatable(requested) else {
                throw invalid(service, .invalid("spec.clusterIPs[0]", requested,
                                                "failed to allocate IP \(requested): provided IP is not in the valid range. The range of valid IPs is \(network.serviceCIDR)"))
            }
            // The first address is the `kubernetes` Service's, the DNS address the cluster DNS's.
            let reserved = requested == network.clusterDNS
                || requested == network.apiServiceIP && !(service.metadataNamespace == "default" && service.metadataName == "kubernetes")
            guard !reserved, try await claim(Self.ipKey(requested), owner: owner(service)) else {
                throw invalid(service, .invalid("spec.clusterIPs[0]", requested, "failed to allocate IP \(requested): provided IP is already allocated"))
            }
            claimed.append(Self.ipKey(requested))
            service[path: ["spec", "clusterIPs"]] = [.string(requested)]
            return
        }
        let cidr = network.serviceCIDR
        let size = cidr.size
        // Random start, then linear: the first free address after it that is not held back.
        var offset = size > 4 ? UInt64.random(in: 2..<(size - 1)) : 1
        for _ in 0..<size {
            defer { offset = offset + 1 >= size - 1 ? 2 : offset + 1 }
            guard let ip = cidr.address(at: offset), network.isAllocatable(ip),
                  ip != network.apiServiceIP, ip != network.clusterDNS else { continue }
            if try await claim(Self.ipKey(ip), owner: owner(service)) {
                claimed.append(Self.ipKey(ip))
                service[path: ["spec", "clusterIP"]] = .string(ip)
                service[path: ["spec", "clusterIPs"]] = [.string(ip)]
                return
            }
        }
        throw APIError(code: 500, reason: "InternalError",
                       message: "Internal error occurred: failed to allocate a serviceIP: range is full")
    }

    private func allocateNodePorts(_ service: inout JSONValue, old: JSONValue?, claimed: inout [String]) async throws {
        guard ServiceStrategy.hasNodePorts(service), var ports = service[path: ["spec", "ports"]]?.arrayValue else { return }
        let allocates = ServiceStrategy.allocatesNodePorts(service)
        let held = Set(old.map(Self.keys) ?? [])
        var ours: Set<Int64> = []  // one node port may serve TCP and UDP of this Service
        for i in ports.indices {
            if let requested = ports[i]["nodePort"]?.intValue {
                let key = Self.portKey(requested)
                if held.contains(key) || ours.contains(requested) { ours.insert(requested); continue }
                guard network.nodePorts.contains(requested) else {
                    throw invalid(service, .invalid("spec.ports[\(i)].nodePort", number: requested,
                                                    "provided port is not in the valid range. The range of valid ports is \(network.nodePorts.lowerBound)-\(network.nodePorts.upperBound)"))
                }
                guard try await claim(key, owner: owner(service)) else {
                    throw invalid(service, .invalid("spec.ports[\(i)].nodePort", number: requested, "provided port is already allocated"))
                }
                claimed.append(key)
                ours.insert(requested)
                continue
            }
            guard allocates else { continue }
            let range = network.nodePorts
            var candidate = Int64.random(in: range)
            var found = false
            for _ in 0..<(range.count) {
                if try await claim(Self.portKey(candidate), owner: owner(service)) {
                    claimed.append(Self.portKey(candidate))
                    ports[i]["nodePort"] = .int(candidate)
                    ours.insert(candidate)
                    found = true
                    break
                }
                candidate = candidate >= range.upperBound ? range.lowerBound : candidate + 1
            }
            if !found {
                throw APIError(code: 500, reason: "InternalError",
                               message: "Internal error occurred: failed to allocate a nodePort: range is full")
            }
        }
        service[path: ["spec", "ports"]] = .array(ports)
    }

    /// The allocation keys a stored Service holds.
    static func keys(of service: JSONValue) -> [String] {
        var keys: [String] = []
        for ip in service[path: ["spec", "clusterIPs"]]?.arrayValue?.compactMap(\.stringValue) ?? [] where ip != "None" {
            keys.append(ipKey(ip))
        }
        for p in service[path: ["spec", "ports"]]?.arrayValue ?? [] {
            if let n = p["nodePort"]?.intValue, !keys.contains(portKey(n)) { keys.append(portKey(n)) }
        }
        return keys
    }

    /// Deletes the allocation keys `service` holds — only those whose owner it is, so a key
    /// another Service claimed is never freed (best effort: a leftover key only keeps an
    /// address unused).
    func release(_ keys: [String], of service: JSONValue) async {
        let owners: Set<String> = [Self.owner(service), "\(service.metadataNamespace ?? "")/\(service.metadataName ?? "")"]
        for k in keys {
            guard let kv = try? await store.get(k, revision: nil), owners.contains(String(decoding: kv.value, as: UTF8.self)) else { continue }
            _ = try? await store.delete(k, expectedRevision: kv.modRevision)
        }
    }
}
