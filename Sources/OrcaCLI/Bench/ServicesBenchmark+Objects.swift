import Foundation
import OrcaCore
import Synchronization

/// The objects of `orca bench services`: selectorless ClusterIP Services with one port, each
/// with one EndpointSlice the benchmark writes itself (`kubernetes.io/service-name` label, no
/// managed-by label, so the controllers leave it as it is), and the made-up endpoint addresses.
extension ServicesBenchmark {
    static let portName = "http"
    static let servicePort = 80
    static let targetPort = 8080
    static let appLabel = "orca-bench-services"

    /// Service `i` of the measured set.
    static func serviceName(_ i: Int) -> String { "svc-\(i)" }
    /// The Service created and deleted by sample `j` of the create/delete measurement.
    static func churnName(_ j: Int) -> String { "churn-\(j)" }
    /// The one EndpointSlice of a Service.
    static func sliceName(_ service: String) -> String { service + "-bench" }

    /// Endpoint address number `k`: `10.42.128.1` onwards, 250 to a /24 (`.1`–`.250`), up to
    /// `10.42.254.250` — inside the cluster CIDR, far above the node's pod CIDR (node IPAM hands
    /// out the lowest /24s first). Only written into rules; nothing is ever sent to them.
    static func endpointAddress(_ k: Int) -> String { "10.42.\(128 + k / 250).\(1 + k % 250)" }
    /// How many endpoint addresses there are.
    static let addressCapacity = 127 * 250

    /// The addresses a run uses: every Service's endpoints, one new address per update sample,
    /// the endpoints of every create/delete sample's Service.
    static func addressesNeeded(services: Int, endpoints: Int, samples: Int) -> Int {
        services * endpoints + samples * (endpoints + 1)
    }

    /// Service `i`'s endpoints as created.
    func initialAddresses(_ i: Int) -> [String] { (0..<endpoints).map { Self.endpointAddress(i * endpoints + $0) } }
    /// The address update sample `j` brings in.
    func updateAddress(_ j: Int) -> String { Self.endpointAddress(services * endpoints + j) }
    /// The endpoints of create/delete sample `j`'s Service.
    func churnAddresses(_ j: Int) -> [String] {
        (0..<endpoints).map { Self.endpointAddress(services * endpoints + samples + j * endpoints + $0) }
    }

    /// A selectorless ClusterIP Service with port `http` 80 → 8080/TCP.
    static func service(_ name: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(name), "labels": ["app": .string(appLabel)]],
            "spec": [
                "type": "ClusterIP",
                "ports": [["name": .string(portName), "protocol": "TCP", "port": .int(Int64(servicePort)), "targetPort": .int(Int64(targetPort))]],
            ],
        ]
    }

    /// The EndpointSlice of `service`: port `http` 8080/TCP, one ready endpoint per address.
    static func endpointSlice(service: String, addresses: [String]) -> JSONValue {
        [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": [
                "name": .string(sliceName(service)),
                "labels": ["kubernetes.io/service-name": .string(service), "app": .string(appLabel)],
            ],
            "addressType": "IPv4",
            "ports": [["name": .string(portName), "protocol": "TCP", "port": .int(Int64(targetPort))]],
            "endpoints": endpointsJSON(addresses),
        ]
    }

    /// The `endpoints` list of a slice (a merge patch replaces it whole).
    static func endpointsJSON(_ addresses: [String]) -> JSONValue {
        .array(addresses.map { ["addresses": [.string($0)], "conditions": ["ready": true]] })
    }
}

/// Strings filled in by index from concurrent tasks (the ClusterIPs of the created Services).
final class ServicesBenchmarkSlots: Sendable {
    private let values: Mutex<[String?]>

    init(count: Int) { values = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ value: String) { values.withLock { $0[index] = value } }

    /// Every value, or nil while one is missing.
    var all: [String]? {
        values.withLock { v in v.contains(where: { $0 == nil }) ? nil : v.map { $0! } }
    }
}
