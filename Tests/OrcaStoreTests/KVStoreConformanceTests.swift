import Foundation
import OrcaStore
import OrcaStoreSQLite
import OrcaTesting
import Synchronization
import Testing

/// The shared conformance suite, run against every backend that needs no server.
@Suite struct KVStoreConformanceTests {
    @Test(arguments: KVStoreConformance.checks)
    func memory(_ check: KVStoreConformance.Check) async throws {
        try await check.run { MemoryKVStore() }
    }

    @Test(arguments: KVStoreConformance.checks)
    func sqlite(_ check: KVStoreConformance.Check) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let opened = OpenedStores()
        defer { opened.closeAll() }
        try await check.run {
            let store = try SQLiteKVStore(path: directory.path("db/state-\(UUID().uuidString).sqlite"))
            opened.add(store)
            return store
        }
    }
}

/// The SQLite stores a check opened, closed when it ends.
final class OpenedStores: Sendable {
    private let stores = Mutex<[SQLiteKVStore]>([])

    func add(_ store: SQLiteKVStore) {
        stores.withLock { $0.append(store) }
    }

    func closeAll() {
        for store in stores.withLock({ $0 }) { try? store.close() }
    }
}
