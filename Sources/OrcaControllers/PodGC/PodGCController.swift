import Foundation
import Logging
import OrcaClient

/// Removes pods nothing else will (kube-controller-manager's pod garbage collector), every
/// `gcCheckPeriod` on the injected clock:
/// - terminated pods (Succeeded or Failed) beyond `terminatedPodThreshold`, evicted ones
///   first, then oldest first;
/// - terminating pods on a node that is not Ready and carries the
///   `node.kubernetes.io/out-of-service` taint;
/// - pods bound to a node that does not exist: a node missing from the cache for
///   `quarantineTime` is looked up directly, and only when the API server confirms it is gone
///   are its pods deleted (so `kubectl delete node` takes its pods with it);
/// - terminating pods that were never scheduled.
/// Each is force-deleted (grace period 0) after a pod not yet terminal is marked `Failed`
/// (an orphan's with a `DisruptionTarget` condition).
public actor PodGCController: Runnable {
    /// How often the collector runs (`gcCheckPeriod`).
    public static let defaultCheckPeriod: Duration = .seconds(20)
    /// How long a node may be missing from the cache before it is looked up (`quarantineTime`).
    public static let defaultQuarantineTime: Duration = .seconds(40)
    /// Kubernetes' default `--terminated-pod-gc-threshold`.
    public static let defaultTerminatedPodThreshold = 12_500

    let client: any APIClient
    let pods: SharedInformer<Pod>
    let nodes: SharedInformer<Node>
    let clock: any WallClock
    let terminatedPodThreshold: Int
    let checkPeriod: Duration
    let quarantineTime: Duration
    let logger = Logger(label: "orca.controller.pod-gc")
    /// Names of nodes pods are bound to that the cache does not have, and since when.
    var missingNodes: [String: Date] = [:]

    init(client: any APIClient, pods: SharedInformer<Pod>, nodes: SharedInformer<Node>, clock: any WallClock,
         terminatedPodThreshold: Int, checkPeriod: Duration, quarantineTime: Duration) {
        self.client = client
        self.pods = pods
        self.nodes = nodes
        self.clock = clock
        self.terminatedPodThreshold = terminatedPodThreshold
        self.checkPeriod = checkPeriod
        self.quarantineTime = quarantineTime
    }

    /// Builds the pod garbage collector on `informers`; a `terminatedPodThreshold` of 0 or
    /// less keeps every terminated pod.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, clock: any WallClock = SystemClock(),
                                  terminatedPodThreshold: Int = defaultTerminatedPodThreshold,
                                  checkPeriod: Duration = defaultCheckPeriod,
                                  quarantineTime: Duration = defaultQuarantineTime) async -> PodGCController {
        let pods = await informers.informer(Pod.self)
        let nodes = await informers.informer(Node.self)
        return PodGCController(client: client, pods: pods, nodes: nodes, clock: clock, terminatedPodThreshold: terminatedPodThreshold,
                               checkPeriod: checkPeriod, quarantineTime: quarantineTime)
    }

    /// Waits for the caches, then collects every `checkPeriod` until cancelled.
    public func run() async {
        await pods.waitForSync()
        await nodes.waitForSync()
        while !Task.isCancelled {
            await collect()
            do { try await clock.sleep(for: checkPeriod) } catch { return }
        }
    }

    /// One pass (`gc`).
    func collect() async {
        let pods = await self.pods.list()
        let nodes = await self.nodes.list()
        if terminatedPodThreshold > 0 { await collectTerminated(pods) }
        await collectTerminatingOutOfService(pods)
        await collectOrphaned(pods, nodes: nodes)
        await collectUnscheduledTerminating(pods)
    }

    // MARK: the four kinds

    /// Terminated pods beyond the threshold, evicted first, then oldest (`gcTerminated`).
    func collectTerminated(_ pods: [Pod]) async {
        let terminated = pods.filter(Self.isTerminated)
        let excess = terminated.count - terminatedPodThreshold
        guard excess > 0 else { return }
        logger.info("garbage collecting \(excess) terminated pods")
        for pod in Self.evictedThenOldest(terminated).prefix(excess) {
            await forceDelete(pod)
        }
    }

    /// Terminating pods on a node that is not Ready and is out of service (`gcTerminating`).
    func collectTerminatingOutOfService(_ pods: [Pod]) async {
        var doomed: [Pod] = []
        for pod in pods where pod.metadata?.deletionTimestamp != nil {
            guard let node = await nodes.get(pod.spec?.nodeName ?? "") else { continue }
            if !node.isReady, (node.spec?.taints ?? []).contains(where: { $0.key == WellKnownTaints.outOfService }) {
                doomed.append(pod)
            }
        }
        for pod in Self.evictedThenOldest(doomed) { await forceDelete(pod) }
    }

    /// Pods bound to nodes that are gone (`gcOrphaned`): a node missing from the cache is
    /// quarantined, then looked up; its pods go once the API server says it does not exist.
    func collectOrphaned(_ pods: [Pod], nodes: [Node]) async {
        let existing = Set(nodes.compactMap { $0.metadata?.name })
        let now = clock.now
        var wanted: Set<String> = []
        for pod in pods {
            guard let name = pod.spec?.nodeName, !name.isEmpty, !existing.contains(name) else { continue }
            wanted.insert(name)
            if missingNodes[name] == nil { missingNodes[name] = now }
        }
        var deleted: Set<String> = []
        for (name, since) in missingNodes where since.addingTimeInterval(quarantineTime.timeInterval) <= now {
            missingNodes[name] = nil
            guard wanted.contains(name), await self.nodes.get(name) == nil else { continue }
            do {
                _ = try await client.get(Node.self, namespace: nil, name: name)
            } catch let e as APIError where e.isNotFound {
                deleted.insert(name)
            } catch {
                logger.info("looking up node \(name): \(error)")
            }
        }
        for pod in pods where deleted.contains(pod.spec?.nodeName ?? "") {
            logger.info("pod \(SharedInformer<Pod>.key(pod)) is bound to node \(pod.spec?.nodeName ?? ""), which is gone: deleting it")
            await forceDelete(pod, condition: PodCondition(message: "PodGC: node no longer exists", reason: "DeletionByPodGC",
                                                           status: "True", type: "DisruptionTarget"))
        }
    }

    /// Terminating pods that were never scheduled (`gcUnscheduledTerminating`).
    func collectUnscheduledTerminating(_ pods: [Pod]) async {
        for pod in pods where pod.metadata?.deletionTimestamp != nil && (pod.spec?.nodeName ?? "").isEmpty {
            await forceDelete(pod)
        }
    }

    // MARK: helpers

    /// Marks a pod that is not terminal `Failed` (with `condition`), then deletes it with
    /// grace period 0 (`markFailedAndDeletePodWithCondition`); failures are logged, the next
    /// pass tries again.
    func forceDelete(_ pod: Pod, condition: PodCondition? = nil) async {
        let namespace = pod.metadata?.namespace ?? "default"
        let name = pod.metadata?.name ?? ""
        do {
            if pod.status?.phase != "Succeeded", pod.status?.phase != "Failed" {
                var updated = pod
                var status = pod.status ?? PodStatus()
                status.phase = "Failed"
                if let condition { status.updateCondition(condition, now: clock.now) }
                updated.status = status
                try await client.update(updated, subresource: "status")
            }
            var options = DeletionOptions()
            options.gracePeriodSeconds = 0
            // This pod, not a namesake created since.
            options.preconditionUID = pod.metadata?.uid
            try await client.delete(Pod.self, namespace: namespace, name: name, options: options)
        } catch let e as APIError where e.isNotFound {
            return
        } catch {
            logger.info("force-deleting pod \(namespace)/\(name): \(error)")
        }
    }

    /// Neither Pending, Running nor Unknown (`isPodTerminated`).
    static func isTerminated(_ pod: Pod) -> Bool {
        let phase = pod.status?.phase ?? ""
        return phase != "Pending" && phase != "Running" && phase != "Unknown"
    }

    /// Evicted pods first, then by creation time, then name (`byEvictionAndCreationTimestamp`).
    static func evictedThenOldest(_ pods: [Pod]) -> [Pod] {
        func evicted(_ p: Pod) -> Bool { p.status?.phase == "Failed" && p.status?.reason == "Evicted" }
        return pods.sorted { a, b in
            if evicted(a) != evicted(b) { return evicted(a) }
            let ta = KubernetesTime.date(a.metadata?.creationTimestamp) ?? .distantPast
            let tb = KubernetesTime.date(b.metadata?.creationTimestamp) ?? .distantPast
            if ta != tb { return ta < tb }
            return (a.metadata?.name ?? "") < (b.metadata?.name ?? "")
        }
    }
}
