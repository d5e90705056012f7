import Foundation
import OrcaClient

/// The DaemonSet's ControllerRevisions (`constructHistory`, `cleanupHistory`).
extension DaemonSetController {
    /// The revision of the current template (found, renumbered after the newest, or created)
    /// and the older revisions; with the collision count to record in status.
    func constructHistory(_ ds: DaemonSet) async throws -> (current: ControllerRevision, old: [ControllerRevision], collisionCount: Int32) {
        let revisions = await history.list(of: ds)
        var collisionCount = ds.status?.collisionCount ?? 0
        let data = try ControllerRevisionHistory.templatePatch(ds.spec?.template)
        let current = try await history.revision(for: ds, data: data, labels: ds.spec?.template?.metadata?.labels ?? [:],
                                                 hashLabel: ControllerRevisionHistory.podRevisionLabel, existing: revisions,
                                                 collisionCount: &collisionCount)
        let old = revisions.filter { $0.metadata?.name != current.metadata?.name }
        return (current, old, collisionCount)
    }

    /// Deletes the oldest old revisions beyond `revisionHistoryLimit` whose hash no pod
    /// (finished ones included) still carries.
    func cleanupHistory(_ ds: DaemonSet, old: [ControllerRevision], owned: [Pod]) async throws {
        let limit = Int(ds.spec?.revisionHistoryLimit ?? Int32(ControllerRevisionHistory.defaultLimit))
        guard old.count > limit else { return }
        let liveHashes = Set(owned.compactMap { $0.metadata?.labels?[ControllerRevisionHistory.podRevisionLabel] })
        let live = Set(old.filter { liveHashes.contains(Self.hash(of: $0)) }.compactMap { $0.metadata?.name })
        try await history.truncate(old, live: live, limit: limit, countingLive: true)
    }

    /// A revision's hash: its `controller-revision-hash` label, or its name when it has none.
    static func hash(of revision: ControllerRevision) -> String {
        revision.metadata?.labels?[ControllerRevisionHistory.podRevisionLabel] ?? revision.metadata?.name ?? ""
    }
}
