import Foundation
import OrcaClient

/// The annotations a deployment and its replica sets carry (`deploymentutil`): the rollout
/// revision and its history, the desired and maximum replicas a replica set was sized for,
/// and which of the deployment's own annotations are copied onto its new replica set.
public enum DeploymentAnnotations {
    /// The rollout sequence number of a replica set, mirrored on its deployment.
    public static let revision = "deployment.kubernetes.io/revision"
    /// Earlier revisions a replica set served (set when an old template comes back).
    public static let revisionHistory = "deployment.kubernetes.io/revision-history"
    /// `spec.replicas` of the deployment when the replica set was last sized.
    public static let desiredReplicas = "deployment.kubernetes.io/desired-replicas"
    /// `spec.replicas + maxSurge` of the deployment when the replica set was last sized.
    public static let maxReplicas = "deployment.kubernetes.io/max-replicas"
    /// kubectl's client-side apply record; never copied to replica sets.
    public static let lastAppliedConfiguration = "kubectl.kubernetes.io/last-applied-configuration"
    /// The extensions/v1beta1 rollback request, round-tripped as an annotation.
    public static let deprecatedRollbackTo = "deprecated.deployment.rollback.to"
    /// The revision history is trimmed (oldest first) to this many characters.
    static let maxRevisionHistoryLength = 2000

    /// Whether a deployment annotation stays off its replica sets (`skipCopyAnnotation`).
    static func skipsCopy(_ key: String) -> Bool {
        key == lastAppliedConfiguration || key == deprecatedRollbackTo || key.hasPrefix("deployment.kubernetes.io/")
    }

    // MARK: reading

    /// The revision of an object (`deploymentutil.Revision`): 0 without the annotation, nil
    /// when it is not an integer.
    public static func revisionNumber(_ meta: ObjectMeta?) -> Int64? {
        guard let text = meta?.annotations?[revision] else { return 0 }
        return Int64(text)
    }

    /// The highest revision among `sets`, skipping unparsable ones (`MaxRevision`).
    public static func maxRevision(_ sets: [ReplicaSet]) -> Int64 {
        sets.reduce(Int64(0)) { max($0, revisionNumber($1.metadata) ?? 0) }
    }

    /// The desired-replicas annotation as a number, if present and numeric.
    public static func desiredReplicasValue(_ rs: ReplicaSet) -> Int32? { int32(rs, desiredReplicas) }

    /// The max-replicas annotation as a number, if present and numeric.
    public static func maxReplicasValue(_ rs: ReplicaSet) -> Int32? { int32(rs, maxReplicas) }

    /// `getIntFromAnnotation`: `strconv.Atoi` then a cast to int32.
    static func int32(_ rs: ReplicaSet, _ key: String) -> Int32? {
        guard let text = rs.metadata?.annotations?[key], let value = Int(text) else { return nil }
        return Int32(truncatingIfNeeded: value)
    }

    // MARK: writing

    /// Copies the deployment's annotations (but the skipped ones) onto `rs`; true if any changed.
    static func copyDeploymentAnnotations(_ d: Deployment, to rs: inout ReplicaSet) -> Bool {
        var annotations = rs.metadata?.annotations ?? [:]
        var changed = false
        for (key, value) in d.metadata?.annotations ?? [:] where !skipsCopy(key) && annotations[key] != value {
            annotations[key] = value
            changed = true
        }
        if changed { setAnnotations(&rs, annotations) }
        return changed
    }

    /// `SetNewReplicaSetAnnotations`: copies the deployment's annotations, raises the revision
    /// to `newRevision` (recording the one it replaces in the revision history, as when
    /// `kubectl rollout undo` brings an old template back), and for a replica set about to be
    /// created sets the replicas annotations. True if any annotation changed.
    @discardableResult
    static func setNewReplicaSetAnnotations(_ d: Deployment, _ rs: inout ReplicaSet, newRevision: String, exists: Bool) -> Bool {
        var changed = copyDeploymentAnnotations(d, to: &rs)
        var annotations = rs.metadata?.annotations ?? [:]
        let oldRevision = annotations[revision]
        let oldNumber: Int64
        if let oldRevision, !oldRevision.isEmpty {
            guard let n = Int64(oldRevision) else { return false }
            oldNumber = n
        } else {
            oldNumber = 0
        }
        guard let newNumber = Int64(newRevision) else { return false }
        if oldNumber < newNumber {
            annotations[revision] = newRevision
            changed = true
            if let oldRevision {
                annotations[revisionHistory] = appendedHistory(annotations[revisionHistory] ?? "", oldRevision) ?? annotations[revisionHistory]
            }
        }
        setAnnotations(&rs, annotations)
        if !exists {
            let desired = RolloutMath.desiredReplicas(d)
            if setReplicasAnnotations(&rs, desired: desired, max: desired &+ RolloutMath.maxSurge(d)) { changed = true }
        }
        return changed
    }

    /// `history` with `revision` appended, the oldest entries dropped to stay within
    /// `maxRevisionHistoryLength`; nil when even that does not fit.
    static func appendedHistory(_ history: String, _ revision: String) -> String? {
        var entries = history.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if entries.first?.isEmpty ?? true { return revision }
        var totalLength = history.count + revision.count + 1
        var start = 0
        while totalLength > maxRevisionHistoryLength && start < entries.count {
            totalLength -= entries[start].count + 1
            start += 1
        }
        guard totalLength <= maxRevisionHistoryLength else { return nil }
        entries = Array(entries[start...]) + [revision]
        return entries.joined(separator: ",")
    }

    /// Sets the desired/max replicas annotations; true if either changed (`SetReplicasAnnotations`).
    @discardableResult
    static func setReplicasAnnotations(_ rs: inout ReplicaSet, desired: Int32, max: Int32) -> Bool {
        guard replicasAnnotationsNeedUpdate(rs, desired: desired, max: max) else { return false }
        var annotations = rs.metadata?.annotations ?? [:]
        annotations[desiredReplicas] = String(desired)
        annotations[maxReplicas] = String(max)
        setAnnotations(&rs, annotations)
        return true
    }

    /// Whether the desired/max replicas annotations differ from these values.
    static func replicasAnnotationsNeedUpdate(_ rs: ReplicaSet, desired: Int32, max: Int32) -> Bool {
        let annotations = rs.metadata?.annotations ?? [:]
        return annotations[desiredReplicas] != String(desired) || annotations[maxReplicas] != String(max)
    }

    /// Sets the deployment's revision annotation; true if it changed (`SetDeploymentRevision`).
    static func setDeploymentRevision(_ d: inout Deployment, _ value: String) -> Bool {
        guard d.metadata?.annotations?[revision] != value else { return false }
        if d.metadata == nil { d.metadata = ObjectMeta() }
        var annotations = d.metadata?.annotations ?? [:]
        annotations[revision] = value
        d.metadata?.annotations = annotations
        return true
    }

    static func setAnnotations(_ rs: inout ReplicaSet, _ annotations: [String: String]) {
        if rs.metadata == nil { rs.metadata = ObjectMeta() }
        rs.metadata?.annotations = annotations
    }
}
