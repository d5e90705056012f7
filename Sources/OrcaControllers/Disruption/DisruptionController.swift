import Foundation
import Logging
import OrcaClient

/// Keeps the status of every PodDisruptionBudget (kube-controller-manager's disruption
/// controller): how many of the pods its selector picks are expected (from their
/// controllers' scale), how many must stay healthy, how many are healthy now, and so how
/// many disruptions the eviction subresource may allow. Evictions the API server approved
/// (`status.disruptedPods`) count as gone for two minutes; an entry whose pod was not
/// deleted by then is dropped. It also resets stale `DisruptionTarget` conditions of pods
/// an eviction marked but did not delete.
public struct DisruptionController: Reconciler {
    /// How long after an approved eviction the pod is expected to be seen deleted (`DeletionTimeout`).
    public static let deletionTimeout: TimeInterval = 2 * 60
    /// The component name in events.
    static let component = "controllermanager"

    let client: any APIClient
    let budgets: SharedInformer<PodDisruptionBudget>
    let pods: SharedInformer<Pod>
    let replicaSets: SharedInformer<ReplicaSet>
    let replicationControllers: SharedInformer<ReplicationController>
    let deployments: SharedInformer<Deployment>
    let statefulSets: SharedInformer<StatefulSet>
    let clock: any WallClock
    let recorder: EventRecorder
    let logger = Logger(label: "orca.controller.disruption")

