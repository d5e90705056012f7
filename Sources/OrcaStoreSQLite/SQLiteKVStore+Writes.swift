import Foundation
import GRDB
import OrcaCore
import OrcaStore

/// Writes: each is one transaction on the writer connection; its event is published
/// right after the commit, still on the writer, so watchers see revision order.
extension SQLiteKVStore {
    public func create(_ key: String, value: [UInt8]) async throws -> KeyValue {
        try await write { db in
            let latest = try Self.latestRow(db, key)
            if let latest, !latest.deleted {
                throw OrcaError(.keyExists, "key \(key) exists at revision \(latest.id)")
            }
            let id = try Self.insert(
                db, key, created: true, deleted: false, createRevision: nil,
                prevRevision: latest?.id ?? 0, value: value)
            let kv = KeyValue(key: key, value: value, createRevision: id, modRevision: id)
            return (kv, .put(kv, previous: nil))
        }
    }

    public func update(_ key: String, value: [UInt8], expectedRevision: Int64) async throws -> KeyValue {
        try await write { db in
            let current = try Self.existing(db, key, expectedRevision: expectedRevision)
            let id = try Self.insert(
                db, key, created: false, deleted: false, createRevision: current.createRevision,
                prevRevision: current.modRevision, value: value)
            let kv = KeyValue(key: key, value: value, createRevision: current.createRevision, modRevision: id)
            return (kv, .put(kv, previous: current))
        }
    }

    public func delete(_ key: String, expectedRevision: Int64?) async throws -> (previous: KeyValue, revision: Int64) {
        try await write { db in
            let current = try Self.existing(db, key, expectedRevision: expectedRevision)
            // A deletion row keeps the removed value, so history replay can report it.
            let id = try Self.insert(
                db, key, created: false, deleted: true, createRevision: current.createRevision,
                prevRevision: current.modRevision, value: current.value)
            return ((current, id), .delete(previous: current, revision: id))
        }
    }

    public func compact(revision target: Int64) async throws {
        try await write { db in
            let current = try Self.currentRevision(db)
            guard target <= current else {
                throw OrcaError(.futureRevision, "compact at \(target): current revision is \(current)")
            }
            let compacted = try Self.compactedRevision(db)
            guard target > compacted else { return ((), nil) }
            try db.cachedStatement(sql: Self.compactSupersededSQL).execute(arguments: [compacted, target])
            try db.cachedStatement(sql: Self.compactDeletionsSQL).execute(arguments: [compacted, target])
            try db.cachedStatement(sql: Self.setCompactedRevisionSQL).execute(arguments: [target])
            return ((), nil)
        }
    }

    // MARK: - Helpers

    /// The latest row of a key (live or deletion).
    struct LatestRow {
        var id: Int64
        var deleted: Bool
        var createRevision: Int64
        var value: [UInt8]
    }

    /// Runs `body` in one write transaction; after it commits, publishes its event.
    func write<T: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> (T, WatchEvent?)
    ) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { [hub] db in
                var outcome: (T, WatchEvent?)?
                try db.inTransaction(.immediate) {
                    outcome = try body(db)
                    return .commit
                }
                // Committed (and fsynced): still on the serial writer, so events stay in order.
                if let event = outcome!.1 { hub.publish(event) }
                return outcome!.0
            }
        } catch {
            throw Self.wrap(error, "write")
        }
    }

    static func latestRow(_ db: Database, _ key: String) throws -> LatestRow? {
        let statement = try db.cachedStatement(sql: latestRowSQL)
        guard let row = try Row.fetchOne(statement, arguments: [key]) else { return nil }
        return LatestRow(id: row[0], deleted: row[2], createRevision: row[3], value: try bytes(row, 4))
    }

    /// The live value of `key` if its `modRevision` matches `expectedRevision` (when given).
    static func existing(_ db: Database, _ key: String, expectedRevision: Int64?) throws -> KeyValue {
        guard let latest = try latestRow(db, key), !latest.deleted else {
            throw OrcaError(.keyNotFound, "key \(key) not found")
        }
        if let expectedRevision, latest.id != expectedRevision {
            throw OrcaError(
                .revisionMismatch, "key \(key) is at revision \(latest.id), expected \(expectedRevision)")
        }
        return KeyValue(key: key, value: latest.value, createRevision: latest.createRevision, modRevision: latest.id)
    }

    /// Appends a row and returns its id, the new revision. `createRevision` nil = its own id.
    static func insert(
        _ db: Database, _ key: String, created: Bool, deleted: Bool, createRevision: Int64?,
        prevRevision: Int64, value: [UInt8]
    ) throws -> Int64 {
        let statement = try db.cachedStatement(sql: insertSQL)
        try statement.execute(arguments: [key, created, deleted, createRevision, prevRevision, Data(value)])
        return db.lastInsertedRowID
    }
}
