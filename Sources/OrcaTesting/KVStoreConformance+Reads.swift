import OrcaCore
import OrcaStore

/// Checks of get, list (at revisions, paged, ordered) and count.
extension KVStoreConformance {
    /// `get` and `list` at an older revision see the store as it was then.
    public static func readsAtOldRevisions(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let start = try await store.currentRevision()
        let a = try await store.create(p + "a", value: bytes("a1"))
        let b = try await store.create(p + "b", value: bytes("b1"))
        let a2 = try await store.update(p + "a", value: bytes("a2"), expectedRevision: a.modRevision)
        let deleted = try await store.delete(p + "b", expectedRevision: nil)

        try expectEqual(try await store.get(p + "a", revision: start), nil, "a before its create")
        try expectEqual(try await store.get(p + "a", revision: a.modRevision), a, "a at its create")
        try expectEqual(try await store.get(p + "a", revision: b.modRevision), a, "a at b's create")
        try expectEqual(try await store.get(p + "a", revision: a2.modRevision), a2, "a at its update")
        try expectEqual(try await store.get(p + "b", revision: a2.modRevision), b, "b before its delete")
        try expectEqual(try await store.get(p + "b", revision: deleted.revision), nil, "b at its delete")
        try expectEqual(try await store.get(p + "a", revision: nil), a2, "a now")

        let atB = try await store.list(prefix: p, revision: b.modRevision, startAfter: nil, limit: nil)
        try expectEqual(atB.items, [a, b], "list at b's create")
        try expectEqual(atB.revision, b.modRevision, "revision of a list at b's create")
        let now = try await store.list(prefix: p, revision: nil, startAfter: nil, limit: nil)
        try expectEqual(now.items, [a2], "list now")
        try expectEqual(now.revision, deleted.revision, "revision of a list at the latest revision")

        let current = try await store.currentRevision()
        try await expectError(.futureRevision, "get at a future revision") {
            try await store.get(p + "a", revision: current + 1)
        }
        try await expectError(.futureRevision, "list at a future revision") {
            try await store.list(prefix: p, revision: current + 5, startAfter: nil, limit: nil)
        }
    }

    /// Paging with `startAfter`/`limit` walks the keys in order at one revision; `more`
    /// is true exactly when keys remain.
    public static func listPagesInKeyOrder(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let prefix = p + "items/"
        var live: [String] = []
        for i in 0..<25 {
            let key = prefix + (i < 10 ? "k0\(i)" : "k\(i)")
            _ = try await store.create(key, value: bytes("v\(i)"))
            live.append(key)
        }
        for outside in [p + "items", p + "itemsz/x", p + "a/x", p + "zz"] {
            _ = try await store.create(outside, value: bytes("outside"))
        }
        _ = try await store.delete(prefix + "k05", expectedRevision: nil)
        live.removeAll { $0 == prefix + "k05" }

        let page1 = try await store.list(prefix: prefix, revision: nil, startAfter: nil, limit: 10)
        try expectEqual(page1.items.map(\.key), Array(live[0..<10]), "page 1")
        try expectEqual(page1.more, true, "more after page 1")
        let revision = page1.revision
        let page2 = try await store.list(
            prefix: prefix, revision: revision, startAfter: page1.items.last!.key, limit: 10)
        try expectEqual(page2.items.map(\.key), Array(live[10..<20]), "page 2")
        try expectEqual(page2.more, true, "more after page 2")

        // Writes between pages do not show in pages served at the first page's revision.
        _ = try await store.create(prefix + "k99", value: bytes("late"))
        _ = try await store.delete(prefix + "k21", expectedRevision: nil)
        let page3 = try await store.list(
            prefix: prefix, revision: revision, startAfter: page2.items.last!.key, limit: 10)
        try expectEqual(page3.items.map(\.key), Array(live[20...]), "page 3")
        try expectEqual(page3.more, false, "more after the last page")
        try expectEqual(page3.revision, revision, "revision of page 3")

        let exact = try await store.list(prefix: prefix, revision: revision, startAfter: live[13], limit: 10)
        try expectEqual(exact.items.map(\.key), Array(live[14...]), "a page that ends exactly at the end")
        try expectEqual(exact.more, false, "more when the limit equals what remains")

        let all = try await store.list(prefix: prefix, revision: revision, startAfter: nil, limit: nil)
        try expectEqual(all.items.map(\.key), live, "unpaged list")
        try expectEqual(all.more, false, "more of an unpaged list")
        let zero = try await store.list(prefix: prefix, revision: revision, startAfter: nil, limit: 0)
        try expectEqual(zero.items.map(\.key), live, "list with limit 0")
        let before = try await store.list(prefix: prefix, revision: revision, startAfter: p + "a", limit: nil)
        try expectEqual(before.items.map(\.key), live, "list with startAfter before the prefix")
        let past = try await store.list(prefix: prefix, revision: revision, startAfter: prefix + "l", limit: nil)
        try expectEqual(past.items.map(\.key), [], "list with startAfter past every key")
    }

