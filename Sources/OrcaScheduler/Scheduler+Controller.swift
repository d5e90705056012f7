import OrcaClient
import OrcaControllers

extension Scheduler {
    /// Builds the scheduler's controller on `informers`. `random` breaks ties between equally
    /// scored nodes (seed it for repeatable placement).
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock(),
                                  random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()) async -> Controller<Scheduler> {
        let pods = await informers.informer(Pod.self)
        let nodes = await informers.informer(Node.self)
        let listers = await SchedulerListers(informers: informers)
        let recorder = EventRecorder(client: client, component: name, clock: { clock.now })
        let volumeBinding = await PodVolumeBinding(informers: informers)
        let scheduler = Scheduler(client: client, pods: pods, nodes: nodes, listers: listers, clock: clock, recorder: recorder,
                                  volumeBinding: volumeBinding, selection: HostSelection(random: random))
        let queue = RateLimitingQueue(clock: clock)
        await scheduler.addEventHandlers(queue: queue)
        return Controller(name: "scheduler", queue: queue, reconciler: scheduler, workers: 1,
                          waitForSync: [{ await pods.waitForSync() }, { await nodes.waitForSync() },
                                        { await listers.waitForSync() }, { await volumeBinding.waitForSync() }])
    }

    /// Queues unscheduled pods as they come and change, and moves parked pods back when a
    /// change may help them (kube-scheduler's cluster events):
    /// - a node added, or changed in labels, taints, conditions, allocatable or
    ///   schedulability; a pod deleted or finished (room, ports, spreading freed): all;
    /// - a pod bound, or a bound pod relabeled: those rejected by InterPodAffinity or
    ///   PodTopologySpread;
    /// - a claim or volume added or changed: those rejected by VolumeBinding;
    /// - a namespace relabeled: those rejected by InterPodAffinity.
    func addEventHandlers(queue: RateLimitingQueue) async {
        let assumed = self.assumed
        let cache = self.cache
        let unschedulable = self.unschedulable
        @Sendable func requeue(_ keys: [String]) async {
            for key in keys { await queue.add(key) }
        }
        let podTopology: Set<String> = [InterPodAffinity.name, PodTopologySpread.name]
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { pod in
                if Scheduler.isUnscheduled(pod) {
                    await queue.add(SharedInformer<Pod>.key(pod))
                } else {
                    assumed.forget(pod)
                    unschedulable.remove(SharedInformer<Pod>.key(pod))
                    if !(pod.spec?.nodeName ?? "").isEmpty { await requeue(unschedulable.take(rejectedBy: podTopology)) }
                }
            },
            onUpdate: { old, pod in
                if Scheduler.isUnscheduled(pod) {
                    if old == pod || Scheduler.schedulingRelevantChange(old, pod) { await queue.add(SharedInformer<Pod>.key(pod)) }
                    return
                }
                assumed.forget(pod)
                unschedulable.remove(SharedInformer<Pod>.key(pod))
                // Deleted before it was bound, or another scheduler's: nothing freed or taken.
                guard !(pod.spec?.nodeName ?? "").isEmpty else { return }
                let wasBound = !(old.spec?.nodeName ?? "").isEmpty
                if wasBound, !Scheduler.isTerminal(old), Scheduler.isTerminal(pod) {
                    await requeue(unschedulable.takeAll())
                } else if !wasBound || old.metadata?.labels != pod.metadata?.labels
                            || (old.metadata?.deletionTimestamp == nil && pod.metadata?.deletionTimestamp != nil) {
                    await requeue(unschedulable.take(rejectedBy: podTopology))
                }
            },
            onDelete: { pod in
                assumed.forget(pod)
                cache.forget(pod)
                unschedulable.remove(SharedInformer<Pod>.key(pod))
                // Freed room: every waiting pod may fit now.
                if !(pod.spec?.nodeName ?? "").isEmpty { await requeue(unschedulable.takeAll()) }
            }))
        await nodes.addEventHandler(InformerEventHandler(
            onAdd: { _ in await requeue(unschedulable.takeAll()) },
            onUpdate: { old, node in
                if old == node || Scheduler.nodeChangeMayHelp(old, node) { await requeue(unschedulable.takeAll()) }
            },
            onDelete: { node in cache.forget(node) }))
        let volumeEvent: @Sendable () async -> Void = { await requeue(unschedulable.take(rejectedBy: [VolumeBinding.name])) }
        await listers.claims.addEventHandler(InformerEventHandler(
            onAdd: { _ in await volumeEvent() }, onUpdate: { _, _ in await volumeEvent() }))
        await listers.volumes.addEventHandler(InformerEventHandler(
            onAdd: { _ in await volumeEvent() }, onUpdate: { _, _ in await volumeEvent() }))
        await listers.namespaces.addEventHandler(InformerEventHandler(
            onAdd: { _ in await requeue(unschedulable.take(rejectedBy: [InterPodAffinity.name])) },
            onUpdate: { old, namespace in
                if old.metadata?.labels != namespace.metadata?.labels {
                    await requeue(unschedulable.take(rejectedBy: [InterPodAffinity.name]))
                }
            }))
    }

    /// Whether an update of an unscheduled pod may change where it fits: anything but its
    /// status and bookkeeping metadata (`isPodUpdated`), so the scheduler's own status writes
    /// do not queue the pod again.
    static func schedulingRelevantChange(_ old: Pod, _ new: Pod) -> Bool {
        func strip(_ pod: Pod) -> Pod {
            var p = pod
            p.status = nil
            p.metadata?.resourceVersion = nil
            p.metadata?.generation = nil
            p.metadata?.managedFields = nil
            p.metadata?.finalizers = nil
            return p
        }
        return strip(old) != strip(new)
    }

    /// Whether a node update may let a waiting pod fit: a change of labels, allocatable, or
    /// the taints it carries or derives from its conditions and `spec.unschedulable` (not a
    /// heartbeat).
    static func nodeChangeMayHelp(_ old: Node, _ new: Node) -> Bool {
        old.metadata?.labels != new.metadata?.labels || old.status?.allocatable != new.status?.allocatable
            || NodeInfo.effectiveTaints(old) != NodeInfo.effectiveTaints(new)
    }
}
