import Foundation
import OrcaClient

/// What the agent's sync loop does on each tick (the kubelet's sync loop and housekeeping), as
/// plain decisions: which pods to sync, when to resync all of them, which pods are orphans.
///
/// Every tick the PLEG relists containers; pods whose containers changed are synced at once, as
/// are pods with something pending (back-off, pull, a config error). Steady pods are synced
/// every `fullResyncTicks` ticks. On those full resyncs, pods this node knows (workers, adopted
/// after a restart) that the pod cache does not list are orphans, and are stopped.
///
/// The pod cache is only ever changed by a successful list or a watch event: a server that
/// cannot be reached leaves it as it was, so its pods stay listed and nothing is stopped; and the
/// orphan check runs only once the cache has synced, and counts a pod only if two listings
/// taken around the check both lack it (one added meanwhile is not an orphan).
enum PodHousekeeping {
    /// Ticks (seconds) between full resyncs.
    static let fullResyncTicks = 10

    /// One pod of the cache, as a tick sees it.
    struct Listed: Equatable, Sendable {
        var uid: String
        /// Nothing pending for it (`PodRuntimeState.isSteady`).
        var steady: Bool
    }

    /// Whether tick `tick` (counted from 1) is a full resync.
    static func isFullResync(tick: Int) -> Bool { tick % fullResyncTicks == 0 }

    /// The pods to sync on a tick: all on a full resync, else those the PLEG saw change and
    /// those with something pending.
    static func podsToSync(_ listed: [Listed], changed: Set<String>, fullResync: Bool) -> [String] {
        listed.filter { fullResync || changed.contains($0.uid) || !$0.steady }.map(\.uid)
    }

    /// The known pods to stop as orphans: none unless the cache has synced; else those missing
    /// from both the listing before and the listing after the known set was read.
    static func orphans(known: Set<String>, listed: Set<String>, relisted: Set<String>, cacheSynced: Bool) -> Set<String> {
        guard cacheSynced else { return [] }
        return known.subtracting(listed).subtracting(relisted)
    }

    /// Whether a pod's new version differs from the old one only in its status (and
    /// `resourceVersion`/`managedFields`), with its phase no more or less terminal: such a change
    /// — mostly the echo of the agent's own status write — is recorded but syncs nothing (the
    /// kubelet's RECONCILE, not UPDATE); the status manager's resync compares statuses.
    static func isStatusOnlyChange(_ old: JSONValue, _ new: JSONValue) -> Bool {
        func terminal(_ pod: JSONValue) -> Bool {
            let phase = pod[path: ["status", "phase"]]?.stringValue
            return phase == "Succeeded" || phase == "Failed"
        }
        func withoutStatus(_ pod: JSONValue) -> JSONValue {
            var p = pod
            p["status"] = nil
            p[path: ["metadata", "resourceVersion"]] = nil
            p[path: ["metadata", "managedFields"]] = nil
            return p
        }
        return terminal(old) == terminal(new) && withoutStatus(old) == withoutStatus(new)
    }
}
