import Foundation
import GRDB
import OrcaCore
import OrcaStore

/// A ``KVStore`` in one SQLite file: a kine-like log table whose row id is the revision.
///
/// The database runs in WAL mode with `synchronous=FULL`, so a write that returned has
/// reached the disk and survives a crash (`kill -9`, power loss). Every write is one
/// transaction on GRDB's single writer connection, with its compare-and-swap checked
/// inside it; reads run concurrently on reader connections, each in one snapshot.
/// Committed events are published to watchers from the writer, in revision order.
///
/// One process should own the file: watchers only see writes made through this object.
public final class SQLiteKVStore: KVStore, Sendable {
    let pool: DatabasePool
    let hub = WatchHub()

    /// Opens (creating if needed, with its parent directories) the store at `path`.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.label = "OrcaStore"
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: url.path, configuration: configuration)
            // GRDB sets synchronous=NORMAL when it enables WAL; a write must survive a crash.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            try Self.migrator.migrate(pool)
        } catch {
            throw Self.wrap(error, "open \(path)")
        }
    }

    /// Ends every open watch and closes the database; later calls throw.
    public func close() throws {
        hub.close()
        do {
            try pool.close()
        } catch {
            throw Self.wrap(error, "close")
        }
    }

    /// Empties the writer's page cache and closes the idle readers (each reopens on its next
    /// read), without waiting for reads in flight. Returns once the writer's cache is freed (its
    /// release is queued on the writer; an empty write behind it waits for it).
    public func releaseMemory() async {
        pool.releaseMemoryEventually()
        _ = try? await pool.writeWithoutTransaction { _ in }
    }

    /// The writer connection's `PRAGMA synchronous` (2 = FULL).
    func synchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
    }

    // MARK: - Reads

    public func currentRevision() async throws -> Int64 {
        try await read { db in try Self.currentRevision(db) }
    }

    public func compactedRevision() async throws -> Int64 {
        try await read { db in try Self.compactedRevision(db) }
    }

    public func get(_ key: String, revision: Int64?) async throws -> KeyValue? {
        try await read { db in
            let at = try Self.readRevision(db, revision)
            let statement = try db.cachedStatement(sql: Self.rowAtRevisionSQL)
            guard let row = try Row.fetchOne(statement, arguments: [key, at]) else { return nil }
            let deleted: Bool = row[2]
            if deleted { return nil }
            return KeyValue(key: key, value: try Self.bytes(row, 4), createRevision: row[3], modRevision: row[0])
        }
    }

    public func list(prefix: String, revision: Int64?, startAfter: String?, limit: Int?) async throws -> ListResult {
        try await read { db in
            let at = try Self.readRevision(db, revision)
            let upper = Self.prefixEnd(prefix)
            let limit = limit ?? 0
            var inclusive = true
            var arguments: [String: (any DatabaseValueConvertible)?] = [
                "lower": prefix, "revision": at, "limit": limit > 0 && limit < Int.max ? limit + 1 : -1,
            ]
            if let startAfter, !startAfter.utf8.lexicographicallyPrecedes(prefix.utf8) {
                arguments["lower"] = startAfter
                inclusive = false
            }
            if let upper { arguments["upper"] = upper }
            let statement = try db.cachedStatement(
                sql: Self.listSQL(inclusiveLower: inclusive, hasUpper: upper != nil))
            var items: [KeyValue] = []
            if limit > 0 { items.reserveCapacity(min(limit, 1_000) + 1) }
            let rows = try Row.fetchCursor(statement, arguments: StatementArguments(arguments))
            while let row = try rows.next() {
                items.append(KeyValue(
                    key: row[0], value: try Self.bytes(row, 3), createRevision: row[2], modRevision: row[1]))
            }
            let more = limit > 0 && items.count > limit
            if more { items.removeLast() }
            return ListResult(items: items, revision: at, more: more)
        }
    }

    public func count(prefix: String) async throws -> Int {
        try await read { db in
            let upper = Self.prefixEnd(prefix)
            var arguments: StatementArguments = [prefix]
            if let upper { arguments += [upper] }
            let statement = try db.cachedStatement(sql: Self.countSQL(hasUpper: upper != nil))
            return try Int.fetchOne(statement, arguments: arguments) ?? 0
        }
    }

    public func count(prefix: String, startAfter: String, revision: Int64?) async throws -> Int {
        try await read { db in
            let at = try Self.readRevision(db, revision)
            let upper = Self.prefixEnd(prefix)
            // As `list`: a start before the prefix counts the whole prefix.
            let inclusive = startAfter.utf8.lexicographicallyPrecedes(prefix.utf8)
            var arguments: [String: (any DatabaseValueConvertible)?] = ["lower": inclusive ? prefix : startAfter, "revision": at]
            if let upper { arguments["upper"] = upper }
            let statement = try db.cachedStatement(sql: Self.countAfterSQL(inclusiveLower: inclusive, hasUpper: upper != nil))
            return try Int.fetchOne(statement, arguments: StatementArguments(arguments)) ?? 0
        }
    }

    // MARK: - Helpers

    /// Runs `body` in one read snapshot, turning database errors into `OrcaError`s.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.wrap(error, "read")
        }
    }

    static func currentRevision(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: currentRevisionSQL)) ?? 0
    }

    static func compactedRevision(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: compactedRevisionSQL)) ?? 0
    }

    /// Validates a read revision (nil = current) against the current and compacted ones.
    static func readRevision(_ db: Database, _ requested: Int64?) throws -> Int64 {
        let current = try currentRevision(db)
        guard let requested else { return current }
        guard requested >= 0 else { throw OrcaError(.badRequest, "negative revision \(requested)") }
        if requested > current {
            throw OrcaError(.futureRevision, "revision \(requested) is newer than current \(current)")
        }
        let compacted = try compactedRevision(db)
        if requested < compacted {
            throw OrcaError(.compacted, "revision \(requested) is compacted (compacted to \(compacted))")
        }
        return requested
    }

    /// Passes `OrcaError` and cancellation through; wraps anything else (SQLite, I/O).
    static func wrap(_ error: any Error, _ operation: String) -> any Error {
        if error is OrcaError || error is CancellationError { return error }
        if let error = error as? DatabaseError {
            return OrcaError(.internalError, "sqlite store: \(operation) failed", cause: error)
        }
        return OrcaError(.internalError, "sqlite store: \(operation) failed: \(error)")
    }
}
