import Logging
import OrcaClient

/// The garbage collector's attemptToDelete worker (Kubernetes' `attemptToDeleteItem`), keyed
/// by UID. It reads the object live, then:
/// - an object that does not exist (404, or another UID under its name) leaves the graph,
///   and its dependents are checked: this is how a virtual node is verified;
/// - an owner being deleted with `foregroundDeletion` waits while a dependent blocks it
///   (`blockOwnerDeletion`), queueing those dependents for deletion, and then loses the
///   finalizer, which completes its deletion;
/// - a dependent with at least one live owner only loses its references to owners that are
///   gone or waiting for their dependents' deletion;
/// - a dependent with no live owner is deleted: in the foreground when an owner waits for
///   its dependents and it has dependents itself, otherwise as its own finalizers ask
///   (`orphan` → Orphan, `foregroundDeletion` → Foreground) or in the background.
struct AttemptToDeleteReconciler: Reconciler {
    let graph: GraphBuilder
    let objects: ObjectMetadataClient
    let logger = Logger(label: "orca.controller.garbagecollector")

    /// How long until a node only known from references is read again: its kind may have
    /// no informer here, and the live read is how its deletion is noticed.
    static let virtualNodeRecheck: Duration = .seconds(30)

    /// What an owner reference points at.
    enum OwnerState: Equatable {
        /// A live owner (or one that cannot be checked, which is left alone).
        case solid
        /// No such owner: 404, or another UID under its name.
        case dangling
        /// A live owner being deleted with `foregroundDeletion`.
        case waitingForDependentsDeletion
    }

    func reconcile(_ uid: String) async throws -> ReconcileResult {
        guard let item = graph.node(uid) else { return .done }
        // "Being deleted" is a one-way trip: its deletion event will queue its dependents.
        if item.observed, item.beingDeleted, !item.deletingDependents { return .done }
        guard let r = objects.resource(item.identity) else {
            logger.debug("\(item.identity): kind not served; left alone")
            return .done
        }
        guard let latest = try await objects.get(item.identity, r), latest.uid == uid else {
            graph.absentOwners.insert(item.identity, namespace: ObjectMetadataClient.namespace(of: item.identity, in: r))
            await graph.verifiedAbsent(item.identity)
            return .done
        }
        let again: ReconcileResult = item.observed ? .done : .requeue(after: Self.virtualNodeRecheck)
        if latest.deletionTimestamp != nil {
            if latest.finalizers?.contains(GarbageCollector.foregroundDeletionFinalizer) == true {
                try await processDeletingDependents(item, r)
            }
            return again
        }
        let references = latest.ownerReferences ?? []
        if !references.isEmpty { try await collect(item, latest, references, r) }
        return again
    }

    /// An owner in foreground deletion: finished (finalizer removed) once no dependent blocks
    /// it; until then its dependents are queued for deletion.
    func processDeletingDependents(_ item: GraphNode, _ r: ResourceType) async throws {
        let uid = item.identity.uid
        let dependents = graph.dependents(of: uid)
        if !dependents.contains(where: { $0.blocksDeletion(of: uid) }) {
            logger.debug("\(item.identity): no dependent blocks its deletion; removing \(GarbageCollector.foregroundDeletionFinalizer)")
            try await objects.removeFinalizer(GarbageCollector.foregroundDeletionFinalizer, from: item.identity, r)
            return
        }
        for dependent in dependents where !dependent.beingDeleted {
            await graph.attemptToDelete.add(dependent.identity.uid)
        }
    }

