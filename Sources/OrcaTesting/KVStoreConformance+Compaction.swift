import OrcaCore
import OrcaStore

/// Checks of compaction: older reads and watches fail, later ones are unchanged.
extension KVStoreConformance {
    /// After `compact(R)`, reads below R and watches after a revision below R throw
    /// `.compacted`; reads at R and watches after R work.
    public static func compactionRejectsOlderReadsAndWatches(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let start = try await store.currentRevision()
        let a = try await store.create(p + "a", value: bytes("a1"))
        let a2 = try await store.update(p + "a", value: bytes("a2"), expectedRevision: a.modRevision)
        _ = try await store.create(p + "b", value: bytes("b1"))
        let deleted = try await store.delete(p + "b", expectedRevision: nil)
        let c = try await store.create(p + "c", value: bytes("c1"))

        let target = deleted.revision
        try await store.compact(revision: target)
        try expectEqual(try await store.compactedRevision(), target, "compacted revision")

        try await expectError(.compacted, "get below the compacted revision") {
            try await store.get(p + "a", revision: target - 1)
        }
        try await expectError(.compacted, "get at the old start") {
            try await store.get(p + "a", revision: start)
        }
        try await expectError(.compacted, "list below the compacted revision") {
            try await store.list(prefix: p, revision: a.modRevision, startAfter: nil, limit: nil)
        }
        try await expectCompactedWatch(store, prefix: p, afterRevision: a2.modRevision)
        try await expectCompactedWatch(store, prefix: p, afterRevision: target - 1)

        try expectEqual(try await store.get(p + "a", revision: target), a2, "get at the compacted revision")
        try expectEqual(try await store.get(p + "b", revision: target), nil, "deleted key at the compacted revision")
        let atTarget = try await store.list(prefix: p, revision: target, startAfter: nil, limit: nil)
        try expectEqual(atTarget.items, [a2], "list at the compacted revision")
        let stream = try await store.watch(prefix: p, afterRevision: target)
        try expectEqual(try await next(1, from: stream), [.put(c, previous: nil)], "watch after the compacted revision")

        let current = try await store.currentRevision()
        try await expectError(.futureRevision, "compact at a future revision") {
            try await store.compact(revision: current + 1)
        }
    }

    /// Compacting in steps leaves every read and watch at or after the compacted revision
    /// exactly as it was before.
    public static func compactionKeepsLaterHistory(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        let keys = (0..<6).map { p + "k\($0)" }
        let start = try await store.currentRevision()
        let recorder = try await store.watch(prefix: p, afterRevision: start)

        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var latest: [String: KeyValue] = [:]
        var snapshots: [Int64: [KeyValue]] = [start: []]
        for i in 0..<40 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let key = keys[Int(seed >> 33) % keys.count]
            if let current = latest[key] {
                if (seed >> 20) % 3 == 0 {
                    _ = try await store.delete(key, expectedRevision: current.modRevision)
                    latest[key] = nil
                } else {
                    latest[key] = try await store.update(key, value: bytes("\(i)"), expectedRevision: current.modRevision)
                }
            } else {
                latest[key] = try await store.create(key, value: bytes("\(i)"))
            }
            snapshots[start + Int64(i) + 1] = latest.values.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        }
        let end = start + 40
        let events = try await next(40, from: recorder)

        for target in [start + 10, start + 25, end] {
            try await store.compact(revision: target)
            try await expectError(.compacted, "list just below \(target)") {
                try await store.list(prefix: p, revision: target - 1, startAfter: nil, limit: nil)
            }
            for revision in target...end {
                let list = try await store.list(prefix: p, revision: revision, startAfter: nil, limit: nil)
                try expectEqual(list.items, snapshots[revision]!, "list at \(revision) after compacting to \(target)")
                for key in keys {
                    let expected = snapshots[revision]!.first { $0.key == key }
                    try expectEqual(try await store.get(key, revision: revision), expected, "get \(key) at \(revision)")
                }
            }
            let replay = try await store.watch(prefix: p, afterRevision: target)
            let expected = events.filter { $0.revision > target }
            try expectEqual(try await next(expected.count, from: replay), expected, "replay after \(target)")
        }
    }

    /// Compaction keeps the latest value of every live key, and writes go on as before.
    public static func latestValuesSurviveCompaction(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        var latest: [KeyValue] = []
        for i in 0..<30 {
            let key = p + "k\(i < 10 ? "0" : "")\(i)"
            var kv = try await store.create(key, value: bytes("0"))
            for round in 1...3 {
                kv = try await store.update(key, value: bytes("\(round)"), expectedRevision: kv.modRevision)
            }
            latest.append(kv)
        }
        for i in stride(from: 0, to: 30, by: 6) {
            _ = try await store.delete(latest[i].key, expectedRevision: nil)
        }
        latest = latest.enumerated().filter { $0.offset % 6 != 0 }.map(\.element)

        let current = try await store.currentRevision()
        try await store.compact(revision: current)
        let list = try await store.list(prefix: p, revision: nil, startAfter: nil, limit: nil)
        try expectEqual(list.items, latest, "live keys after compaction")
        try expectEqual(try await store.count(prefix: p), latest.count, "count after compaction")
        try expectEqual(try await store.currentRevision(), current, "revision after compaction")
        for kv in latest {
            try expectEqual(try await store.get(kv.key, revision: nil), kv, "get \(kv.key) after compaction")
        }
        let updated = try await store.update(latest[0].key, value: bytes("after"), expectedRevision: latest[0].modRevision)
        try expectEqual(updated.modRevision, current + 1, "revision of a write after compaction")
        try expectEqual(updated.createRevision, latest[0].createRevision, "createRevision survives compaction")
        let recreated = try await store.create(p + "k00", value: bytes("again"))
        try expectEqual(recreated.modRevision, current + 2, "re-create of a compacted-away key")
    }

    /// Dropping caches loses no data and no watch: reads, writes and an open watch go on, at
    /// once and while reads run alongside the release.
    public static func releasingMemoryLosesNothing(_ factory: Factory) async throws {
        let store = try await factory()
        let p = uniquePrefix()
        var written: [KeyValue] = []
        for i in 0..<20 { written.append(try await store.create(p + "k\(i < 10 ? "0" : "")\(i)", value: bytes("\(i)"))) }
        let watch = try await store.watch(prefix: p, afterRevision: try await store.currentRevision())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<10 { _ = try await store.list(prefix: p, revision: nil, startAfter: nil, limit: nil) }
                }
            }
            await store.releaseMemory()
            try await group.waitForAll()
        }
        await store.releaseMemory()
        let list = try await store.list(prefix: p, revision: nil, startAfter: nil, limit: nil)
        try expectEqual(list.items, written, "keys after releasing memory")
        let updated = try await store.update(written[3].key, value: bytes("after"), expectedRevision: written[3].modRevision)
        try expectEqual(try await store.get(updated.key, revision: nil), updated, "a write after releasing memory")
        try expectEqual(try await next(1, from: watch), [WatchEvent.put(updated, previous: written[3])], "the watch goes on")
    }

    /// Expects a watch after `afterRevision` to fail with `.compacted`, directly or as
    /// the stream's first result.
    static func expectCompactedWatch(
        _ store: any KVStore, prefix: String, afterRevision: Int64,
        file: StaticString = #fileID, line: UInt = #line
    ) async throws {
        try await expectError(.compacted, "watch after \(afterRevision)", file: file, line: line) {
            let stream = try await store.watch(prefix: prefix, afterRevision: afterRevision)
            return try await next(1, from: stream)
        }
    }
}
