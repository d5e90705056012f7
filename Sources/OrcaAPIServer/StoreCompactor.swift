import Foundation
import Logging
import OrcaStore

/// Compacts the store's history like kube-apiserver does: every interval it compacts to
/// the revision current one interval earlier, so watches and reads may go back that far
/// (older resource versions get 410 Gone) and history does not grow without bound.
public struct StoreCompactor: Sendable {
    let store: any KVStore
    let interval: Duration
    let logger = Logger(label: "orca.compactor")

    public init(store: any KVStore, interval: Duration = .seconds(300)) {
        self.store = store
        self.interval = interval
    }

    public func run() async {
        var previous: Int64?
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch { return }
            do {
                let current = try await store.currentRevision()
                if let previous, previous > (try await store.compactedRevision()) {
                    try await store.compact(revision: previous)
                    logger.debug("compacted to revision \(previous)")
                }
                previous = current
            } catch {
                logger.warning("compaction failed: \(error)")
            }
        }
    }
}
