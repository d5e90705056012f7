import OrcaClient

/// The garbage collector (kube-controller-manager's `garbagecollector` controller): deletes
/// objects whose owners are gone and finishes the cascading deletes the API server starts.
///
/// The API server marks what a delete's `propagationPolicy` asks for (`Registry.delete`):
/// - `Background`: the owner is deleted at once; its dependents, whose owners are now all
///   gone, are deleted here afterwards;
/// - `Foreground`: the owner gets a `deletionTimestamp` and the `foregroundDeletion`
///   finalizer; its dependents are deleted here, and once none with `blockOwnerDeletion`
///   is left the finalizer is removed, which completes the owner's deletion;
/// - `Orphan`: the owner gets the `orphan` finalizer; its reference is removed from every
///   dependent, then the finalizer.
///
/// An ownership graph (`GraphBuilder`) is kept from the informers of every kind that is
/// commonly an owner or a dependent, and of every custom resource (`CustomResourceMonitors`);
/// an owner referenced but not seen is a virtual node,
/// verified by a live read. Objects whose owners vanished while the collector was not
/// running are found that way at start.
public struct GarbageCollector: Sendable {
    /// The finalizer of a foreground deletion (`metav1.FinalizerDeleteDependents`).
    public static let foregroundDeletionFinalizer = "foregroundDeletion"
    /// The finalizer of an orphaning deletion (`metav1.FinalizerOrphanDependents`).
    public static let orphanFinalizer = "orphan"

    /// Builds the garbage collector on `informers`: the attemptToDelete controller and the
    /// attemptToOrphan controller, sharing one ownership graph. Both start work once every
    /// watched informer has synced, so the graph holds every object before anything is judged.
    public static func controllers(client: any APIClient, informers: SharedInformerFactory,
                                   clock: any WallClock = SystemClock()) async -> [any Runnable] {
        let attemptToDelete = RateLimitingQueue(clock: clock)
        let attemptToOrphan = RateLimitingQueue(clock: clock)
        let graph = GraphBuilder(attemptToDelete: attemptToDelete, attemptToOrphan: attemptToOrphan,
                                 absentOwners: AbsentOwnerCache())
        let synced = await monitorWatchedKinds(informers, graph)
        let objects = ObjectMetadataClient(client: client)
        let deleter = Controller(name: "garbagecollector", queue: attemptToDelete,
                                 reconciler: AttemptToDeleteReconciler(graph: graph, objects: objects),
                                 workers: 5, waitForSync: synced)
        let orphaner = Controller(name: "garbagecollector-orphan", queue: attemptToOrphan,
                                  reconciler: AttemptToOrphanReconciler(graph: graph, objects: objects),
                                  workers: 2, waitForSync: synced)
        let customResources = await CustomResourceMonitors.make(client: client, informers: informers, graph: graph, clock: clock)
        return [deleter, orphaner, customResources]
    }

    /// Feeds the informer of every watched kind into the graph; returns their sync waits.
    /// The kinds Orca's controllers own and create, their owners, and the kinds users
    /// commonly put ownerReferences on.
    static func monitorWatchedKinds(_ informers: SharedInformerFactory, _ graph: GraphBuilder) async -> [@Sendable () async -> Void] {
        [
            await monitor(Pod.self, informers, graph),
            await monitor(ReplicaSet.self, informers, graph),
            await monitor(Deployment.self, informers, graph),
            await monitor(StatefulSet.self, informers, graph),
            await monitor(DaemonSet.self, informers, graph),
            await monitor(Job.self, informers, graph),
            await monitor(CronJob.self, informers, graph),
            await monitor(ControllerRevision.self, informers, graph),
            await monitor(ReplicationController.self, informers, graph),
            await monitor(PersistentVolumeClaim.self, informers, graph),
            await monitor(ConfigMap.self, informers, graph),
            await monitor(Secret.self, informers, graph),
            await monitor(Service.self, informers, graph),
            await monitor(EndpointSlice.self, informers, graph),
            await monitor(Node.self, informers, graph),
            await monitor(Endpoints.self, informers, graph),
            await monitor(ServiceAccount.self, informers, graph),
            await monitor(Role.self, informers, graph),
            await monitor(RoleBinding.self, informers, graph),
            await monitor(PodDisruptionBudget.self, informers, graph),
            await monitor(PodTemplate.self, informers, graph),
        ]
    }

    /// Feeds `type`'s shared informer into the graph; returns the wait for its first list.
    static func monitor<Object: KubernetesObject>(_ type: Object.Type, _ informers: SharedInformerFactory,
                                                  _ graph: GraphBuilder) async -> @Sendable () async -> Void {
        let informer = await informers.informer(type)
        await graph.monitor(informer)
        return { await informer.waitForSync() }
    }
}
