import OrcaCore
import OrcaStore

/// Checks of watch: history replay, live events, prefixes, and concurrency.
extension KVStoreConformance {
    /// A watch from an old revision replays the history after it, then live events, in order.
    public static func watchReplaysHistoryThenLive(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let a = try await store.create(p + "a", value: bytes("a1"))
        let a2 = try await store.update(p + "a", value: bytes("a2"), expectedRevision: a.modRevision)
        let b = try await store.create(p + "b", value: bytes("b1"))
        let deleted = try await store.delete(p + "a", expectedRevision: nil)

        let stream = try await store.watch(prefix: p, afterRevision: a.modRevision)
        let history = try await next(3, from: stream)
        try expectEqual(history, [
            .put(a2, previous: a),
            .put(b, previous: nil),
            .delete(previous: a2, revision: deleted.revision),
        ], "replayed history")

        let c = try await store.create(p + "c", value: bytes("c1"))
        let b2 = try await store.update(p + "b", value: bytes("b2"), expectedRevision: b.modRevision)
        let a3 = try await store.create(p + "a", value: bytes("a3"))
        let live = try await next(3, from: stream)
        try expectEqual(live, [.put(c, previous: nil), .put(b2, previous: b), .put(a3, previous: nil)], "live events")

        // A watch from the current revision sees only what comes next.
        let current = try await store.currentRevision()
        let fromNow = try await store.watch(prefix: p, afterRevision: current)
        let b3 = try await store.update(p + "b", value: bytes("b3"), expectedRevision: b2.modRevision)
        try expectEqual(try await next(1, from: fromNow), [.put(b3, previous: b2)], "watch from now")
        try expectEqual(try await next(1, from: stream), [.put(b3, previous: b2)], "first watch, still live")
    }

    /// A watch sees only keys under its prefix, in history and live.
    public static func watchFiltersByPrefix(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let start = try await store.currentRevision()
        _ = try await store.create(p + "services/s1", value: bytes("s1"))
        let p1 = try await store.create(p + "pods/p1", value: bytes("p1"))
        _ = try await store.create(p + "podsx", value: bytes("x"))

        let stream = try await store.watch(prefix: p + "pods/", afterRevision: start)
        try expectEqual(try await next(1, from: stream), [.put(p1, previous: nil)], "history under pods/")

        _ = try await store.create(p + "services/s2", value: bytes("s2"))
        _ = try await store.create(p + "pods", value: bytes("not under pods/"))
        _ = try await store.delete(p + "podsx", expectedRevision: nil)
        let p2 = try await store.create(p + "pods/p2", value: bytes("p2"))
        try expectEqual(try await next(1, from: stream), [.put(p2, previous: nil)], "live under pods/")
    }

    /// Watches opened while writers run see every event exactly once, in revision order.
    public static func watchUnderConcurrentWrites(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let writers = 4, perWriter = 40, total = writers * perWriter
        let start = try await store.currentRevision()
        let early = try await store.watch(prefix: p, afterRevision: start)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    for i in 0..<perWriter {
                        _ = try await store.create(p + "w\(w)/\(i)", value: bytes("\(i)"))
                    }
                }
            }
            // Opened while the writers run: one replaying from the start, one from "now".
            let replaying = try await store.watch(prefix: p, afterRevision: start)
            let now = try await store.currentRevision()
            let fromNow = try await store.watch(prefix: p, afterRevision: now)
            try await group.waitForAll()

            for (name, stream, after) in [("early", early, start), ("replaying", replaying, start), ("from now", fromNow, now)] {
                let count = Int(start + Int64(total) - after)
                let events = try await next(count, from: stream)
                try expectEqual(events.map(\.revision), Array(after + 1 ... start + Int64(total)), "\(name) revisions")
            }
        }
        let all = try await store.list(prefix: p, revision: nil, startAfter: nil, limit: nil)
        try expectEqual(all.items.count, total, "keys written")
    }
}
