import GRDB
import OrcaStore

/// The kine-like log table, its migrations, and the SQL the store runs.
///
/// Table `kv`: one row per write; `id` (AUTOINCREMENT, never reused) is the revision.
/// A put row holds the new value; a delete row (`deleted = 1`) holds the value it
/// removed. `prev_revision` is the id of the key's previous row (0 for the first).
/// The latest row per key with `id <= R` is the key's state at revision R.
/// The store's current revision is `sqlite_sequence.seq` for `kv`, which survives
/// compaction of the newest rows.
extension SQLiteKVStore {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-kv-log") { db in
            try db.execute(sql: """
                CREATE TABLE kv (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    created INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    create_revision INTEGER NOT NULL,
                    prev_revision INTEGER NOT NULL,
                    value BLOB NOT NULL
                );
                CREATE INDEX kv_name_id ON kv (name, id);
                CREATE TABLE meta (
                    key TEXT PRIMARY KEY NOT NULL,
                    value INTEGER NOT NULL
                );
                """)
        }
        return migrator
    }

    // MARK: - SQL

    static let currentRevisionSQL = "SELECT seq FROM sqlite_sequence WHERE name = 'kv'"
    static let compactedRevisionSQL = "SELECT value FROM meta WHERE key = 'compact_rev'"
    static let setCompactedRevisionSQL = """
        INSERT INTO meta (key, value) VALUES ('compact_rev', ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
        """

    /// Columns: id, created, deleted, create_revision, value.
    static let latestRowSQL = """
        SELECT id, created, deleted, create_revision, value FROM kv
        WHERE name = ? ORDER BY id DESC LIMIT 1
        """
    /// Columns: id, created, deleted, create_revision, value.
    static let rowAtRevisionSQL = """
        SELECT id, created, deleted, create_revision, value FROM kv
        WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1
        """

    /// Inserts a row; `create_revision` NULL means "this row's own id" (a create).
    /// AUTOINCREMENT assigns `seq + 1`, which the subquery computes before the insert.
    static let insertSQL = """
        INSERT INTO kv (name, created, deleted, create_revision, prev_revision, value)
        VALUES (?1, ?2, ?3,
            COALESCE(?4, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'kv'), 0) + 1),
            ?5, ?6)
        """

    /// Deletes the rows superseded by a row in `(?1, ?2]` (earlier ranges are done).
    static let compactSupersededSQL = """
        DELETE FROM kv WHERE id IN (
            SELECT prev_revision FROM kv WHERE id > ?1 AND id <= ?2 AND prev_revision > 0)
        """
    /// Deletes the deletion rows in `(?1, ?2]`: at the compacted revision they are absent keys.
    static let compactDeletionsSQL = "DELETE FROM kv WHERE deleted = 1 AND id > ?1 AND id <= ?2"

    /// Columns: name, id, create_revision, value. Arguments: `:lower`, [`:upper`], `:revision`, `:limit`.
    ///
    /// Walks the (name, id) index in name order and keeps each key's latest row at the
    /// revision, so no sort is needed and a LIMIT stops the walk early.
    static func listSQL(inclusiveLower: Bool, hasUpper: Bool) -> String {
        """
        SELECT kv.name, kv.id, kv.create_revision, kv.value FROM kv
        WHERE kv.name \(inclusiveLower ? ">=" : ">") :lower\(hasUpper ? " AND kv.name < :upper" : "")
            AND kv.id <= :revision
            AND kv.id = (SELECT MAX(k2.id) FROM kv k2 WHERE k2.name = kv.name AND k2.id <= :revision)
            AND kv.deleted = 0
        ORDER BY kv.name
        LIMIT :limit
        """
    }

    /// The rows `listSQL` would return, counted. Arguments: lower, [upper], revision.
    static func countAfterSQL(inclusiveLower: Bool, hasUpper: Bool) -> String {
        """
        SELECT COUNT(*) FROM kv
        WHERE kv.name \(inclusiveLower ? ">=" : ">") :lower\(hasUpper ? " AND kv.name < :upper" : "")
            AND kv.id <= :revision
            AND kv.id = (SELECT MAX(k2.id) FROM kv k2 WHERE k2.name = kv.name AND k2.id <= :revision)
            AND kv.deleted = 0
        """
    }

    /// Arguments: lower, [upper].
    static func countSQL(hasUpper: Bool) -> String {
        """
        SELECT COUNT(*) FROM kv JOIN (
            SELECT MAX(id) AS id FROM kv
            WHERE name >= ?\(hasUpper ? " AND name < ?" : "")
            GROUP BY name
        ) latest ON latest.id = kv.id
        WHERE kv.deleted = 0
        """
    }

    /// Columns: id, name, created, deleted, create_revision, prev_revision, value, previous value.
    /// Arguments: after, [lower, [upper]].
    static func historySQL(hasLower: Bool, hasUpper: Bool) -> String {
        """
        SELECT k.id, k.name, k.created, k.deleted, k.create_revision, k.prev_revision, k.value, p.value
        FROM kv k LEFT JOIN kv p ON p.id = k.prev_revision AND k.created = 0 AND k.deleted = 0
        WHERE k.id > ?\(hasLower ? " AND k.name >= ?" : "")\(hasUpper ? " AND k.name < ?" : "")
        ORDER BY k.id
        """
    }

    // MARK: - Key ranges

    /// The smallest string greater than every string starting with `prefix` (in UTF-8
    /// byte order, which is code point order), or nil if there is none (empty prefix).
    static func prefixEnd(_ prefix: String) -> String? {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            var next = last.value + 1
            if next == 0xD800 { next = 0xE000 }  // skip surrogates, never in a String
            if let scalar = Unicode.Scalar(next) {
                scalars.append(scalar)
                var end = ""
                end.unicodeScalars.append(contentsOf: scalars)
                return end
            }
        }
        return nil
    }

    // MARK: - Row decoding

    /// The BLOB at `index`, copied once out of SQLite's buffer (nil for NULL).
    static func optionalBytes(_ row: Row, _ index: Int) throws -> [UInt8]? {
        try row.withUnsafeData(atIndex: index) { data in data.map { [UInt8]($0) } }
    }

    static func bytes(_ row: Row, _ index: Int) throws -> [UInt8] {
        try optionalBytes(row, index) ?? []
    }

    /// Decodes a row of ``historySQL(hasLower:hasUpper:)`` into the event it records.
    static func event(_ row: Row) throws -> WatchEvent {
        let id: Int64 = row[0]
        let name: String = row[1]
        let created: Bool = row[2]
        let deleted: Bool = row[3]
        let createRevision: Int64 = row[4]
        let prevRevision: Int64 = row[5]
        let value = try bytes(row, 6)
        if deleted {
            let previous = KeyValue(key: name, value: value, createRevision: createRevision, modRevision: prevRevision)
            return .delete(previous: previous, revision: id)
        }
        let kv = KeyValue(key: name, value: value, createRevision: createRevision, modRevision: id)
        guard !created, let previousValue = try optionalBytes(row, 7) else {
            return .put(kv, previous: nil)
        }
        let previous = KeyValue(
            key: name, value: previousValue, createRevision: createRevision, modRevision: prevRevision)
        return .put(kv, previous: previous)
    }
}
