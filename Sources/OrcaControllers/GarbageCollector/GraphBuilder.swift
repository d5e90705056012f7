import Logging
import OrcaClient
import Synchronization

/// Keeps the garbage collector's `OwnershipGraph` from the informer events of every watched
/// kind (kube-controller-manager's GraphBuilder) and puts the UIDs the graph asks for on the
/// attemptToDelete and attemptToOrphan queues. Events of all kinds go through one lock, so
/// the graph sees them one at a time; the queues are fed after the lock is released.
final class GraphBuilder: Sendable {
    let attemptToDelete: RateLimitingQueue
    let attemptToOrphan: RateLimitingQueue
    let absentOwners: AbsentOwnerCache
    private let graph = Mutex(OwnershipGraph())
    let logger = Logger(label: "orca.controller.garbagecollector")

    init(attemptToDelete: RateLimitingQueue, attemptToOrphan: RateLimitingQueue, absentOwners: AbsentOwnerCache) {
        self.attemptToDelete = attemptToDelete
        self.attemptToOrphan = attemptToOrphan
        self.absentOwners = absentOwners
    }

    /// Feeds the events of `informer` (and the objects it already holds) into the graph.
    func monitor<Object: KubernetesObject>(_ informer: SharedInformer<Object>) async {
        await informer.addEventHandler(InformerEventHandler(
            onAdd: { object in await self.added(object) },
            onUpdate: { old, new in await self.updated(old, new) },
            onDelete: { object in await self.deleted(object) }))
    }

    // MARK: reading (for the workers)

    /// A snapshot of the node of `uid`.
    func node(_ uid: String) -> GraphNode? {
        graph.withLock { $0.node(uid) }
    }

    /// Snapshots of the observed objects that reference `uid` as an owner.
    func dependents(of uid: String) -> [GraphNode] {
        graph.withLock { $0.dependents(of: uid) }
    }

    // MARK: events

    func added<Object: KubernetesObject>(_ object: Object) async {
        guard let observed = ObservedObject(object) else {
            logger.debug("\(Object.kind) \(ObjectKey(object)) has no uid; not in the ownership graph")
            return
        }
        let actions = graph.withLock { $0.observe(observed) }
        await enqueue(actions)
    }

    func updated<Object: KubernetesObject>(_ old: Object, _ new: Object) async {
        // A relist can show an object replaced under the same name as an update.
        if let before = old.metadata?.uid, before != new.metadata?.uid { await deleted(old) }
        await added(new)
    }

    func deleted<Object: KubernetesObject>(_ object: Object) async {
        guard let observed = ObservedObject(object) else { return }
        absentOwners.insert(observed.identity, namespace: observed.identity.namespace)
        let actions = graph.withLock { $0.observeDeletion(observed) }
        await enqueue(actions)
    }

    /// A live read found no object for `identity`: the Kubernetes "virtual delete event".
    func verifiedAbsent(_ identity: ObjectIdentity) async {
        logger.debug("\(identity) does not exist; removing it from the ownership graph")
        let actions = graph.withLock { $0.verifiedAbsent(identity) }
        await enqueue(actions)
    }

    /// A live owner the graph lost track of gets a virtual node again.
    func ensureNode(_ identity: ObjectIdentity) async {
        let actions = graph.withLock { $0.ensureNode(identity) }
        await enqueue(actions)
    }

    private func enqueue(_ actions: OwnershipGraph.Actions) async {
        for uid in actions.attemptToDelete { await attemptToDelete.add(uid) }
        for uid in actions.attemptToOrphan { await attemptToOrphan.add(uid) }
    }
}