    /// Keys are ordered and prefix-matched by their UTF-8 bytes, as etcd does.
    public static func listOrdersKeysByBytes(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let names = ["b", "B", "a/b", "a-b", "a", "ab", "é", "z", "a/", "~", "日本"]
        for name in names {
            _ = try await store.create(p + name, value: bytes(name))
        }
        let expected = names.map { p + $0 }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let all = try await store.list(prefix: p, revision: nil, startAfter: nil, limit: nil)
        try expectEqual(all.items.map(\.key), expected, "keys in byte order")
        let under = try await store.list(prefix: p + "a/", revision: nil, startAfter: nil, limit: nil)
        try expectEqual(under.items.map(\.key), [p + "a/", p + "a/b"], "keys under a/")
        let unicode = try await store.list(prefix: p + "日", revision: nil, startAfter: nil, limit: nil)
        try expectEqual(unicode.items.map(\.key), [p + "日本"], "keys under a non-ASCII prefix")
    }

    /// `count` counts live keys under a prefix.
    public static func countMatchesLiveKeys(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        try expectEqual(try await store.count(prefix: p), 0, "count of an empty prefix")
        for i in 0..<12 {
            _ = try await store.create(p + "pods/p\(i)", value: bytes("\(i)"))
        }
        for i in 0..<3 {
            _ = try await store.create(p + "services/s\(i)", value: bytes("\(i)"))
        }
        let p0 = try await store.get(p + "pods/p0", revision: nil)!
        _ = try await store.update(p + "pods/p0", value: bytes("again"), expectedRevision: p0.modRevision)
        _ = try await store.delete(p + "pods/p1", expectedRevision: nil)
        try expectEqual(try await store.count(prefix: p + "pods/"), 11, "pods")
        try expectEqual(try await store.count(prefix: p + "services/"), 3, "services")
        try expectEqual(try await store.count(prefix: p), 14, "everything")
        try expectEqual(try await store.count(prefix: p + "pods/p1"), 2, "pods/p1 prefix (p10, p11)")
    }

    /// `count(prefix:startAfter:revision:)` counts what a list from `startAfter` at that
    /// revision would return.
    public static func countAfterAKeyAtARevision(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        for i in 0..<6 {
            _ = try await store.create(p + "k\(i)", value: bytes("\(i)"))
        }
        let before = try await store.currentRevision()
        _ = try await store.delete(p + "k4", expectedRevision: nil)
        _ = try await store.create(p + "k9", value: bytes("9"))
        try expectEqual(try await store.count(prefix: p, startAfter: p + "k2", revision: nil), 3, "k3, k5, k9 now")
        try expectEqual(try await store.count(prefix: p, startAfter: p + "k2", revision: before), 3, "k3, k4, k5 then")
        try expectEqual(try await store.count(prefix: p, startAfter: p + "k9", revision: nil), 0, "after the last")
        try expectEqual(try await store.count(prefix: p, startAfter: "", revision: nil), 6, "a start before the prefix")
    }
}
