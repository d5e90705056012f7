import Foundation
import OrcaClient

/// The revision history of a workload kept as ControllerRevisions (Kubernetes'
/// `pkg/controller/history`, as the StatefulSet and DaemonSet controllers use it): each
/// distinct pod template is one revision named `<owner>-<hash>` whose `data` is the patch that
/// restores it (`{"spec":{"template":{…,"$patch":"replace"}}}`), numbered in the order the
/// templates were used. Going back to an older template renumbers its revision instead of
/// copying it; revisions beyond `revisionHistoryLimit` that nothing uses any more are deleted,
/// oldest first.
public struct ControllerRevisionHistory: Sendable {
    /// `apps/v1.ControllerRevisionHashLabelKey`: on pods, the revision they were made from
    /// (DaemonSet revisions carry it too, with their hash).
    public static let podRevisionLabel = "controller-revision-hash"
    /// `history.ControllerRevisionHashLabel`: the hash label of StatefulSet revisions.
    public static let hashLabel = "controller.kubernetes.io/hash"
    /// `revisionHistoryLimit` when a workload does not say.
    public static let defaultLimit = 10
    /// Names tried before giving up on collisions.
    static let maxCollisions = 100

    let client: any APIClient
    let revisions: SharedInformer<ControllerRevision>

    public init(client: any APIClient, revisions: SharedInformer<ControllerRevision>) {
        self.client = client
        self.revisions = revisions
    }

    // MARK: reading

    /// The revisions `owner` controls, oldest first.
    public func list<Owner: KubernetesObject>(of owner: Owner) async -> [ControllerRevision] {
        guard let uid = owner.metadata?.uid else { return [] }
        return Self.sorted(await revisions.byIndex(Indexers.controllerUID, uid))
    }

    /// Sorted by revision number, then creation time, then name (`SortControllerRevisions`).
    public static func sorted(_ revisions: [ControllerRevision]) -> [ControllerRevision] {
        revisions.sorted { a, b in
            if (a.revision ?? 0) != (b.revision ?? 0) { return (a.revision ?? 0) < (b.revision ?? 0) }
            let ta = a.metadata?.creationTimestamp ?? "", tb = b.metadata?.creationTimestamp ?? ""
            if ta != tb { return (KubernetesTime.date(ta) ?? .distantPast) < (KubernetesTime.date(tb) ?? .distantPast) }
            return (a.metadata?.name ?? "") < (b.metadata?.name ?? "")
        }
    }

    /// Adopts the orphan revisions in the owner's namespace whose labels match `selector`
    /// (`AdoptOrphanRevisions`); nothing while the owner is being deleted.
    public func adoptOrphans<Owner: KubernetesObject>(_ owner: Owner, selector: LabelMatcher) async throws {
        guard owner.metadata?.deletionTimestamp == nil, owner.metadata?.uid != nil, !selector.isEmpty else { return }
        let orphans = await revisions.list(namespace: owner.metadata?.namespace ?? "default", selector: selector)
            .filter { $0.metadata?.controllerRef == nil && $0.metadata?.deletionTimestamp == nil }
        for orphan in orphans {
            var adopted = orphan
            adopted.metadata?.ownerReferences = (orphan.metadata?.ownerReferences ?? []) + [.controller(owner)]
            do { try await client.update(adopted) } catch let e as APIError where e.isNotFound {}
        }
    }

    // MARK: data and names

    /// The patch a revision stores for `template`: `{"spec":{"template":{…,"$patch":"replace"}}}`.
    public static func templatePatch(_ template: PodTemplateSpec?) throws -> JSONValue {
        var t = try JSONValue(encoding: template ?? PodTemplateSpec())
        if t.objectValue == nil { t = [:] }
        t["$patch"] = "replace"
        return ["spec": ["template": t]]
    }

    /// The pod template `revision` restores (`ApplyRevision` of the template), or nil when its
    /// data holds none.
    public static func template(of revision: ControllerRevision) -> PodTemplateSpec? {
        guard var t = revision.data?[path: ["spec", "template"]], t.objectValue != nil else { return nil }
        t["$patch"] = nil
        return try? t.decode(PodTemplateSpec.self)
    }

