import OrcaClient
import OrcaControllers

/// The caches the scheduler reads besides pods and nodes: namespaces (for namespace
/// selectors), the workloads and services that give pods their default spreading, and the
/// claims and volumes of the VolumeBinding filter.
struct SchedulerListers: Sendable {
    let namespaces: SharedInformer<Namespace>
    let services: SharedInformer<Service>
    let replicationControllers: SharedInformer<ReplicationController>
    let replicaSets: SharedInformer<ReplicaSet>
    let statefulSets: SharedInformer<StatefulSet>
    let claims: SharedInformer<PersistentVolumeClaim>
    let volumes: SharedInformer<PersistentVolume>

    init(informers: SharedInformerFactory) async {
        namespaces = await informers.informer(Namespace.self)
        services = await informers.informer(Service.self)
        replicationControllers = await informers.informer(ReplicationController.self)
        replicaSets = await informers.informer(ReplicaSet.self)
        statefulSets = await informers.informer(StatefulSet.self)
        claims = await informers.informer(PersistentVolumeClaim.self)
        volumes = await informers.informer(PersistentVolume.self)
    }

    /// Waits until every cache is loaded.
    func waitForSync() async {
        await namespaces.waitForSync()
        await services.waitForSync()
        await replicationControllers.waitForSync()
        await replicaSets.waitForSync()
        await statefulSets.waitForSync()
        await claims.waitForSync()
        await volumes.waitForSync()
    }

    /// The selector the system default spread constraints use for `pod` (nil for a pod that
    /// declares constraints, or belongs to no service or workload).
    func defaultSpreadSelector(for pod: Pod) async -> LabelMatcher? {
        guard (pod.spec?.topologySpreadConstraints ?? []).isEmpty else { return nil }
        let namespace = pod.metadata?.namespace
        let services = await self.services.list(namespace: namespace)
        var rc: ReplicationController?
        var rs: ReplicaSet?
        var ss: StatefulSet?
        if let owner = DefaultSpreadSelector.controller(of: pod) {
            switch owner.kind {
            case .replicationController: rc = await replicationControllers.get(namespace: namespace, name: owner.name)
            case .replicaSet: rs = await replicaSets.get(namespace: namespace, name: owner.name)
            case .statefulSet: ss = await statefulSets.get(namespace: namespace, name: owner.name)
            }
        }
        return DefaultSpreadSelector.selector(for: pod, services: services, replicationController: rc, replicaSet: rs, statefulSet: ss)
    }

    /// The volumes bound to the pod's claims.
    func boundVolumes(of pod: Pod) async -> [PersistentVolume] {
        var result: [PersistentVolume] = []
        for key in pod.persistentVolumeClaimKeys {
            guard let name = await claims.get(key)?.spec?.volumeName, !name.isEmpty,
                  let volume = await volumes.get(name) else { continue }
            result.append(volume)
        }
        return result
    }

    /// Labels of every namespace, by name.
    func namespaceLabels() async -> [String: [String: String]] {
        var labels: [String: [String: String]] = [:]
        for namespace in await namespaces.list() {
            labels[namespace.metadata?.name ?? ""] = namespace.metadata?.labels ?? [:]
        }
        return labels
    }
}
