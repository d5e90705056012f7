import GRDB
import OrcaCore
import OrcaStore

/// Watch: register with the hub first, then replay the log rows after `afterRevision`
/// from one read snapshot; the hub drops live events the replay already covered.
extension SQLiteKVStore {
    public func watch(prefix: String, afterRevision: Int64) async throws -> AsyncThrowingStream<WatchEvent, any Error> {
        let subscription = hub.subscribe(prefix: prefix, afterRevision: afterRevision)
        do {
            let history = try await read { db in
                try Self.history(db, prefix: prefix, afterRevision: afterRevision)
            }
            hub.replay(history, to: subscription.id)
        } catch {
            hub.cancel(subscription.id)
            throw error
        }
        return subscription.stream
    }

    /// The events for keys with `prefix` after `afterRevision`, in revision order.
    static func history(_ db: Database, prefix: String, afterRevision: Int64) throws -> [WatchEvent] {
        let compacted = try compactedRevision(db)
        guard afterRevision >= compacted else {
            throw OrcaError(.compacted, "watch after revision \(afterRevision): compacted to \(compacted)")
        }
        let upper = prefixEnd(prefix)
        var arguments: StatementArguments = [afterRevision]
        if !prefix.isEmpty { arguments += [prefix] }
        if let upper { arguments += [upper] }
        let statement = try db.cachedStatement(sql: historySQL(hasLower: !prefix.isEmpty, hasUpper: upper != nil))
        var events: [WatchEvent] = []
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        while let row = try rows.next() {
            try events.append(event(row))
        }
        return events
    }
}
