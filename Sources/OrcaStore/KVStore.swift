import OrcaCore

/// One stored key at one revision, as etcd reports it.
public struct KeyValue: Sendable, Equatable {
    /// The full key, e.g. `/registry/pods/default/web`.
    public var key: String
    /// The stored bytes (a JSON-encoded object for the API server).
    public var value: [UInt8]
    /// The revision at which this key was created (since its last deletion).
    public var createRevision: Int64
    /// The revision of the last write to this key; the object's `resourceVersion`.
    public var modRevision: Int64

    public init(key: String, value: [UInt8], createRevision: Int64, modRevision: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
    }
}

/// A change seen by a watch.
public enum WatchEvent: Sendable, Equatable {
    /// The key was created (`kv.createRevision == kv.modRevision`).
    case put(KeyValue, previous: KeyValue?)
    /// The key was deleted at `revision`; `previous` is its last value.
    case delete(previous: KeyValue, revision: Int64)

    /// The revision at which the event happened.
    public var revision: Int64 {
        switch self {
        case .put(let kv, _): return kv.modRevision
        case .delete(_, let revision): return revision
        }
    }
}

/// The result of a (possibly paged) range read.
public struct ListResult: Sendable, Equatable {
    /// Matching keys in ascending key order.
    public var items: [KeyValue]
    /// The revision the read was served at.
    public var revision: Int64
    /// True if more keys match after the last one returned (only with a limit).
    public var more: Bool

    public init(items: [KeyValue], revision: Int64, more: Bool) {
        self.items = items
        self.revision = revision
        self.more = more
    }
}

/// Error codes a store throws (in `OrcaError.code`).
extension OrcaError.Code {
    /// `create` of a key that exists.
    public static let keyExists = OrcaError.Code("KeyExists")
    /// `update`/`delete` of a key that does not exist.
    public static let keyNotFound = OrcaError.Code("KeyNotFound")
    /// Compare-and-swap failed: the key's `modRevision` differs from the expected one.
    public static let revisionMismatch = OrcaError.Code("RevisionMismatch")
    /// A read or watch at a revision older than the compacted one.
    public static let compacted = OrcaError.Code("Compacted")
    /// A read at a revision newer than the store's current one.
    public static let futureRevision = OrcaError.Code("FutureRevision")
}

/// An etcd-shaped key-value store with a single global revision counter.
///
/// Every successful write increments the store revision by exactly one and
/// returns it. Reads may be served at an older revision until it is compacted.
/// Keys are plain strings; ranges are prefixes.
public protocol KVStore: Sendable {
    /// The revision of the last write (0 for an empty store).
    func currentRevision() async throws -> Int64

    /// The key at `revision` (nil = latest), or nil if it did not exist then.
    func get(_ key: String, revision: Int64?) async throws -> KeyValue?

    /// Keys with `prefix` at `revision` (nil = latest) in key order, starting after
    /// `startAfter` (exclusive), at most `limit` (nil or 0 = all).
    func list(prefix: String, revision: Int64?, startAfter: String?, limit: Int?) async throws -> ListResult

    /// Count of keys with `prefix` at the latest revision.
    func count(prefix: String) async throws -> Int

    /// Count of keys with `prefix` after `startAfter` (exclusive) at `revision` (nil = latest):
    /// what a paged list has left (`remainingItemCount`).
    func count(prefix: String, startAfter: String, revision: Int64?) async throws -> Int

    /// Creates `key`; throws `.keyExists` if it is present. Returns the new KeyValue.
    func create(_ key: String, value: [UInt8]) async throws -> KeyValue

    /// Replaces `key` if its `modRevision == expectedRevision`; throws `.keyNotFound`
    /// or `.revisionMismatch` (with no change). Returns the new KeyValue.
    func update(_ key: String, value: [UInt8], expectedRevision: Int64) async throws -> KeyValue

    /// Deletes `key` (if `expectedRevision` is non-nil, only when it matches). Returns the
    /// deleted value and the revision of the delete; throws `.keyNotFound` / `.revisionMismatch`.
    func delete(_ key: String, expectedRevision: Int64?) async throws -> (previous: KeyValue, revision: Int64)

    /// Events for keys with `prefix` with revision > `afterRevision`, in revision order:
    /// first the stored history, then live events. Throws `.compacted` (as the stream's
    /// error, or directly) if `afterRevision` is older than the compacted revision.
    /// The stream ends when the consumer stops iterating (cancellation) or the store closes,
    /// and throws `.watcherTooSlow` when the consumer falls `WatchHub.bufferLimit` events
    /// behind (the watch is then closed; nothing buffers without bound).
    func watch(prefix: String, afterRevision: Int64) async throws -> AsyncThrowingStream<WatchEvent, any Error>

    /// Forgets history at or below `revision` (latest values of live keys are kept).
    func compact(revision: Int64) async throws

    /// The revision history has been compacted to (0 if never).
    func compactedRevision() async throws -> Int64

    /// Drops what the store caches only for speed (page caches, idle connections), so the
    /// process can hand that memory back; later calls fill it again as needed.
    func releaseMemory() async
}

extension KVStore {
    /// Nothing cached by default.
    public func releaseMemory() async {}

    /// Counts by listing, for stores without a cheaper way.
    public func count(prefix: String, startAfter: String, revision: Int64?) async throws -> Int {
        try await list(prefix: prefix, revision: revision, startAfter: startAfter, limit: nil).items.count
    }
}
