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

    /// Feeds the events of `informer` (and the objects it already holds) into the graph, its
    /// objects known as `apiVersion` `kind` (a typed informer's own, or a custom resource's).
    func monitor<Object: KubernetesObject>(_ informer: SharedInformer<Object>, apiVersion: String = Object.apiVersion,
                                           kind: String = Object.kind) async {
        let observe: @Sendable (Object) -> ObservedObject? = { ObservedObject($0.metadata, apiVersion: apiVersion, kind: kind) }
        await informer.addEventHandler(InformerEventHandler(
            onAdd: { object in await self.added(observe(object)) },
            onUpdate: { old, new in await self.updated(observe(old), observe(new)) },
            onDelete: { object in await self.deleted(observe(object)) }))
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

    /// An object shown (nil: it has no uid, so it was never stored and is not in the graph).
    func added(_ object: ObservedObject?) async {
        guard let observed = object else { return }
        let actions = graph.withLock { $0.observe(observed) }
        await enqueue(actions)
    }

    func updated(_ old: ObservedObject?, _ new: ObservedObject?) async {
        // A relist can show an object replaced under the same name as an update.
        if let before = old?.identity.uid, before != new?.identity.uid { await deleted(old) }
        await added(new)
    }

    func deleted(_ object: ObservedObject?) async {
        guard let observed = object else { return }
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
