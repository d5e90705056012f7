import OrcaCore
import OrcaStore

/// The behaviour every ``KVStore`` backend must show, as plain async checks.
///
/// Each check takes a factory, opens one store with it, writes under a fresh random
/// prefix (so a shared backend such as an etcd server may hold other data), and throws
/// a ``Failure`` describing the first difference from the expected behaviour. Checks
/// assume no one else writes to the store while they run (revisions are counted).
///
/// With Swift Testing, run them as a table:
///
/// ```swift
/// @Test(arguments: KVStoreConformance.checks)
/// func memory(_ check: KVStoreConformance.Check) async throws {
///     try await check.run { MemoryKVStore() }
/// }
/// ```
public enum KVStoreConformance {
    /// Opens the store a check runs against.
    public typealias Factory = @Sendable () async throws -> any KVStore

    /// One named conformance check.
    public struct Check: Sendable, CustomStringConvertible {
        /// The check's name, e.g. `revisionsIncreaseByOne`.
        public let name: String
        /// Runs the check against a store from `factory`; throws a ``Failure`` on a difference.
        public let run: @Sendable (_ factory: Factory) async throws -> Void

        public var description: String { name }
    }

    /// A difference between a store's behaviour and the expected one.
    public struct Failure: Error, CustomStringConvertible {
        /// What differed.
        public var message: String
        /// Where in the suite it was detected.
        public var location: String

        public var description: String { "\(location): \(message)" }
    }

    /// Every check, in a stable order.
    public static let checks: [Check] = [
        Check(name: "revisionsIncreaseByOne") { try await revisionsIncreaseByOne($0) },
        Check(name: "createExistingKeyThrowsKeyExists") { try await createExistingKeyThrowsKeyExists($0) },
        Check(name: "staleUpdateThrowsRevisionMismatch") { try await staleUpdateThrowsRevisionMismatch($0) },
        Check(name: "deleteRemovesKey") { try await deleteRemovesKey($0) },
        Check(name: "readsAtOldRevisions") { try await readsAtOldRevisions($0) },
        Check(name: "listPagesInKeyOrder") { try await listPagesInKeyOrder($0) },
        Check(name: "listOrdersKeysByBytes") { try await listOrdersKeysByBytes($0) },
        Check(name: "countMatchesLiveKeys") { try await countMatchesLiveKeys($0) },
        Check(name: "countAfterAKeyAtARevision") { try await countAfterAKeyAtARevision($0) },
        Check(name: "watchReplaysHistoryThenLive") { try await watchReplaysHistoryThenLive($0) },
        Check(name: "watchFiltersByPrefix") { try await watchFiltersByPrefix($0) },
        Check(name: "watchUnderConcurrentWrites") { try await watchUnderConcurrentWrites($0) },
        Check(name: "compactionRejectsOlderReadsAndWatches") { try await compactionRejectsOlderReadsAndWatches($0) },
        Check(name: "compactionKeepsLaterHistory") { try await compactionKeepsLaterHistory($0) },
        Check(name: "latestValuesSurviveCompaction") { try await latestValuesSurviveCompaction($0) },
        Check(name: "releasingMemoryLosesNothing") { try await releasingMemoryLosesNothing($0) },
    ]

    /// Runs every check, each with a store of its own from `factory`.
    public static func runAll(_ factory: Factory) async throws {
        for check in checks {
            do {
                try await check.run(factory)
            } catch let failure as Failure {
                throw Failure(message: "\(check.name): \(failure.message)", location: failure.location)
            }
        }
    }

    // MARK: - Expectations

    static func expect(
        _ condition: Bool, _ message: @autoclosure () -> String,
        file: StaticString = #fileID, line: UInt = #line
    ) throws {
        if !condition { throw Failure(message: message(), location: "\(file):\(line)") }
    }

    static func expectEqual<T: Equatable>(
        _ actual: T, _ expected: T, _ what: String,
        file: StaticString = #fileID, line: UInt = #line
    ) throws {
        try expect(actual == expected, "\(what): got \(actual), expected \(expected)", file: file, line: line)
    }

    /// Expects `body` to throw an `OrcaError` with `code`.
    static func expectError<T>(
        _ code: OrcaError.Code, _ what: String,
        file: StaticString = #fileID, line: UInt = #line,
        _ body: () async throws -> T
    ) async throws {
        do {
            let value = try await body()
            throw Failure(message: "\(what): expected \(code), got \(value)", location: "\(file):\(line)")
        } catch let error as OrcaError {
            try expectEqual(error.code, code, "\(what): error code", file: file, line: line)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(message: "\(what): expected \(code), got \(error)", location: "\(file):\(line)")
        }
    }

    // MARK: - Helpers

    /// A fresh key prefix, so checks can share a backend with other data.
    static func uniquePrefix() -> String {
        "/conformance-\(UInt64.random(in: 0...UInt64.max))/"
    }

    static func bytes(_ text: String) -> [UInt8] {
        Array(text.utf8)
    }

    /// The next `count` events of `stream`; fails after `timeout` (a guard against hangs).
    static func next(
        _ count: Int, from stream: AsyncThrowingStream<WatchEvent, any Error>,
        timeout: Duration = .seconds(30), file: StaticString = #fileID, line: UInt = #line
    ) async throws -> [WatchEvent] {
        if count == 0 { return [] }
        return try await withThrowingTaskGroup(of: [WatchEvent]?.self) { group in
            group.addTask {
                var events: [WatchEvent] = []
                for try await event in stream {
                    events.append(event)
                    if events.count == count { break }
                }
                return events
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let events = first else {
                throw Failure(message: "no \(count) watch events within \(timeout)", location: "\(file):\(line)")
            }
            try expect(events.count == count, "watch ended after \(events.count) of \(count) events: \(events)",
                       file: file, line: line)
            return events
        }
    }
}
