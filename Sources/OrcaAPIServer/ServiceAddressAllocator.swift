import Foundation
import OrcaPKI
import OrcaAPI
import OrcaStore

/// Allocates Service cluster IPs from the service CIDR (10.43.0.0/16) and node ports
/// (30000–32767). Each allocation is a store key created atomically, so two services
/// can never get the same address, and it is released when the service is deleted.
struct ServiceAddressAllocator: Sendable {
    let store: any KVStore
    static let prefix = "/registry/orca.allocations/"
    /// The `kubernetes` service's address and the cluster DNS address are reserved.
    static let reserved: Set<String> = ["10.43.0.1", "10.43.0.10"]

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

    /// Fills `spec.clusterIP(s)` and node ports of a new Service; returns the claimed keys.
    func allocate(_ service: inout JSONValue) async throws -> [String] {
        var claimed: [String] = []
        let owner = "\(service.metadataNamespace ?? "")/\(service.metadataName ?? "")"
        let type = service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        if type != "ExternalName" {
            let requested = service[path: ["spec", "clusterIP"]]?.stringValue ?? ""
            if requested == "None" {
                service[path: ["spec", "clusterIPs"]] = ["None"]
            } else if !requested.isEmpty {
                guard requested.hasPrefix("10.43."), ClusterPKI.ipBytes(requested) != nil else {
                    throw APIError.invalid(ResourceType("", "v1", "Service", "services"), service.metadataName ?? "",
                                           [.invalid("spec.clusterIPs[0]", requested, "provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16")])
                }
                guard try await claim(Self.ipKey(requested), owner: owner) else {
                    throw APIError.invalid(ResourceType("", "v1", "Service", "services"), service.metadataName ?? "",
                                           [.invalid("spec.clusterIPs", requested, "failed to allocate IP \(requested): provided IP is already allocated")])
                }
                claimed.append(Self.ipKey(requested))
                service[path: ["spec", "clusterIPs"]] = [.string(requested)]
            } else {
                var offset = Int.random(in: 2..<65534)
                for _ in 0..<65534 {
                    let ip = "10.43.\(offset >> 8).\(offset & 0xff)"
                    offset = offset >= 65533 ? 2 : offset + 1
                    if Self.reserved.contains(ip) || ip.hasSuffix(".0") || ip.hasSuffix(".255") { continue }
                    if try await claim(Self.ipKey(ip), owner: owner) {
                        claimed.append(Self.ipKey(ip))
                        service[path: ["spec", "clusterIP"]] = .string(ip)
                        service[path: ["spec", "clusterIPs"]] = [.string(ip)]
                        break
                    }
                }
            }
        }
        if type == "NodePort" || type == "LoadBalancer" {
            var ports = service[path: ["spec", "ports"]]?.arrayValue ?? []
            for i in ports.indices where ports[i]["nodePort"] == nil {
                var candidate = Int64.random(in: 30000...32767)
                for _ in 0..<2768 {
                    if try await claim(Self.portKey(candidate), owner: owner) {
                        claimed.append(Self.portKey(candidate))
                        ports[i]["nodePort"] = .int(candidate)
                        break
                    }
                    candidate = candidate >= 32767 ? 30000 : candidate + 1
                }
            }
            service[path: ["spec", "ports"]] = .array(ports)
        }
        return claimed
    }

    /// The allocation keys a stored Service holds.
    static func keys(of service: JSONValue) -> [String] {
        var keys: [String] = []
        for ip in service[path: ["spec", "clusterIPs"]]?.arrayValue?.compactMap(\.stringValue) ?? [] where ip != "None" {
            keys.append(ipKey(ip))
        }
        for p in service[path: ["spec", "ports"]]?.arrayValue ?? [] {
            if let n = p["nodePort"]?.intValue { keys.append(portKey(n)) }
        }
        return keys
    }

    func release(_ keys: [String]) async {
        for k in keys { _ = try? await store.delete(k, expectedRevision: nil) }
    }
}
