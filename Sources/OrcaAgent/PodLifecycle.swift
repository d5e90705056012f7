import Foundation
import OrcaClient

/// The lifecycle of one pod on this node (the kubelet's pod sync status), as a sans-IO machine:
/// the pod worker feeds it what it learns — a new version of the pod, the pod's removal from the
/// API, a step that finished — and runs the steps it returns, one at a time.
///
/// Phases only move forward: syncing → terminating → terminated → cleaned up. A pod that
/// terminates is never synced again (its containers are not started back up); a completed pod
/// (Succeeded or Failed) keeps its stopped containers, logs and sandbox until it is deleted; a
/// deleted pod is cleaned up and its API deletion finished; once the API object is gone the
/// worker is forgotten. Updates that arrive while a step runs are coalesced: one more sync
/// follows, with the newest version of the pod (latest wins).
struct PodLifecycle: Equatable, Sendable {
    /// Why a pod terminates; a stronger reason replaces a weaker one, never the reverse.
    enum Reason: Int, Comparable, Sendable {
        /// Its containers are done for good (phase Succeeded or Failed): they stop, and what
        /// they leave stays until the pod is deleted.
        case completed
        /// The API asked for it (`deletionTimestamp`): stop, clean up, finish the deletion.
        case deleted
        /// The API object is gone (force-deleted, or never listed again): stop and clean up.
        case removed

        static func < (a: Reason, b: Reason) -> Bool { a.rawValue < b.rawValue }
    }

    /// How a pod terminates: why, and how long its containers get to stop.
    struct Termination: Equatable, Sendable {
        var reason: Reason
        var gracePeriod: Int
    }

    enum Phase: Equatable, Sendable {
        /// Brought toward its spec by syncs.
        case syncing
        /// Its containers are being stopped (one kill step).
        case terminating(Termination)
        /// Its containers are stopped; its sandbox, volumes and logs remain.
        case terminated(Termination)
        /// Nothing of it is left on the node.
        case cleanedUp(Termination)
    }

    /// What a version of the pod says about its lifecycle (see `Facts.init(pod:)`).
    struct Facts: Equatable, Sendable {
        /// The grace period of a requested deletion; nil when none was requested.
        var deletionGracePeriod: Int?
        /// Whether the API already has the pod in phase Succeeded or Failed.
        var terminalPhase = false
        /// `spec.terminationGracePeriodSeconds` (30 when unset).
        var terminationGracePeriod = 30
    }

    enum Event: Equatable, Sendable {
        /// A version of the pod from the API, or a request to sync it again (a container or a
        /// probe result changed, or the periodic resync).
        case updated(Facts)
        /// The API object is gone; its containers get at most `gracePeriod` seconds.
        case removed(gracePeriod: Int)
        /// A sync finished; `terminal`: the pod's status is Succeeded or Failed now.
        case synced(terminal: Bool)
        /// The kill step finished: no container of the pod runs.
        case killed
        /// The clean-up step finished: nothing of the pod is left on the node.
        case cleanedUp
    }

    enum Action: Equatable, Sendable {
        /// Bring the pod toward its spec (a step).
        case sync
        /// Stop the pod's containers (a step).
        case kill(Termination)
        /// Remove the pod's containers, network, volumes, directories and logs (a step).
        case cleanUp(Termination)
        /// Delete the API object for good (grace period 0): the status manager's write.
        case finishDeletion
        /// Drop the pod's worker and everything cached about it.
        case forget
    }

    private(set) var phase: Phase = .syncing
    /// The step running now, if any: a step's event must come before the next step starts.
    private(set) var running: Action?
    /// A sync is owed: an update came while syncing (or a step ran).
    private(set) var syncPending = false
    /// Whether `forget` was returned: nothing follows.
    private(set) var forgotten = false
    /// The pod's own grace period, for when it completes.
    private var terminationGracePeriod = 30

    /// Takes in an event and returns what to do now, in order.
    mutating func event(_ event: Event) -> [Action] {
        guard !forgotten else { return [] }
        switch event {
        case .updated(let facts):
            terminationGracePeriod = facts.terminationGracePeriod
            if let grace = facts.deletionGracePeriod {
                terminate(Termination(reason: .deleted, gracePeriod: grace))
            } else if facts.terminalPhase {
                terminate(Termination(reason: .completed, gracePeriod: facts.terminationGracePeriod))
            }
            syncPending = true
            return dispatch()
        case .removed(let grace):
            terminate(Termination(reason: .removed, gracePeriod: grace))
            return dispatch()
        case .synced(let terminal):
            guard running == .sync else { return [] }
            running = nil
            if terminal { terminate(Termination(reason: .completed, gracePeriod: terminationGracePeriod)) }
            return dispatch()
        case .killed:
            guard case .kill = running, case .terminating(let t) = phase else { return [] }
            running = nil
            phase = .terminated(t)
            return dispatch()
        case .cleanedUp:
            guard case .cleanUp = running, case .terminated(let t) = phase else { return [] }
            running = nil
            phase = .cleanedUp(t)
            return (t.reason == .deleted ? [.finishDeletion] : []) + dispatch()
        }
    }

    /// Moves to terminating (from syncing), or makes a termination under way stronger: a stronger
    /// reason replaces a weaker one, and the grace period only shrinks (by a reason at least as
    /// strong: a pod deleted with a long grace period keeps it when it also completes).
    private mutating func terminate(_ new: Termination) {
        func merged(_ old: Termination) -> Termination {
            Termination(reason: max(old.reason, new.reason),
                        gracePeriod: new.reason >= old.reason ? min(old.gracePeriod, new.gracePeriod) : old.gracePeriod)
        }
        switch phase {
        case .syncing: phase = .terminating(new)
        case .terminating(let old): phase = .terminating(merged(old))
        case .terminated(let old): phase = .terminated(merged(old))
        case .cleanedUp(let old): phase = .cleanedUp(merged(old))
        }
    }

    /// The next step for the phase, unless one runs.
    private mutating func dispatch() -> [Action] {
        guard running == nil else { return [] }
        let next: Action?
        switch phase {
        case .syncing:
            next = syncPending ? .sync : nil
        case .terminating(let t):
            next = .kill(t)
        case .terminated(let t):
            // A completed pod rests here until it is deleted.
            next = t.reason == .completed ? nil : .cleanUp(t)
        case .cleanedUp(let t):
            guard t.reason == .removed else { return [] }
            forgotten = true
            return [.forget]
        }
        syncPending = false
        running = next
        return next.map { [$0] } ?? []
    }
}

extension PodLifecycle.Facts {
    /// What a version of the pod says: a requested deletion and its grace period (the
    /// deletion's, else the spec's, else 30 s), a terminal phase, the spec's grace period.
    init(pod: JSONValue) {
        let spec = pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue.map { Int(clamping: $0) } ?? 30
        terminationGracePeriod = max(0, spec)
        if let ts = pod[path: ["metadata", "deletionTimestamp"]], !ts.isNull {
            let grace = pod[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue.map { Int(clamping: $0) } ?? spec
            deletionGracePeriod = max(0, grace)
        }
        let phase = pod[path: ["status", "phase"]]?.stringValue
        terminalPhase = phase == "Succeeded" || phase == "Failed"
    }

    /// The grace period of a pod gone from the API: at most 1 s (the kubelet's for orphans), or
    /// its deletion's if shorter (a force deletion gives 0).
    static func removalGracePeriod(_ pod: JSONValue?) -> Int {
        let grace = pod?[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue.map { Int(clamping: $0) } ?? 1
        return max(0, min(grace, 1))
    }
}
