import Foundation
import OrcaPKI
import OrcaAPI
import OrcaStore
import Synchronization
@testable import OrcaAPIServer

/// A registry on a fresh `MemoryKVStore` with the standard strategies, a manual clock,
/// sequential UIDs and the `default` namespace.
struct TestCluster {
    static let start = Date(timeIntervalSince1970: 1_700_000_000)

    let store: MemoryKVStore
    let registry: Registry
    let clock: ManualClock

    init(namespaces: [String] = ["default"], encryption: EncryptionConfiguration? = nil,
         serviceNetwork: ServiceNetwork = .standard, admission: AdmissionChain = AdmissionChain()) async throws {
        let store = MemoryKVStore()
        let clock = ManualClock(now: TestCluster.start)
        let uids = Mutex(0)
        self.store = store
        self.clock = clock
        self.registry = Registry(store: store, strategies: Strategies.standard, clock: { clock.now },
                                 newUID: { uids.withLock { $0 += 1; return "uid-\($0)" } }, encryption: encryption,
                                 serviceNetwork: serviceNetwork, admission: admission)
        for ns in namespaces {
            _ = try await registry.create(r("namespaces"), namespace: nil, object: ["metadata": ["name": .string(ns)]])
        }
    }

    /// A served resource by plural and group.
    func r(_ plural: String, _ group: String = "") -> ResourceType {
        registry.catalog.resources.first { $0.resource == plural && $0.group == group }!
    }

    /// Creates a ConfigMap in `default`.
    @discardableResult
    func configMap(_ name: String, labels: [String: String] = [:], data: [String: String] = ["k": "v"]) async throws -> JSONValue {
        let object: JSONValue = ["metadata": ["name": .string(name), "labels": .object(labels.mapValues(JSONValue.string))],
                                 "data": .object(data.mapValues(JSONValue.string))]
        return try await registry.create(r("configmaps"), namespace: "default", object: object)
    }

    /// A minimal valid pod spec.
    static let podSpec: JSONValue = ["containers": [["name": "c", "image": "busybox:1.35"]]]
}

/// A cluster PKI of its own (a new CA), made in a temporary directory that is removed again.
func temporaryPKI(_ name: String) -> ClusterPKI {
    let dir = NSTemporaryDirectory() + "orca-\(name)-pki-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try! ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"])
}

/// The API error a call throws, or nil if it succeeds.
func apiError(_ body: () async throws -> Void) async -> APIError? {
    do {
        try await body()
        return nil
    } catch let e as APIError {
        return e
    } catch {
        return APIError.from(error, resource: nil, name: nil)
    }
}

/// Parses a JSON literal (test tables read better as JSON text).
func json(_ text: String) -> JSONValue {
    try! JSONValue.parse(text)
}