    /// A dependent: deleted when none of its owners lives, else cut loose from those that do not.
    func collect(_ item: GraphNode, _ latest: ObjectMeta, _ references: [OwnerReference], _ r: ResourceType) async throws {
        var solid: [OwnerReference] = []
        var dangling: [OwnerReference] = []
        var waiting: [OwnerReference] = []
        for reference in references {
            switch try await classify(reference, of: item.identity, observed: item.observed) {
            case .solid: solid.append(reference)
            case .dangling: dangling.append(reference)
            case .waitingForDependentsDeletion: waiting.append(reference)
            }
        }
        if !solid.isEmpty {
            let gone = Set((dangling + waiting).compactMap(\.uid))
            if gone.isEmpty { return }
            logger.debug("\(item.identity): has live owners; removing its references to \(gone.sorted())")
            try await objects.removeOwnerReferences(to: gone, from: item.identity, r)
            return
        }
        var latest = latest
        let dependents = graph.dependents(of: item.identity.uid)
        if !waiting.isEmpty, !dependents.isEmpty {
            // Its owner waits for it and it waits for its own dependents: if one of those waits
            // for it in turn, stop blocking the owners so the chain cannot deadlock.
            if dependents.contains(where: \.deletingDependents) {
                let unblocked = try await objects.updateMetadata(item.identity, r) { meta in
                    meta.ownerReferences = meta.ownerReferences?.map { reference in
                        var reference = reference
                        if reference.blockOwnerDeletion == true { reference.blockOwnerDeletion = false }
                        return reference
                    }
                }
                if let unblocked { latest = unblocked }
            }
            try await delete(item, latest, propagationPolicy: "Foreground", r)
            return
        }
        let finalizers = latest.finalizers ?? []
        let policy = finalizers.contains(GarbageCollector.orphanFinalizer) ? "Orphan"
            : finalizers.contains(GarbageCollector.foregroundDeletionFinalizer) ? "Foreground" : "Background"
        try await delete(item, latest, propagationPolicy: policy, r)
    }

    /// Where `reference` of `dependent` points: read live in the dependent's namespace (or
    /// cluster scope), unless the owner is already known absent. A live owner of an observed
    /// dependent that the graph lost track of gets a virtual node again.
    func classify(_ reference: OwnerReference, of dependent: ObjectIdentity, observed: Bool) async throws -> OwnerState {
        guard let owner = ObjectIdentity(owner: reference, dependentNamespace: dependent.namespace) else {
            logger.debug("\(dependent): owner reference without uid, kind or name; left alone")
            return .solid
        }
        guard let r = objects.resource(owner) else {
            logger.debug("\(dependent): owner kind \(owner.apiVersion)/\(owner.kind) is not served; left alone")
            return .solid
        }
        if dependent.namespace == nil, r.namespaced {
            logger.info("\(dependent): cluster-scoped object with namespaced owner \(owner); left alone")
            return .solid
        }
        let namespace = ObjectMetadataClient.namespace(of: owner, in: r)
        if graph.absentOwners.contains(owner, namespace: namespace) { return .dangling }
        guard let live = try await objects.get(owner, r), live.uid == owner.uid else {
            graph.absentOwners.insert(owner, namespace: namespace)
            return .dangling
        }
        if observed, graph.node(owner.uid) == nil { await graph.ensureNode(owner) }
        if live.deletionTimestamp != nil, live.finalizers?.contains(GarbageCollector.foregroundDeletionFinalizer) == true {
            return .waitingForDependentsDeletion
        }
        return .solid
    }

    /// Deletes the dependent, preconditioned on the UID and resourceVersion read. When only
    /// the resourceVersion moved and its owners are the same, deletes anyway (as Kubernetes
    /// does); when its owners changed, throws so the next attempt decides again.
    func delete(_ item: GraphNode, _ latest: ObjectMeta, propagationPolicy: String, _ r: ResourceType) async throws {
        logger.info("deleting \(item.identity) with propagationPolicy \(propagationPolicy): its owners are gone or being deleted")
        do {
            try await objects.delete(item.identity, r, propagationPolicy: propagationPolicy, resourceVersion: latest.resourceVersion)
        } catch let e as APIError where e.code == 409 {
            guard let now = try await objects.get(item.identity, r), now.uid == item.identity.uid else { return }
            guard (now.ownerReferences ?? []) == (latest.ownerReferences ?? []) else { throw e }
            try await objects.delete(item.identity, r, propagationPolicy: propagationPolicy, resourceVersion: nil)
        }
    }
}
