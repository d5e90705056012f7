import Foundation
import OrcaCore
import OrcaStore
@testable import OrcaStoreSQLite
import Testing

/// What only the SQLite backend promises: files, reopening, and its SQLite settings.
@Suite struct SQLiteKVStoreTests {
    @Test func createsParentDirectoriesAndUsesFullSync() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("a/b/c/state.sqlite")
        let store = try SQLiteKVStore(path: path)
        defer { try? store.close() }
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try store.synchronousMode() == 2)
    }

    @Test func reopenSeesDataAndRevision() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("state.sqlite")

        let first = try SQLiteKVStore(path: path)
        let a = try await first.create("/r/a", value: Array("a1".utf8))
        let a2 = try await first.update("/r/a", value: Array("a2".utf8), expectedRevision: a.modRevision)
        let b = try await first.create("/r/b", value: Array("b1".utf8))
        _ = try await first.delete("/r/b", expectedRevision: b.modRevision)
        try await first.compact(revision: a2.modRevision)
        try first.close()

        let second = try SQLiteKVStore(path: path)
        defer { try? second.close() }
        #expect(try await second.currentRevision() == 4)
        #expect(try await second.compactedRevision() == 2)
        #expect(try await second.get("/r/a", revision: nil) == a2)
        #expect(try await second.get("/r/b", revision: 3) == b)
        #expect(try await second.list(prefix: "/r/", revision: nil, startAfter: nil, limit: nil).items == [a2])
        let c = try await second.create("/r/c", value: [])
        #expect(c.modRevision == 5)
    }

    /// When compaction removes the newest rows (a deletion), the revision must not go back.
    @Test func revisionSurvivesCompactingTheNewestRows() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("state.sqlite")

        let first = try SQLiteKVStore(path: path)
        _ = try await first.create("/k", value: [1])
        _ = try await first.delete("/k", expectedRevision: nil)
        try await first.compact(revision: 2)
        #expect(try await first.list(prefix: "", revision: nil, startAfter: nil, limit: nil).items.isEmpty)
        try first.close()

        let second = try SQLiteKVStore(path: path)
        defer { try? second.close() }
        #expect(try await second.currentRevision() == 2)
        let again = try await second.create("/k", value: [2])
        #expect(again.modRevision == 3)
        #expect(again.createRevision == 3)
    }

    @Test func prefixEndIsTheNextStringInByteOrder() {
        #expect(SQLiteKVStore.prefixEnd("") == nil)
        #expect(SQLiteKVStore.prefixEnd("/pods/") == "/pods0")
        #expect(SQLiteKVStore.prefixEnd("a\u{D7FF}") == "a\u{E000}")
        #expect(SQLiteKVStore.prefixEnd("a\u{10FFFF}") == "b")
        #expect(SQLiteKVStore.prefixEnd("\u{10FFFF}") == nil)
    }
}
