import OrcaCore

/// An in-memory ``KVStore``: the reference backend for tests and single-process use.
///
/// Keeps every revision of every key until it is compacted, so reads at old revisions
/// and watch replay behave as in etcd. Keys are ordered and prefix-matched by their
/// UTF-8 bytes, as the SQLite and etcd backends do. Writes never suspend, so each one
/// is atomic and publishes its event to watchers in revision order.
public actor MemoryKVStore: KVStore {
    /// One revision of one key; `kv == nil` is a deletion.
    private struct Version {
        var revision: Int64
        var kv: KeyValue?
    }

    /// Versions per key, oldest first; a key whose history is fully compacted is absent.
    private var histories: [String: [Version]] = [:]
    /// Every key in `histories`, ascending by UTF-8 bytes.
    private var sortedKeys: [String] = []
    /// Events with revisions `compacted + 1 ... revision`, one per revision, in order.
    private var log: [WatchEvent] = []
    private var revision: Int64 = 0
    private var compacted: Int64 = 0
    private let hub = WatchHub()

    /// Creates an empty store at revision 0.
    public init() {}

    /// The number of open watches (each is closed if it falls ``WatchHub/bufferLimit`` events behind).
    public nonisolated var watcherCount: Int {
        hub.watcherCount
    }

    /// Ends every open watch; the store stays usable.
    public func close() {
        hub.close()
    }

    public func currentRevision() -> Int64 {
        revision
    }

    public func compactedRevision() -> Int64 {
        compacted
    }

    public func get(_ key: String, revision: Int64?) throws -> KeyValue? {
        let at = try readRevision(revision)
        return histories[key].flatMap { Self.value(in: $0, at: at) }
    }

    public func list(prefix: String, revision: Int64?, startAfter: String?, limit: Int?) throws -> ListResult {
        let at = try readRevision(revision)
        let limit = limit ?? 0
        var index = lowerBound(prefix)
        if let startAfter, !Self.less(startAfter, prefix) {
            index = upperBound(startAfter)
        }
        var items: [KeyValue] = []
        var more = false
        while index < sortedKeys.count, WatchHub.matches(sortedKeys[index], prefix) {
            defer { index += 1 }
            guard let kv = histories[sortedKeys[index]].flatMap({ Self.value(in: $0, at: at) }) else { continue }
            if limit > 0, items.count == limit {
                more = true
                break
            }
            items.append(kv)
        }
        return ListResult(items: items, revision: at, more: more)
    }

    public func count(prefix: String) -> Int {
        var index = lowerBound(prefix)
        var count = 0
        while index < sortedKeys.count, WatchHub.matches(sortedKeys[index], prefix) {
            if histories[sortedKeys[index]]?.last?.kv != nil { count += 1 }
            index += 1
        }
        return count
    }

    public func create(_ key: String, value: [UInt8]) throws -> KeyValue {
        if let current = histories[key]?.last?.kv {
            throw OrcaError(.keyExists, "key \(key) exists at revision \(current.modRevision)")
        }
        let kv = KeyValue(key: key, value: value, createRevision: revision + 1, modRevision: revision + 1)
        commit(key, kv, event: .put(kv, previous: nil))
        return kv
    }

    public func update(_ key: String, value: [UInt8], expectedRevision: Int64) throws -> KeyValue {
        let current = try existing(key, expectedRevision: expectedRevision)
        let kv = KeyValue(key: key, value: value, createRevision: current.createRevision, modRevision: revision + 1)
        commit(key, kv, event: .put(kv, previous: current))
        return kv
    }

    public func delete(_ key: String, expectedRevision: Int64?) throws -> (previous: KeyValue, revision: Int64) {
        let current = try existing(key, expectedRevision: expectedRevision)
        commit(key, nil, event: .delete(previous: current, revision: revision + 1))
        return (current, revision)
    }

    public func watch(prefix: String, afterRevision: Int64) throws -> AsyncThrowingStream<WatchEvent, any Error> {
        guard afterRevision >= compacted else {
            throw OrcaError(.compacted, "watch after revision \(afterRevision): compacted to \(compacted)")
        }
        let subscription = hub.subscribe(prefix: prefix, afterRevision: afterRevision)
        let start = Int(min(afterRevision, revision) - compacted)
        let history = log[start...].filter { WatchHub.matches($0.key, prefix) }
        hub.replay(history, to: subscription.id)
        return subscription.stream
    }

    public func compact(revision target: Int64) throws {
        guard target <= revision else {
            throw OrcaError(.futureRevision, "compact at \(target): current revision is \(revision)")
        }
        guard target > compacted else { return }
        let dropped = Int(target - compacted)
        let touched = Set(log[..<dropped].map(\.key))
        for key in touched {
            guard var versions = histories[key],
                  let keep = versions.lastIndex(where: { $0.revision <= target }) else { continue }
            // The version visible at `target` stays (unless it is a deletion); older ones go.
            versions.removeFirst(versions[keep].kv == nil ? keep + 1 : keep)
            if versions.isEmpty {
                histories[key] = nil
                sortedKeys.remove(at: lowerBound(key))
            } else {
                histories[key] = versions
            }
        }
        log.removeFirst(dropped)
        compacted = target
    }

    // MARK: - Internals

    /// Validates a read revision (nil = current).
    private func readRevision(_ requested: Int64?) throws -> Int64 {
        guard let requested else { return revision }
        guard requested >= 0 else { throw OrcaError(.badRequest, "negative revision \(requested)") }
        if requested > revision {
            throw OrcaError(.futureRevision, "revision \(requested) is newer than current \(revision)")
        }
        if requested < compacted {
            throw OrcaError(.compacted, "revision \(requested) is compacted (compacted to \(compacted))")
        }
        return requested
    }

    /// The live value of `key` if its `modRevision` matches `expectedRevision` (when given).
    private func existing(_ key: String, expectedRevision: Int64?) throws -> KeyValue {
        guard let current = histories[key]?.last?.kv else {
            throw OrcaError(.keyNotFound, "key \(key) not found")
        }
        if let expectedRevision, current.modRevision != expectedRevision {
            throw OrcaError(
                .revisionMismatch,
                "key \(key) is at revision \(current.modRevision), expected \(expectedRevision)")
        }
        return current
    }

    /// Records a write at `revision + 1` and publishes its event.
    private func commit(_ key: String, _ kv: KeyValue?, event: WatchEvent) {
        revision += 1
        if histories[key] == nil {
            sortedKeys.insert(key, at: lowerBound(key))
            histories[key] = []
        }
        histories[key]!.append(Version(revision: revision, kv: kv))
        log.append(event)
        hub.publish(event)
    }

    private static func value(in versions: [Version], at revision: Int64) -> KeyValue? {
        versions.last(where: { $0.revision <= revision })?.kv
    }

    private static func less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The first index in `sortedKeys` whose key is >= `key`.
    private func lowerBound(_ key: String) -> Int {
        var low = 0, high = sortedKeys.count
        while low < high {
            let mid = (low + high) / 2
            if Self.less(sortedKeys[mid], key) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The first index in `sortedKeys` whose key is > `key`.
    private func upperBound(_ key: String) -> Int {
        let index = lowerBound(key)
        return index < sortedKeys.count && sortedKeys[index].utf8.elementsEqual(key.utf8) ? index + 1 : index
    }
}
