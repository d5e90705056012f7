import OrcaClient
import OrcaCore

/// The garbage collector's ownership graph (GraphBuilder's `uidToNode` and dependents lists)
/// as a sans-IO value: informer events go in, and the UIDs to put on the attemptToDelete and
/// attemptToOrphan queues come out.
///
/// Edges belong to dependents: `dependentUIDs[owner]` holds every observed object whose
/// ownerReferences name `owner`, whether or not the owner has a node. So an owner that goes
/// away and is seen again (or a virtual node that is dropped and made again) keeps its
/// dependents, and an owner's dependents are known before the owner's informer shows it.
struct OwnershipGraph: Sendable {
    /// The work an event produced.
    struct Actions: Sendable, Equatable {
        /// UIDs for attemptToDelete (dependents to check, owners waiting for dependents, virtual nodes to verify).
        var attemptToDelete: [String] = []
        /// UIDs for attemptToOrphan (owners being deleted with the `orphan` finalizer).
        var attemptToOrphan: [String] = []
    }

    private(set) var nodes: [String: GraphNode] = [:]
    /// owner UID → the UIDs of observed objects that reference it.
    private(set) var dependentUIDs: [String: Set<String>] = [:]

    init() {}

    /// The node of `uid`, observed or virtual.
    func node(_ uid: String) -> GraphNode? { nodes[uid] }

    /// The observed objects that reference `uid` as an owner.
    func dependents(of uid: String) -> [GraphNode] {
        (dependentUIDs[uid] ?? []).sorted().compactMap { nodes[$0] }
    }

    // MARK: events

    /// An informer showed `object` (added or changed): records it, links it to its owners
    /// (making virtual nodes for owners not seen yet), and reacts to the transitions of the
    /// Kubernetes `processTransitions`: the start of an orphaning or a foreground deletion.
    mutating func observe(_ object: ObservedObject) -> Actions {
        var actions = Actions()
        let uid = object.identity.uid
        let before = nodes[uid].flatMap { $0.observed ? $0 : nil }
        let node = GraphNode(observing: object)
        nodes[uid] = node

        let old = before?.ownersByUID ?? [:]
        let new = node.ownersByUID
        for (ownerUID, reference) in old.sorted(by: { $0.key < $1.key }) {
            let now = new[ownerUID]
            if now == nil { unlink(uid, from: ownerUID) }
            // A reference that stopped blocking may let a foreground deletion finish.
            if reference.blockOwnerDeletion == true, now?.blockOwnerDeletion != true,
               nodes[ownerUID]?.deletingDependents == true {
                actions.attemptToDelete.append(ownerUID)
            }
        }
        for (ownerUID, reference) in new.sorted(by: { $0.key < $1.key }) where old[ownerUID] == nil {
            dependentUIDs[ownerUID, default: []].insert(uid)
            if let owner = nodes[ownerUID] {
                // A dependent that appears under an owner already waiting for its dependents goes too.
                if owner.deletingDependents { actions.attemptToDelete.append(uid) }
            } else if let identity = ObjectIdentity(owner: reference, dependentNamespace: object.identity.namespace) {
                nodes[ownerUID] = .virtual(identity)
                actions.attemptToDelete.append(ownerUID)
            }
        }

        if node.orphaningDependents, before?.orphaningDependents != true {
            actions.attemptToOrphan.append(uid)
        } else if node.deletingDependents, before?.deletingDependents != true {
            actions.attemptToDelete += (dependentUIDs[uid] ?? []).sorted()
            actions.attemptToDelete.append(uid)
        }
        return actions
    }

    /// An informer showed the deletion of `object`.
    mutating func observeDeletion(_ object: ObservedObject) -> Actions {
        remove(object.identity.uid)
    }

    /// A live read found no object for `identity` (404, or another UID under its name): its
    /// node goes as if deleted, unless the node changed meanwhile (an informer showed it).
    mutating func verifiedAbsent(_ identity: ObjectIdentity) -> Actions {
        guard let node = nodes[identity.uid], node.identity == identity else { return Actions() }
        return remove(identity.uid)
    }

    /// A live owner the graph has no node for (a virtual node dropped under other coordinates):
    /// gets a virtual node again, so that it is watched for going away.
    mutating func ensureNode(_ identity: ObjectIdentity) -> Actions {
        guard nodes[identity.uid] == nil else { return Actions() }
        nodes[identity.uid] = .virtual(identity)
        return Actions(attemptToDelete: [identity.uid])
    }

    // MARK: private

    /// Drops `uid`'s node: its dependents are checked (their owner is gone), and owners waiting
    /// for their dependents' deletion are looked at again.
    private mutating func remove(_ uid: String) -> Actions {
        var actions = Actions()
        guard let node = nodes.removeValue(forKey: uid) else { return actions }
        defer { nodes.shrinkIfSparse(); dependentUIDs.shrinkIfSparse() }
        for ownerUID in node.ownersByUID.keys.sorted() {
            unlink(uid, from: ownerUID)
            if nodes[ownerUID]?.deletingDependents == true { actions.attemptToDelete.append(ownerUID) }
        }
        actions.attemptToDelete += (dependentUIDs[uid] ?? []).sorted()
        return actions
    }

    /// Removes the edge `dependent` → `owner`; a virtual owner left without dependents goes.
    private mutating func unlink(_ dependent: String, from owner: String) {
        dependentUIDs[owner]?.remove(dependent)
        guard dependentUIDs[owner]?.isEmpty ?? true else { return }
        dependentUIDs[owner] = nil
        if nodes[owner]?.observed == false { nodes[owner] = nil }
    }
}
