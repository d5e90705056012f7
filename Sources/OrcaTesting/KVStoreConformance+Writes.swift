import OrcaCore
import OrcaStore

/// Checks of create, compare-and-swap update and delete.
extension KVStoreConformance {
    /// Every successful write adds exactly one to the revision; failed writes add nothing.
    public static func revisionsIncreaseByOne(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let start = try await store.currentRevision()

        let a = try await store.create(p + "a", value: bytes("a1"))
        try expectEqual(a.modRevision, start + 1, "revision of the first create")
        try expectEqual(a.createRevision, a.modRevision, "createRevision of a create")
        try expectEqual(a.value, bytes("a1"), "value of a create")
        let b = try await store.create(p + "b", value: bytes("b1"))
        try expectEqual(b.modRevision, start + 2, "revision of the second create")
        let a2 = try await store.update(p + "a", value: bytes("a2"), expectedRevision: a.modRevision)
        try expectEqual(a2.modRevision, start + 3, "revision of an update")
        try expectEqual(a2.createRevision, a.createRevision, "createRevision after an update")
        let deleted = try await store.delete(p + "b", expectedRevision: nil)
        try expectEqual(deleted.revision, start + 4, "revision of a delete")
        try expectEqual(try await store.currentRevision(), start + 4, "current revision after 4 writes")

        try await expectError(.keyExists, "create of an existing key") {
            try await store.create(p + "a", value: bytes("x"))
        }
        try await expectError(.revisionMismatch, "stale update") {
            try await store.update(p + "a", value: bytes("x"), expectedRevision: a.modRevision)
        }
        try await expectError(.keyNotFound, "delete of a missing key") {
            try await store.delete(p + "b", expectedRevision: nil)
        }
        try expectEqual(try await store.currentRevision(), start + 4, "current revision after failed writes")
        let c = try await store.create(p + "c", value: bytes("c1"))
        try expectEqual(c.modRevision, start + 5, "revision of the write after failed ones")
    }

    /// `create` of a present key throws `.keyExists`; after a delete the key can be created anew.
    public static func createExistingKeyThrowsKeyExists(_ factory: Factory) async throws {
        let store = try await factory()
        let key = uniquePrefix() + "k"
        let first = try await store.create(key, value: bytes("1"))
        try await expectError(.keyExists, "second create") {
            try await store.create(key, value: bytes("2"))
        }
        try expectEqual(try await store.get(key, revision: nil), first, "value after the failed create")

        _ = try await store.delete(key, expectedRevision: first.modRevision)
        let again = try await store.create(key, value: bytes("3"))
        try expectEqual(again.createRevision, again.modRevision, "createRevision of a re-create")
        try expect(again.createRevision > first.createRevision, "re-create must get a new createRevision")
        try expectEqual(try await store.get(key, revision: nil), again, "value after the re-create")
    }

    /// A compare-and-swap with a stale revision throws `.revisionMismatch` and changes nothing.
    public static func staleUpdateThrowsRevisionMismatch(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let v1 = try await store.create(p + "k", value: bytes("1"))
        let v2 = try await store.update(p + "k", value: bytes("2"), expectedRevision: v1.modRevision)
        try expectEqual(v2.value, bytes("2"), "updated value")
        let revision = try await store.currentRevision()

        try await expectError(.revisionMismatch, "update with the previous revision") {
            try await store.update(p + "k", value: bytes("3"), expectedRevision: v1.modRevision)
        }
        try await expectError(.revisionMismatch, "update with a future revision") {
            try await store.update(p + "k", value: bytes("3"), expectedRevision: v2.modRevision + 100)
        }
        try await expectError(.keyNotFound, "update of a missing key") {
            try await store.update(p + "missing", value: bytes("3"), expectedRevision: v1.modRevision)
        }
        try expectEqual(try await store.get(p + "k", revision: nil), v2, "value after failed updates")
        try expectEqual(try await store.currentRevision(), revision, "revision after failed updates")

        let v3 = try await store.update(p + "k", value: bytes("3"), expectedRevision: v2.modRevision)
        try expectEqual(v3.modRevision, revision + 1, "revision of the next good update")
    }

    /// `delete` returns the removed value and its revision; the key is gone afterwards.
    public static func deleteRemovesKey(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let a = try await store.create(p + "a", value: bytes("a"))
        let b = try await store.create(p + "b", value: bytes("b"))

        try await expectError(.revisionMismatch, "delete with a stale revision") {
            try await store.delete(p + "a", expectedRevision: a.modRevision - 1)
        }
        try expectEqual(try await store.get(p + "a", revision: nil), a, "value after a failed delete")

        let deletedA = try await store.delete(p + "a", expectedRevision: a.modRevision)
        try expectEqual(deletedA.previous, a, "previous value of a conditional delete")
        try expectEqual(deletedA.revision, b.modRevision + 1, "revision of the delete")
        let deletedB = try await store.delete(p + "b", expectedRevision: nil)
        try expectEqual(deletedB.previous, b, "previous value of an unconditional delete")

        try expectEqual(try await store.get(p + "a", revision: nil), nil, "get after delete")
        let list = try await store.list(prefix: p, revision: nil, startAfter: nil, limit: nil)
        try expectEqual(list.items, [], "list after deleting every key")
        try expectEqual(try await store.count(prefix: p), 0, "count after deleting every key")
        try await expectError(.keyNotFound, "second delete") {
            try await store.delete(p + "a", expectedRevision: nil)
        }
        try await expectError(.keyNotFound, "update of a deleted key") {
            try await store.update(p + "a", value: bytes("x"), expectedRevision: a.modRevision)
        }
    }
}
