import Foundation
import Logging
import OrcaClient

/// The first scheduler: binds each unscheduled pod to a Ready node that fits its
/// requests, `nodeSelector` and taints (spreading by fewest pods); a pod that fits
/// nowhere gets PodScheduled=False/Unschedulable and a FailedScheduling event, and is
/// retried when nodes or pods change.
public struct Scheduler: Sendable {
    let client: any APIClient
    let clock: @Sendable () -> Date
    let logger = Logger(label: "orca.scheduler")
    public static let name = "default-scheduler"

    public init(client: any APIClient, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.clock = clock
    }

    public func run() async {
        let pods = Informer(client: client, resource: client.resource("pods"))
        let nodes = Informer(client: client, resource: client.resource("nodes"))
        let queue = WorkQueue()
        await pods.onChange { change in
            switch change {
            case .added(let p), .updated(_, let p):
                if (p[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty { await queue.add(Informer.key(p)) }
            case .deleted: break
            }
        }
        await nodes.onChange { _ in
            // A node change can make waiting pods fit: requeue every unscheduled pod.
            for p in await pods.list() where (p[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty {
                await queue.add(Informer.key(p))
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await pods.run() }
            group.addTask { await nodes.run() }
            group.addTask {
                await pods.waitForSync()
                await nodes.waitForSync()
                while let key = await queue.next() {
                    do {
                        try await schedule(key, pods: pods, nodes: nodes)
                        await queue.forget(key)
                    } catch {
                        logger.debug("scheduling \(key): \(error)")
                        await queue.retry(key)
                    }
                    await queue.done(key)
                }
            }
            await withTaskCancellationHandler { await group.next() } onCancel: { Task { await queue.shutdown() } }
            group.cancelAll()
        }
    }

    func schedule(_ key: String, pods: Informer, nodes: Informer) async throws {
        guard let pod = await pods.get(key), (pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty,
              pod.deletionTimestamp == nil else { return }
        let schedulerName = pod[path: ["spec", "schedulerName"]]?.stringValue ?? Scheduler.name
        guard schedulerName == Scheduler.name else { return }
        let allPods = await pods.list()
        let candidates = await nodes.list().sorted { ($0.metadataName ?? "") < ($1.metadataName ?? "") }
        var reasons: [String: Int] = [:]
        var feasible: [(JSONValue, Int)] = []
        for node in candidates {
            let nodeName = node.metadataName ?? ""
            let onNode = allPods.filter { $0[path: ["spec", "nodeName"]]?.stringValue == nodeName && !PodFit.isTerminal($0) }
            if let reason = PodFit.unfitReason(pod: pod, node: node, podsOnNode: onNode) {
                reasons[reason, default: 0] += 1
            } else {
                feasible.append((node, onNode.count))
            }
        }
        let ns = pod.metadataNamespace ?? "default"
        let name = pod.metadataName ?? ""
        guard let best = feasible.min(by: { $0.1 < $1.1 })?.0 else {
            let detail = reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            let message = "0/\(candidates.count) nodes are available\(detail.isEmpty ? "" : ": " + detail)."
            try await markUnschedulable(pod, message: message)
            return
        }
        let nodeName = best.metadataName ?? ""
        try await client.bind(namespace: ns, name: name, node: nodeName)
        await EventRecorder(client: client, component: Scheduler.name, clock: clock)
            .record(pod, type: "Normal", reason: "Scheduled", message: "Successfully assigned \(ns)/\(name) to \(nodeName)")
    }

    func markUnschedulable(_ pod: JSONValue, message: String) async throws {
        let existing = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "PodScheduled" }
        if existing?["reason"]?.stringValue == "Unschedulable", existing?["message"]?.stringValue == message { return }
        var conds = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "PodScheduled" }
        conds.append(["type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message),
                      "lastProbeTime": .null, "lastTransitionTime": .string(KubernetesTime.string(clock()))])
        _ = try await client.mergePatch(client.resource("pods"), namespace: pod.metadataNamespace, name: pod.metadataName ?? "",
                                        patch: ["status": ["conditions": .array(conds)]], subresource: "status")
        await EventRecorder(client: client, component: Scheduler.name, clock: clock)
            .record(pod, type: "Warning", reason: "FailedScheduling", message: message)
    }

}
