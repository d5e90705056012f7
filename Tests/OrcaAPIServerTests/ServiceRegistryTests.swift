import Foundation
import OrcaAPI
import OrcaStore
import Testing
@testable import OrcaAPIServer

/// Services through the registry: validation (422 with the field), cluster IP and node port
/// allocation on create and update, and their release on every deletion path.
@Suite struct ServiceRegistryTests {
    static func service(_ name: String, _ spec: String) -> JSONValue {
        var s = json(#"{"metadata":{"name":"\#(name)"},"spec":\#(spec)}"#)
        s["apiVersion"] = "v1"
        s["kind"] = "Service"
        return s
    }

    static let invalid: [(spec: String, field: String, message: String)] = [
        (#"{"ports":[{"port":0}]}"#, "spec.ports[0].port", "must be between 1 and 65535, inclusive"),
        (#"{"ports":[{"port":80,"protocol":"HTTP"}]}"#, "spec.ports[0].protocol", #"Unsupported value: "HTTP""#),
        (#"{"ports":[{"port":80,"targetPort":"Not_A_Port"}]}"#, "spec.ports[0].targetPort", "alpha-numeric"),
        (#"{"ports":[{"port":80,"targetPort":70000}]}"#, "spec.ports[0].targetPort", "must be between 1 and 65535"),
        (#"{"ports":[{"name":"a","port":80},{"port":81}]}"#, "spec.ports[1].name", "Required value"),
        (#"{"ports":[{"name":"a","port":80},{"name":"a","port":81}]}"#, "spec.ports[1].name", "Duplicate value"),
        (#"{"ports":[{"name":"a","port":80},{"name":"b","port":80}]}"#, "spec.ports[1]", "Duplicate value"),
        (#"{"ports":[{"port":80}],"selector":{"app":"not valid!"}}"#, "spec.selector", "Invalid value"),
        (#"{"ports":[{"port":80}],"type":"Cluster"}"#, "spec.type", "Unsupported value"),
        (#"{"ports":[{"port":80,"nodePort":30080}]}"#, "spec.ports[0].nodePort", "may not be used when `type` is 'ClusterIP'"),
        (#"{"ports":[{"port":80}],"clusterIP":"10.99.0.5"}"#, "spec.clusterIPs[0]", "provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16"),
        (#"{"ports":[{"port":80}],"clusterIP":"banana"}"#, "spec.clusterIPs[0]", "must be empty, 'None', or a valid IP address"),
        (#"{"ports":[{"port":80}],"type":"NodePort","clusterIP":"None"}"#, "spec.clusterIPs[0]", "may not be set to 'None' for NodePort services"),
        (#"{"type":"NodePort","ports":[{"port":80,"nodePort":80}]}"#, "spec.ports[0].nodePort", "provided port is not in the valid range. The range of valid ports is 30000-32767"),
        (#"{"ports":[{"port":80}],"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":0}}}"#,
         "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "must be greater than 0 and less than 86400"),
        (#"{"ports":[{"port":80}],"externalTrafficPolicy":"Local"}"#, "spec.externalTrafficPolicy", "may only be set when `type` is 'NodePort' or 'LoadBalancer'"),
        (#"{"ports":[{"port":80}],"internalTrafficPolicy":"Nearby"}"#, "spec.internalTrafficPolicy", "Unsupported value"),
        (#"{"ports":[{"port":80}],"externalIPs":["127.0.0.1"]}"#, "spec.externalIPs[0]", "loopback"),
        (#"{"type":"ExternalName"}"#, "spec.externalName", "Required value"),
        (#"{}"#, "spec.ports", "Required value"),
        (#"{"ports":[{"port":80}],"clusterIP":"10.43.0.10"}"#, "spec.clusterIPs[0]", "provided IP is already allocated"),
        (#"{"ports":[{"port":80}],"clusterIP":"10.43.0.1"}"#, "spec.clusterIPs[0]", "provided IP is already allocated"),
        (#"{"ports":[{"port":80}],"clusterIP":"10.43.2.2","clusterIPs":["10.43.3.3"]}"#, "spec.clusterIPs[0]", "must match `clusterIP` when both are specified"),
        (#"{"ports":[{"port":80}],"clusterIPs":["10.43.2.2","10.43.3.3"]}"#, "spec.clusterIPs", "only one IP family is configured on this cluster"),
        (#"{"ports":[{"port":80}],"ipFamilies":["IPv6"]}"#, "spec.ipFamilies[0]", "not configured on this cluster"),
        (#"{"ports":[{"port":80}],"ipFamilyPolicy":"RequireDualStack"}"#, "spec.ipFamilyPolicy", "not configured for dual-stack services"),
    ]

    @Test(arguments: invalid.indices) func invalidServicesAre422WithTheField(_ i: Int) async throws {
        let c = try await TestCluster()
        let (spec, field, message) = Self.invalid[i]
        let e = await apiError { _ = try await c.registry.create(c.r("services"), namespace: "default", object: Self.service("bad", spec)) }
        #expect(e?.code == 422, "\(spec)")
        #expect(e?.reason == "Invalid")
        let causes = e?.details?["causes"]?.arrayValue ?? []
        #expect(causes.contains { $0["field"]?.stringValue == field && ($0["message"]?.stringValue ?? "").contains(message) },
                "\(spec): \(e?.message ?? "no error")")
        // Nothing was claimed: the store holds no allocation keys.
        let keys = try await c.store.list(prefix: ServiceAddressAllocator.prefix, revision: nil, startAfter: nil, limit: nil)
        #expect(keys.items.isEmpty)
    }

    @Test func aTakenClusterIPOrNodePortIs422AndTheFirstServiceKeepsIt() async throws {
        let c = try await TestCluster()
        let services = c.r("services")
        let first = try await c.registry.create(services, namespace: "default", object: Self.service("first",
            #"{"type":"NodePort","clusterIP":"10.43.7.7","ports":[{"port":80,"nodePort":30080}]}"#))
        #expect(first[path: ["spec", "clusterIPs"]] == ["10.43.7.7"])
        let ip = await apiError { _ = try await c.registry.create(services, namespace: "default", object: Self.service("second",
            #"{"clusterIP":"10.43.7.7","ports":[{"port":80}]}"#)) }
        #expect(ip?.code == 422)
        #expect(ip?.message.contains("failed to allocate IP 10.43.7.7: provided IP is already allocated") == true)
        let port = await apiError { _ = try await c.registry.create(services, namespace: "default", object: Self.service("third",
            #"{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}"#)) }
        #expect(port?.code == 422)
        #expect(port?.message.contains("spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated") == true)
        // The failed third Service released the cluster IP it had been given on the way.
        let keys = try await c.store.list(prefix: ServiceAddressAllocator.prefix, revision: nil, startAfter: nil, limit: nil)
        #expect(keys.items.map(\.key).sorted() == [ServiceAddressAllocator.ipKey("10.43.7.7"), ServiceAddressAllocator.portKey(30080)])
    }

    @Test func theFinalizerPathReleasesTheAddresses() async throws {
        let c = try await TestCluster()
        let services = c.r("services")
        var held = Self.service("held", #"{"type":"NodePort","clusterIP":"10.43.9.9","ports":[{"port":80,"nodePort":31000}]}"#)
        held[path: ["metadata", "finalizers"]] = ["example.com/hold"]
        _ = try await c.registry.create(services, namespace: "default", object: held)
        let (marked, deleted) = try await c.registry.delete(services, namespace: "default", name: "held")
        #expect(!deleted)
        // While it is being deleted it still holds both.
        #expect(await apiError { _ = try await c.registry.create(services, namespace: "default", object: Self.service("next",
            #"{"type":"NodePort","clusterIP":"10.43.9.9","ports":[{"port":80,"nodePort":31000}]}"#)) }?.code == 422)
        var released = marked
        released[path: ["metadata", "finalizers"]] = []
        _ = try await c.registry.update(services, namespace: "default", name: "held", object: released)
        #expect(await apiError { _ = try await c.registry.get(services, namespace: "default", name: "held") }?.code == 404)
        let reused = try await c.registry.create(services, namespace: "default", object: Self.service("next",
            #"{"type":"NodePort","clusterIP":"10.43.9.9","ports":[{"port":80,"nodePort":31000}]}"#))
        #expect(reused[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"] == 31000)
    }

    @Test func aTypeChangeClaimsAndReleasesNodePorts() async throws {
        let c = try await TestCluster()
        let services = c.r("services")
        let created = try await c.registry.create(services, namespace: "default", object: Self.service("web", #"{"ports":[{"port":80}]}"#))
        let ip = try #require(created[path: ["spec", "clusterIP"]]?.stringValue)
        #expect(created[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"] == nil)
        // ClusterIP → NodePort: a node port is allocated; the cluster IP stays.
        let nodePort = try await c.registry.guaranteedUpdate(services, namespace: "default", name: "web") { old in
            var s = old
            s[path: ["spec", "type"]] = "NodePort"
            return s
        }
        #expect(nodePort[path: ["spec", "clusterIP"]]?.stringValue == ip)
        #expect(nodePort[path: ["spec", "externalTrafficPolicy"]] == "Cluster")
        let port = try #require(nodePort[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"]?.intValue)
        #expect((30000...32767).contains(port))
        // A taken node port on update: 422 and the Service is unchanged.
        _ = try await c.registry.create(services, namespace: "default", object: Self.service("other",
            #"{"type":"NodePort","ports":[{"port":80,"nodePort":32000}]}"#))
        let e = await apiError { _ = try await c.registry.guaranteedUpdate(services, namespace: "default", name: "web") { old in
            var s = old
            s[path: ["spec", "ports"]] = [["port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 32000]]
            return s
        } }
        #expect(e?.code == 422)
        #expect(try await c.registry.get(services, namespace: "default", name: "web")[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"]?.intValue == port)
        // NodePort → ClusterIP: the node port goes and is free again.
        let back = try await c.registry.guaranteedUpdate(services, namespace: "default", name: "web") { old in
            var s = old
            s[path: ["spec", "type"]] = "ClusterIP"
            return s
        }
        #expect(back[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"] == nil)
        #expect(back[path: ["spec", "externalTrafficPolicy"]] == nil)
        let reuse = try await c.registry.create(services, namespace: "default", object: Self.service("reuse",
            #"{"type":"NodePort","ports":[{"port":80,"nodePort":\#(port)}]}"#))
        #expect(reuse[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"]?.intValue == port)
        // ClusterIP → ExternalName: the cluster IP goes and is free again.
        _ = try await c.registry.guaranteedUpdate(services, namespace: "default", name: "web") { old in
            var s = old
            s[path: ["spec", "type"]] = "ExternalName"
            s[path: ["spec", "externalName"]] = "example.com"
            return s
        }
        let taken = try await c.registry.create(services, namespace: "default", object: Self.service("ip", #"{"clusterIP":"\#(ip)","ports":[{"port":80}]}"#))
        #expect(taken[path: ["spec", "clusterIP"]]?.stringValue == ip)
    }

    @Test func clusterIPsAloneGiveTheClusterIPAndCannotDriftFromIt() async throws {
        let c = try await TestCluster()
        let services = c.r("services")
        let created = try await c.registry.create(services, namespace: "default", object: Self.service("ips", #"{"clusterIPs":["10.43.4.4"],"ports":[{"port":80}]}"#))
        #expect(created[path: ["spec", "clusterIP"]] == "10.43.4.4")
        let e = await apiError { _ = try await c.registry.guaranteedUpdate(services, namespace: "default", name: "ips") { old in
            var s = old
            s[path: ["spec", "clusterIPs"]] = ["10.43.5.5"]
            return s
        } }
        #expect(e?.code == 422)
        // The address is still held: another Service cannot take it.
        #expect(await apiError { _ = try await c.registry.create(services, namespace: "default", object: Self.service("x",
            #"{"clusterIP":"10.43.4.4","ports":[{"port":80}]}"#)) }?.code == 422)
    }

    @Test func aReplaceWithoutAllocatedValuesKeepsThem() async throws {
        let c = try await TestCluster()
        let services = c.r("services")
        let created = try await c.registry.create(services, namespace: "default", object: Self.service("np",
            #"{"type":"NodePort","ports":[{"name":"http","port":80},{"name":"https","port":443}]}"#))
        let ports = (created[path: ["spec", "ports"]]?.arrayValue ?? []).compactMap { $0["nodePort"]?.intValue }
        #expect(ports.count == 2)
        // As `kubectl replace` of the original manifest: no clusterIP, no node ports.
        let replaced = try await c.registry.update(services, namespace: "default", name: "np", object: Self.service("np",
            #"{"type":"NodePort","clusterIP":"","ports":[{"name":"https","port":443},{"name":"http","port":80}]}"#))
        #expect(replaced[path: ["spec", "clusterIP"]] == created[path: ["spec", "clusterIP"]])
        let after = Dictionary(uniqueKeysWithValues: (replaced[path: ["spec", "ports"]]?.arrayValue ?? []).map {
            ($0["name"]?.stringValue ?? "", $0["nodePort"]?.intValue ?? 0)
        })
        let before = Dictionary(uniqueKeysWithValues: (created[path: ["spec", "ports"]]?.arrayValue ?? []).map {
            ($0["name"]?.stringValue ?? "", $0["nodePort"]?.intValue ?? 0)
        })
        #expect(after == before)
    }

    @Test func aLoadBalancerWithoutNodePortAllocationStillClaimsTheOnesItNames() async throws {
        let c = try await TestCluster()
        let services = c.r("services")
        let lb = try await c.registry.create(services, namespace: "default", object: Self.service("lb",
            #"{"type":"LoadBalancer","allocateLoadBalancerNodePorts":false,"ports":[{"name":"a","port":80,"nodePort":30900},{"name":"b","port":81}]}"#))
        let ports = lb[path: ["spec", "ports"]]?.arrayValue ?? []
        #expect(ports.first?["nodePort"] == 30900)
        #expect(ports.last?["nodePort"] == nil)
        #expect(await apiError { _ = try await c.registry.create(services, namespace: "default", object: Self.service("np",
            #"{"type":"NodePort","ports":[{"port":80,"nodePort":30900}]}"#)) }?.code == 422)
        // Turning allocation off keeps what it has.
        let off = try await c.registry.guaranteedUpdate(services, namespace: "default", name: "lb") { old in
            var s = old
            s[path: ["spec", "allocateLoadBalancerNodePorts"]] = true
            return s
        }
        #expect(off[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"] == 30900)
    }

    @Test func releaseFreesOnlyTheKeysTheServiceOwns() async throws {
        let c = try await TestCluster()
        let allocator = c.registry.serviceAllocator
        _ = try await c.store.create(ServiceAddressAllocator.portKey(31111), value: Array("uid-someone-else".utf8))
        let service = Self.service("mine", #"{"type":"NodePort","ports":[{"port":80,"nodePort":31111}]}"#)
        await allocator.release([ServiceAddressAllocator.portKey(31111)], of: service)
        #expect(try await c.store.get(ServiceAddressAllocator.portKey(31111), revision: nil) != nil)
    }

    @Test func aSmallServiceCIDRSkipsTheReservedAddressesAndFills() async throws {
        let network = ServiceNetwork(serviceCIDR: IPv4CIDR("10.77.0.0/28")!, clusterDNS: "10.77.0.10")
        let c = try await TestCluster(serviceNetwork: network)
        let services = c.r("services")
        var ips: Set<String> = []
        // 16 addresses: the network (0), broadcast (15), the API service (1) and DNS (10) are not given.
        for i in 0..<12 {
            let s = try await c.registry.create(services, namespace: "default", object: Self.service("s\(i)", #"{"ports":[{"port":80}]}"#))
            ips.insert(try #require(s[path: ["spec", "clusterIP"]]?.stringValue))
        }
        #expect(ips.count == 12)
        #expect(ips.isDisjoint(with: ["10.77.0.0", "10.77.0.1", "10.77.0.10", "10.77.0.15"]))
        #expect(ips.allSatisfy { network.serviceCIDR.contains($0) })
        let full = await apiError { _ = try await c.registry.create(services, namespace: "default", object: Self.service("full", #"{"ports":[{"port":80}]}"#)) }
        #expect(full?.code == 500)
        #expect(full?.message.contains("range is full") == true)
        // Deleting one frees its address for the next.
        _ = try await c.registry.delete(services, namespace: "default", name: "s0")
        _ = try await c.registry.create(services, namespace: "default", object: Self.service("again", #"{"ports":[{"port":80}]}"#))
    }
}
