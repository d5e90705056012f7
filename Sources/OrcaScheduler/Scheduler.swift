import Foundation
import Logging
import OrcaClient
import OrcaControllers

/// The scheduler, a reconciler of unscheduled pods on the controller runtime, with
/// kube-scheduler's default profile: each attempt snapshots the nodes with their pods (assumed
/// ones included), filters them (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity,
/// NodePorts, NodeResourcesFit, VolumeBinding, PodTopologySpread, InterPodAffinity), scores
/// the feasible ones (TaintToleration, NodeAffinity, NodeResourcesFit, PodTopologySpread,
/// InterPodAffinity, NodeResourcesBalancedAllocation) and binds the pod to the best, ties
/// broken at random. A pod that fits nowhere gets PodScheduled=False/Unschedulable and a
/// FailedScheduling event worded as Kubernetes words them, and is tried again when a change
/// to the cluster may help it.
public struct Scheduler: Reconciler {
    /// The scheduler name pods ask for (`spec.schedulerName`), and the events' source.
    public static let name = "default-scheduler"

    let client: any APIClient
    let pods: SharedInformer<Pod>
    let nodes: SharedInformer<Node>
    let listers: SchedulerListers
    let clock: any WallClock
    let recorder: EventRecorder
    /// The VolumeBinding plugin's PreFilter and PreBind: claims' state and WaitForFirstConsumer node selection.
    let volumeBinding: PodVolumeBinding
    /// Pods bound but not yet seen bound in the cache (the scheduler cache's "assumed" pods).
    let assumed = AssumedPods()
    /// Parsed pods and nodes, reused between cycles.
    let cache = ParsedObjectCache()
    /// Pods waiting for a cluster change that may help them.
    let unschedulable = UnschedulablePods()
    /// Tie-breaking randomness and where the next cycle starts.
    let selection: HostSelection

    /// How long an unschedulable pod waits at most before it is tried again without any
    /// event (`podMaxInUnschedulablePodsDuration`).
    static let unschedulableRetryInterval: Duration = .seconds(300)

    static func isUnscheduled(_ pod: Pod) -> Bool {
        (pod.spec?.nodeName ?? "").isEmpty && pod.metadata?.deletionTimestamp == nil
            && (pod.spec?.schedulerName ?? Scheduler.name) == Scheduler.name
    }

    /// Succeeded or Failed: its resources are free again (the scheduler's cache leaves such pods out).
    static func isTerminal(_ pod: Pod) -> Bool {
        let phase = pod.status?.phase
        return phase == "Succeeded" || phase == "Failed"
    }

    /// One scheduling attempt for the pod `key`, if it still waits for a node.
    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let pod = await pods.get(key), Scheduler.isUnscheduled(pod), !assumed.contains(pod) else {
            unschedulable.remove(key)
            return .done
        }
        // Gated pods wait for their gates to be removed (an update, which queues them again).
        if !(pod.spec?.schedulingGates ?? []).isEmpty { return .done }
        let movesAtStart = unschedulable.marker
        let snapshot = await snapshot()
        let inputs = await inputs(for: pod)
        let outcome = selection.run(SchedulingCycle(pod: PodInfo(pod), snapshot: snapshot, inputs: inputs))
        switch outcome {
        case .scheduled(let node):
            unschedulable.remove(key)
            try await bind(pod, to: node)
            return .done
        case .unschedulable(let fitError):
            return try await failed(pod, key: key, message: fitError.message, rejectedBy: fitError.plugins, movesAtStart: movesAtStart)
        case .preempting(let candidate, let fitError):
            try await preempt(pod, candidate)
            // Waits for a victim's deletion, which requeues every parked pod.
            return try await failed(pod, key: key, message: fitError.message, rejectedBy: fitError.plugins, movesAtStart: movesAtStart)
        case .noNodes:
            return try await failed(pod, key: key, message: outcome.failureMessage ?? "", rejectedBy: [], movesAtStart: movesAtStart)
        }
    }

    func bind(_ pod: Pod, to node: String) async throws {
        let ns = pod.metadata?.namespace ?? "default"
        let name = pod.metadata?.name ?? ""
        try await volumeBinding.selectNode(node, for: pod, client: client)
        assumed.assume(pod, node: node)
        do {
            try await client.bind(namespace: ns, name: name, node: node)
        } catch {
            assumed.forget(pod)
            if let e = error as? APIError, e.isNotFound || e.code == 409 { return }
            throw error
        }
        await recorder.record(pod, type: "Normal", reason: "Scheduled", message: "Successfully assigned \(ns)/\(name) to \(node)")
    }

    /// Parks the pod until a change may help it, then records why it waits.
    func failed(_ pod: Pod, key: String, message: String, rejectedBy plugins: Set<String>,
                movesAtStart: UnschedulablePods.Marker) async throws -> ReconcileResult {
        let settled = unschedulable.park(key, rejectedBy: plugins, since: movesAtStart)
        try await markUnschedulable(pod, message: message)
        return settled ? .requeue(after: Self.unschedulableRetryInterval) : .requeue(after: .zero)
    }

    /// Sets PodScheduled=False/Unschedulable with `message` and records a FailedScheduling
    /// event, unless the condition already says so.
    func markUnschedulable(_ pod: Pod, message: String) async throws {
        let existing = (pod.status?.conditions ?? []).first { $0.type == "PodScheduled" }
        if existing?.reason == "Unschedulable", existing?.message == message { return }
        var conditions = (pod.status?.conditions ?? []).filter { $0.type != "PodScheduled" }
        conditions.append(PodCondition(lastTransitionTime: KubernetesTime.string(clock.now), message: message,
                                       reason: "Unschedulable", status: "False", type: "PodScheduled"))
        try await client.mergePatch(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "",
                                    patch: ["status": ["conditions": JSONValue(encoding: conditions)]], subresource: "status")
        await recorder.record(pod, type: "Warning", reason: "FailedScheduling", message: Self.truncatedNote(message))
    }

    /// An event note of at most 1024 bytes, cut with ` ...` as kube-scheduler's `truncateMessage`.
    static func truncatedNote(_ message: String, limit: Int = 1024) -> String {
        let bytes = Array(message.utf8)
        guard bytes.count > limit else { return message }
        let suffix = " ..."
        return String(decoding: bytes.prefix(limit - suffix.utf8.count), as: UTF8.self) + suffix
    }
}
