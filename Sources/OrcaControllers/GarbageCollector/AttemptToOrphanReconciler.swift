import Logging
import OrcaClient

/// The garbage collector's attemptToOrphan worker (Kubernetes' `attemptToOrphanWorker`),
/// keyed by UID: an owner deleted with `propagationPolicy=Orphan` carries the `orphan`
/// finalizer; its reference is removed from every dependent, then the finalizer from the
/// owner, which completes its deletion and leaves the dependents in place. A dependent
/// that fails is retried with the owner's back-off; the finalizer stays until all succeed.
struct AttemptToOrphanReconciler: Reconciler {
    let graph: GraphBuilder
    let objects: ObjectMetadataClient
    let logger = Logger(label: "orca.controller.garbagecollector")

    func reconcile(_ uid: String) async throws -> ReconcileResult {
        guard let owner = graph.node(uid), owner.observed, owner.orphaningDependents else { return .done }
        guard let r = objects.resource(owner.identity) else { return .done }
        var firstError: (any Error)?
        for dependent in graph.dependents(of: uid) {
            guard let dr = objects.resource(dependent.identity) else { continue }
            do {
                try await objects.removeOwnerReferences(to: [uid], from: dependent.identity, dr)
            } catch {
                logger.info("orphaning \(dependent.identity) of \(owner.identity): \(error)")
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        logger.debug("\(owner.identity): dependents orphaned; removing \(GarbageCollector.orphanFinalizer)")
        try await objects.removeFinalizer(GarbageCollector.orphanFinalizer, from: owner.identity, r)
        return .done
    }
}