    /// Builds the disruption controller on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory,
                                  clock: any WallClock = SystemClock()) async -> Controller<DisruptionController> {
        let budgets = await informers.informer(PodDisruptionBudget.self)
        let pods = await informers.informer(Pod.self)
        let replicaSets = await informers.informer(ReplicaSet.self)
        let replicationControllers = await informers.informer(ReplicationController.self)
        let deployments = await informers.informer(Deployment.self)
        let statefulSets = await informers.informer(StatefulSet.self)
        let queue = RateLimitingQueue(clock: clock)
        let recorder = EventRecorder(client: client, component: component, clock: { clock.now })
        let reconciler = DisruptionController(client: client, budgets: budgets, pods: pods, replicaSets: replicaSets,
                                              replicationControllers: replicationControllers, deployments: deployments,
                                              statefulSets: statefulSets, clock: clock, recorder: recorder)
        await budgets.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<PodDisruptionBudget>.key($0)) },
            onUpdate: { _, pdb in await queue.add(SharedInformer<PodDisruptionBudget>.key(pdb)) },
            onDelete: { await queue.add(SharedInformer<PodDisruptionBudget>.key($0)) }))
        await pods.addEventHandler(InformerEventHandler(
            onAdd: { await reconciler.podChanged($0, queue) },
            onUpdate: { _, pod in await reconciler.podChanged(pod, queue) },
            onDelete: { await reconciler.enqueueBudgets(selecting: $0, queue) }))
        return Controller(name: "disruption", queue: queue, reconciler: reconciler, workers: 2,
                          waitForSync: [{ await budgets.waitForSync() }, { await pods.waitForSync() },
                                        { await replicaSets.waitForSync() }, { await replicationControllers.waitForSync() },
                                        { await deployments.waitForSync() }, { await statefulSets.waitForSync() }])
    }

    // MARK: event handlers

    /// A pod appeared or changed: its budgets are synced, and a stale `DisruptionTarget`
    /// condition is scheduled for reset.
    func podChanged(_ pod: Pod, _ queue: RateLimitingQueue) async {
        await enqueueBudgets(selecting: pod, queue)
        if let wait = staleDisruptionWait(pod) {
            await queue.add(Self.stalePodKeyPrefix + SharedInformer<Pod>.key(pod), after: wait)
        }
    }

    /// Queues every budget whose selector picks `pod`.
    func enqueueBudgets(selecting pod: Pod, _ queue: RateLimitingQueue) async {
        for pdb in await budgetsSelecting(pod) {
            await queue.add(SharedInformer<PodDisruptionBudget>.key(pdb))
        }
    }

    /// The budgets in the pod's namespace whose selector picks it (the lister's
    /// `GetPodPodDisruptionBudgets`): a missing or invalid selector picks nothing, an empty one everything.
    func budgetsSelecting(_ pod: Pod) async -> [PodDisruptionBudget] {
        let labels = pod.metadata?.labels ?? [:]
        return await budgets.list(namespace: pod.metadata?.namespace ?? "default").filter { pdb in
            guard let selector = pdb.spec?.selector, let matcher = try? LabelMatcher(selector) else { return false }
            return matcher.matches(labels)
        }
    }

    // MARK: reconcile

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        if key.hasPrefix(Self.stalePodKeyPrefix) {
            return try await syncStalePodDisruption(String(key.dropFirst(Self.stalePodKeyPrefix.count)))
        }
        guard let pdb = await budgets.get(key) else { return .done }
        do {
            return try await trySync(pdb)
        } catch let e as APIError where e.isConflict {
            throw e
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Fail closed: a budget whose status cannot be computed allows no disruption.
            logger.info("syncing PodDisruptionBudget \(key): \(error)")
            var failed = pdb
            failed.failSafe(message: Self.describe(error), now: clock.now)
            if failed != pdb { try await client.update(failed, subresource: "status") }
            return .done
        }
    }

    /// Computes and writes the status of one budget; asks to be run again when the oldest
    /// approved eviction in `disruptedPods` expires.
    func trySync(_ pdb: PodDisruptionBudget) async throws -> ReconcileResult {
        let selected: [Pod]
        do {
            selected = try await podsSelected(by: pdb)
        } catch {
            await recorder.record(pdb, type: "Warning", reason: "NoPods", message: "Failed to get pods: \(Self.describe(error))")
            throw error
        }
        if selected.isEmpty {
            await recorder.record(pdb, type: "Normal", reason: "NoPods", message: "No matching pods found")
        }
        let count: ExpectedPodCount
        do {
            count = try await expectedPodCount(pdb, selected)
        } catch {
            await recorder.record(pdb, type: "Warning", reason: "CalculateExpectedPodCountFailed",
                                  message: "Failed to calculate the number of expected pods: \(Self.describe(error))")
            throw error
        }
        if !count.unmanagedPods.isEmpty {
            await recorder.record(pdb, type: "Warning", reason: "UnmanagedPods",
                                  message: "Pods selected by this PodDisruptionBudget (selector: \(Self.goString(pdb.spec?.selector))) were found "
                                      + "to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "
                                      + "To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.")
        }
        let now = clock.now
        let (disrupted, recheck) = await disruptedPodMap(pdb, selected, now: now)
        let healthy = Self.countHealthyPods(selected, disrupted: disrupted, now: now)
        try await updateStatus(pdb, currentHealthy: healthy, count: count, disruptedPods: disrupted)
        if let recheck { return .requeue(after: .seconds(max(recheck.timeIntervalSince(now), 0))) }
        return .done
    }

    /// The pods of the budget's namespace its selector picks; none without a selector.
    func podsSelected(by pdb: PodDisruptionBudget) async throws -> [Pod] {
        guard let selector = pdb.spec?.selector else { return [] }
        let matcher = try LabelMatcher(selector)
        return await pods.list(namespace: pdb.metadata?.namespace ?? "default", selector: matcher)
    }

    /// The entries of `status.disruptedPods` still in force (`buildDisruptedPodMap`): those of
    /// selected pods not being deleted whose eviction is under `deletionTimeout` old; and the
    /// time the first of them expires. An expired entry gets a `NotDeleted` event on its pod.
    func disruptedPodMap(_ pdb: PodDisruptionBudget, _ pods: [Pod], now: Date) async -> (pods: [String: String], recheck: Date?) {
        guard let recorded = pdb.status?.disruptedPods, !recorded.isEmpty else { return ([:], nil) }
        var result: [String: String] = [:]
        var recheck: Date?
        for pod in pods where pod.metadata?.deletionTimestamp == nil {
            let name = pod.metadata?.name ?? ""
            guard let stamp = recorded[name] else { continue }
            let expected = (KubernetesTime.date(stamp) ?? .distantPast).addingTimeInterval(Self.deletionTimeout)
            if expected <= now {
                let ref = "\(pdb.metadata?.namespace ?? "")/\(pdb.metadata?.name ?? "")"
                await recorder.record(pod, type: "Warning", reason: "NotDeleted",
                                      message: "Pod was expected by PDB \(ref) to be deleted but it wasn't")
            } else {
                if recheck.map({ expected < $0 }) ?? true { recheck = expected }
                result[name] = stamp
            }
        }
        return (result, recheck)
    }

    /// Ready pods not being deleted and not recently evicted (`countHealthyPods`).
    static func countHealthyPods(_ pods: [Pod], disrupted: [String: String], now: Date) -> Int32 {
        var healthy: Int32 = 0
        for pod in pods where pod.metadata?.deletionTimestamp == nil {
            if let stamp = disrupted[pod.metadata?.name ?? ""], let at = KubernetesTime.date(stamp),
               at.addingTimeInterval(deletionTimeout) > now {
                continue
            }
            if pod.isReady { healthy += 1 }
        }
        return healthy
    }

    /// Writes the status when any part of it changed (`updatePdbStatus`). No disruption is
    /// allowed while no pod is expected, so a budget whose first pods just appeared is safe.
    func updateStatus(_ pdb: PodDisruptionBudget, currentHealthy: Int32, count: ExpectedPodCount,
                      disruptedPods: [String: String]) async throws {
        var allowed = Int64(currentHealthy) - Int64(count.desiredHealthy)
        if count.expectedPods <= 0 || allowed <= 0 { allowed = 0 }
        let disruptionsAllowed = Int32(clamping: allowed)
        let old = pdb.status ?? PodDisruptionBudgetStatus()
        let generation = pdb.metadata?.generation
        if (old.currentHealthy ?? 0) == currentHealthy, (old.desiredHealthy ?? 0) == count.desiredHealthy,
           (old.expectedPods ?? 0) == count.expectedPods, (old.disruptionsAllowed ?? 0) == disruptionsAllowed,
           (old.disruptedPods ?? [:]) == disruptedPods, old.observedGeneration == generation, pdb.conditionsAreUpToDate {
            return
        }
        var next = pdb
        next.status = PodDisruptionBudgetStatus(conditions: old.conditions, currentHealthy: currentHealthy,
                                                desiredHealthy: count.desiredHealthy,
                                                disruptedPods: disruptedPods.isEmpty ? nil : disruptedPods,
                                                disruptionsAllowed: disruptionsAllowed, expectedPods: count.expectedPods,
                                                observedGeneration: generation)
        next.updateDisruptionAllowedCondition(now: clock.now)
        // One try: a conflict is retried by the queue with a fresh cache.
        try await client.update(next, subresource: "status")
    }

    /// An error's message without Orca's code prefix.
    static func describe(_ error: any Error) -> String {
        if let e = error as? OrcaError { return e.message }
        if let e = error as? APIError { return e.message }
        return "\(error)"
    }
}
