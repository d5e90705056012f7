import OrcaClient

/// What the garbage collector's ownership graph records about one object (its `node`): who
/// it is, who owns it, and where its deletion stands. A node an informer has not shown yet,
/// created because a dependent names it as owner, is *virtual* (`observed == false`) until
/// an informer shows it or a live read proves it absent.
struct GraphNode: Sendable, Equatable {
    var identity: ObjectIdentity
    /// The object's `metadata.ownerReferences` (empty for a virtual node).
    var owners: [OwnerReference]
    /// Shown by an informer (false for a virtual node).
    var observed: Bool
    /// `metadata.deletionTimestamp` is set.
    var beingDeleted: Bool
    /// Being deleted with the `foregroundDeletion` finalizer: waits for its blocking dependents.
    var deletingDependents: Bool
    /// Being deleted with the `orphan` finalizer: its dependents lose their reference to it first.
    var orphaningDependents: Bool

    init(identity: ObjectIdentity, owners: [OwnerReference], observed: Bool, beingDeleted: Bool,
         deletingDependents: Bool, orphaningDependents: Bool) {
        self.identity = identity
        self.owners = owners
        self.observed = observed
        self.beingDeleted = beingDeleted
        self.deletingDependents = deletingDependents
        self.orphaningDependents = orphaningDependents
    }

    /// The node of an object an informer showed.
    init(observing object: ObservedObject) {
        let beingDeleted = object.beingDeleted
        self.init(identity: object.identity, owners: object.owners, observed: true, beingDeleted: beingDeleted,
                  deletingDependents: beingDeleted && object.finalizers.contains(GarbageCollector.foregroundDeletionFinalizer),
                  orphaningDependents: beingDeleted && object.finalizers.contains(GarbageCollector.orphanFinalizer))
    }

    /// A virtual node for an owner only known from a dependent's reference.
    static func virtual(_ identity: ObjectIdentity) -> GraphNode {
        GraphNode(identity: identity, owners: [], observed: false, beingDeleted: false,
                  deletingDependents: false, orphaningDependents: false)
    }

    /// The owner references by owner UID (the first one per UID; none to itself).
    var ownersByUID: [String: OwnerReference] {
        var out: [String: OwnerReference] = [:]
        for reference in owners {
            guard let uid = reference.uid, !uid.isEmpty, uid != identity.uid, out[uid] == nil else { continue }
            out[uid] = reference
        }
        return out
    }

    /// True when this node's reference to `ownerUID` has `blockOwnerDeletion`: the owner's
    /// foreground deletion waits for this node to go.
    func blocksDeletion(of ownerUID: String) -> Bool {
        owners.contains { $0.uid == ownerUID && $0.blockOwnerDeletion == true }
    }
}

/// What one informer event tells the ownership graph about an object: who it is, who owns
/// it, and whether it is being deleted and with which garbage-collection finalizers.
struct ObservedObject: Sendable, Equatable {
    var identity: ObjectIdentity
    var owners: [OwnerReference]
    var beingDeleted: Bool
    var finalizers: [String]

    init(identity: ObjectIdentity, owners: [OwnerReference] = [], beingDeleted: Bool = false, finalizers: [String] = []) {
        self.identity = identity
        self.owners = owners
        self.beingDeleted = beingDeleted
        self.finalizers = finalizers
    }

    /// The view of a typed object; nil when it has no UID (never stored by the API server).
    init?<Object: KubernetesObject>(_ object: Object) {
        self.init(object.metadata, apiVersion: Object.apiVersion, kind: Object.kind)
    }

    /// The view of an object of `apiVersion` and `kind` by its metadata; nil when it has no UID.
    init?(_ metadata: ObjectMeta?, apiVersion: String, kind: String) {
        guard let identity = ObjectIdentity(metadata, apiVersion: apiVersion, kind: kind) else { return nil }
        self.init(identity: identity, owners: metadata?.ownerReferences ?? [],
                  beingDeleted: metadata?.deletionTimestamp != nil, finalizers: metadata?.finalizers ?? [])
    }
}