    /// The hash of revision data (`HashControllerRevision`): FNV-1a 32 over the data's
    /// deterministic JSON (sorted keys), then the decimal collision count when there is one,
    /// rendered as the decimal digits of the sum mapped into the `SafeEncodeString` alphabet.
    public static func hash(_ data: JSONValue, collisionCount: Int32?) -> String {
        var bytes = data.encoded()
        if let collisionCount { bytes += Array(String(collisionCount).utf8) }
        return SafeHash.encoded(bytes)
    }

    /// `<prefix>-<hash>`, the prefix cut to 223 characters so the name fits in 253 (`ControllerRevisionName`).
    public static func name(prefix: String, hash: String) -> String {
        "\(prefix.count > 223 ? String(prefix.prefix(223)) : prefix)-\(hash)"
    }

    // MARK: writing

    /// The revision holding `data` for `owner` (`getStatefulSetRevisions`, DaemonSet's
    /// `constructHistory`): the newest of `existing` when it holds `data`; else an older equal
    /// revision, renumbered to come last (a rollback); else a new revision numbered after the
    /// newest, labeled `labels` plus `hashLabel=<hash>`. `collisionCount` grows while a new
    /// revision's name is taken by different data.
    public func revision<Owner: KubernetesObject>(for owner: Owner, data: JSONValue, labels: [String: String], hashLabel: String,
                                                 existing: [ControllerRevision], collisionCount: inout Int32) async throws -> ControllerRevision {
        let history = Self.sorted(existing)
        let next = (history.last?.revision ?? 0) + 1
        if let last = history.last, last.data == data { return last }
        if let equal = history.last(where: { $0.data == data }) {
            return try await renumber(equal, to: next)
        }
        for _ in 0..<Self.maxCollisions {
            let hash = Self.hash(data, collisionCount: collisionCount)
            var revisionLabels = labels
            revisionLabels[hashLabel] = hash
            let name = Self.name(prefix: owner.metadata?.name ?? "", hash: hash)
            let meta = ObjectMeta(annotations: owner.metadata?.annotations, labels: revisionLabels, name: name,
                                  namespace: owner.metadata?.namespace, ownerReferences: [.controller(owner)])
            do {
                return try await client.create(ControllerRevision(data: data, metadata: meta, revision: next))
            } catch let e as APIError where e.isAlreadyExists {
                let taken = try await client.get(ControllerRevision.self, namespace: owner.metadata?.namespace, name: name)
                let ours = taken.metadata?.controllerRef.map { $0.uid == owner.metadata?.uid } ?? true
                if ours, taken.data == data { return taken }
                collisionCount = collisionCount &+ 1
            }
        }
        throw OrcaError(.conflict, "no free ControllerRevision name for \(owner.metadata?.name ?? "") after \(Self.maxCollisions) hash collisions")
    }

    /// Sets the revision number of `revision` (`UpdateControllerRevision`, retried on conflicts).
    public func renumber(_ revision: ControllerRevision, to number: Int64) async throws -> ControllerRevision {
        var current = revision
        for _ in 0..<5 {
            if current.revision == number { return current }
            var updated = current
            updated.revision = number
            do {
                return try await client.update(updated)
            } catch let e as APIError where e.isConflict {
                current = try await client.get(ControllerRevision.self, namespace: revision.metadata?.namespace,
                                               name: revision.metadata?.name ?? "")
            }
        }
        throw OrcaError(.conflict, "ControllerRevision \(revision.metadata?.name ?? "") kept changing")
    }

    /// Deletes the oldest of `revisions` whose names are not `live` until at most `limit`
    /// revisions remain (`truncateHistory`); a negative limit keeps them all. Live revisions
    /// are never deleted; they count toward the limit only when `countingLive` (the
    /// DaemonSet's `cleanupHistory`), otherwise `limit` non-live ones are kept (StatefulSet).
    public func truncate(_ revisions: [ControllerRevision], live: Set<String>, limit: Int, countingLive: Bool = false) async throws {
        guard limit >= 0 else { return }
        let history = Self.sorted(revisions).filter { !live.contains($0.metadata?.name ?? "") }
        let excess = (countingLive ? revisions.count : history.count) - limit
        guard excess > 0 else { return }
        for revision in history.prefix(excess) {
            try await client.delete(ControllerRevision.self, namespace: revision.metadata?.namespace, name: revision.metadata?.name ?? "")
        }
    }
}
