import OrcaClient

/// What a reconcile asks of the queue afterwards.
public enum ReconcileResult: Sendable, Equatable {
    /// Done until something changes.
    case done
    /// Look again after this long (a deadline, a schedule, a minReadySeconds wait).
    case requeue(after: Duration)
}

/// Level-triggered logic for one kind: read the caches for `key`, act toward the desired
/// state, return. Throwing re-queues the key with back-off; a key is never reconciled twice
/// at once.
public protocol Reconciler: Sendable {
    /// Reconciles the object `key` (`namespace/name` or `name`).
    func reconcile(_ key: String) async throws -> ReconcileResult
}

/// Something the controller manager runs while it leads: a controller, or a loop of its own.
public protocol Runnable: Sendable {
    /// Runs until cancelled.
    func run() async
}
