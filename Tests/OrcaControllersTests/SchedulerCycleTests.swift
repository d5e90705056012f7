import Foundation
import OrcaClient
@testable import OrcaScheduler
import Testing

/// Whole scheduling cycles on snapshots: the FailedScheduling message, the preemption part,
/// how many nodes are looked at, and how the best node is picked.
@Suite struct SchedulerCycleTests {
    typealias F = SchedulerFixture

    func run(_ pod: Pod, _ nodes: [NodeInfo], inputs: SchedulingCycle.Inputs = .init(), start: Int = 0,
             seed: UInt64 = 7) -> (outcome: SchedulingCycle.Outcome, processedNodes: Int) {
        var random = SeededRandomNumberGenerator(seed: seed)
        return SchedulingCycle(pod: PodInfo(pod), snapshot: Snapshot(nodes: nodes), inputs: inputs).run(startIndex: start, random: &random)
    }

    // MARK: FitError.message

    @Test func reasonsAreCountedPerNodeAndSortedAsStrings() {
        let taint = FilterStatus(.unschedulableAndUnresolvable, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
                                 plugin: "TaintToleration")
        let cpu = FilterStatus(.unschedulable, "Insufficient cpu", plugin: "NodeResourcesFit")
        #expect(FitError(numAllNodes: 3, nodeStatuses: ["n1": taint, "n2": cpu, "n3": cpu]).message
            == "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient cpu.")
        // A node with two reasons counts in each.
        let both = FilterStatus(.unschedulable, ["Insufficient cpu", "Insufficient memory"], plugin: "NodeResourcesFit")
        #expect(FitError(numAllNodes: 2, nodeStatuses: ["n1": both, "n2": cpu]).message
            == "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu.")
        // Sorted as Go sorts strings: "10 …" before "2 …".
        var statuses: [String: FilterStatus] = [:]
        for i in 0..<10 { statuses["b\(i)"] = FilterStatus(.unschedulable, "b", plugin: "X") }
        for i in 0..<2 { statuses["a\(i)"] = FilterStatus(.unschedulable, "a", plugin: "X") }
        #expect(FitError(numAllNodes: 12, nodeStatuses: statuses).message == "0/12 nodes are available: 10 b, 2 a.")
        // Nodes PreFilter left out count with the absent status.
        let absent = FilterStatus(.unschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) [NodeAffinity]", plugin: "NodeAffinity")
        #expect(FitError(numAllNodes: 3, nodeStatuses: ["n2": cpu], absentNodesStatus: absent, postFilterMessage: "preemption: x.").message
            == "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: x.")
        #expect(FitError(numAllNodes: 3, absentNodesStatus: absent, preFilterMessage: "pod has unbound immediate PersistentVolumeClaims").message
            == "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.")
    }

    @Test func theFailedSchedulingMessageOfAnUnreachableAndTwoFullNodes() {
        var unreachable = F.node("n1", cpu: "1")
        unreachable.status?.conditions = [NodeCondition(status: "Unknown", type: "Ready")]
        let nodes = [F.info(unreachable), F.info(F.node("n2", cpu: "1")), F.info(F.node("n3", cpu: "1"))]
        #expect(run(F.pod("p", cpu: "2"), nodes).outcome.failureMessage
            == "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient cpu. "
            + "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.")
    }

    @Test func aPreFilterRejectionIsTheWholeMessage() {
        let nodes = [F.info(F.node("n1")), F.info(F.node("n2"))]
        let result = run(F.pod("p"), nodes, inputs: .init(volumeRejection: "pod has unbound immediate PersistentVolumeClaims"))
        #expect(result.outcome.failureMessage == "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
            + "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")
        #expect(result.processedNodes == 0)
    }

    @Test func aPodPinnedByNameIsOnlyTriedOnItsNode() {
        var pod = F.pod("p", cpu: "2")
        pod.spec?.affinity = Affinity(nodeAffinity: NodeAffinity(required: [
            NodeSelectorTerm(matchFields: [NodeSelectorRequirement(key: "metadata.name", operator: "In", values: ["n2"])]),
        ]))
        let nodes = [F.info(F.node("n1", cpu: "1")), F.info(F.node("n2", cpu: "1")), F.info(F.node("n3", cpu: "1"))]
        let result = run(pod, nodes)
        #expect(result.outcome.failureMessage
            == "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
            + "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.")
        #expect(result.processedNodes == 1)
        #expect(run(F.pod("small", cpu: "2"), []).outcome == .noNodes)
        #expect(SchedulingCycle.Outcome.noNodes.failureMessage == "no nodes available to schedule pods")
    }

    // MARK: DefaultPreemption's message

    @Test func preemptionThatWouldFreeANodeAddsNoPreemptionPart() {
        var low = F.pod("low", cpu: "800m")
        low.spec?.priority = 0
        var high = F.pod("high", cpu: "500m")
        high.spec?.priority = 1000
        #expect(run(high, [F.info(F.node("n1", cpu: "1"), [low])]).outcome.failureMessage == "0/1 nodes are available: 1 Insufficient cpu.")
        // Evicting would not make room: the filters' reasons after the dry run.
        var huge = F.pod("huge", cpu: "2")
        huge.spec?.priority = 1000
        #expect(run(huge, [F.info(F.node("n1", cpu: "1"), [low])]).outcome.failureMessage
            == "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.")
        // A pod that may not preempt says so.
        high.spec?.preemptionPolicy = "Never"
        #expect(run(high, [F.info(F.node("n1", cpu: "1"), [low])]).outcome.failureMessage
            == "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")
    }

    @Test func preemptionDryRunUpdatesAntiAffinityCounts() {
        var low = F.pod("low", labels: ["app": "web"])
        low.spec?.priority = 0
        var pod = F.pod("p", labels: ["app": "web"])
        pod.spec?.priority = 1000
        pod.spec?.affinity = F.antiAffinity(["app": "web"], key: "kubernetes.io/hostname")
        #expect(run(pod, [F.info(F.node("n1"), [low])]).outcome.failureMessage
            == "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.")
        pod.spec?.priority = 0
        #expect(run(pod, [F.info(F.node("n1"), [low])]).outcome.failureMessage
            == "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules. "
            + "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")
    }

    // MARK: how many nodes, which node

    @Test(arguments: [(10, 10), (99, 99), (100, 100), (200, 100), (500, 230), (1000, 420), (5000, 500), (6000, 300), (20000, 1000)])
    func numFeasibleNodesToFind(nodes: Int, wanted: Int) {
        #expect(SchedulingCycle.numFeasibleNodesToFind(nodes) == wanted)
    }

    @Test func aBigClusterStopsAtEnoughFeasibleNodesAndTheNextCycleStartsFurther() {
        let nodes = (0..<200).map { F.info(F.node(String(format: "n%03d", $0))) }
        let first = run(F.pod("p"), nodes)
        #expect(first.processedNodes == 100)
        guard case .scheduled(let a) = first.outcome else { Issue.record("not scheduled"); return }
        #expect(a < "n100")
        let second = run(F.pod("p"), nodes, start: 100)
        guard case .scheduled(let b) = second.outcome else { Issue.record("not scheduled"); return }
        #expect(b >= "n100")
        // Nodes that fail count as looked at too.
        var mixed = nodes
        mixed[0] = F.info(F.node("n000", unschedulable: true))
        #expect(run(F.pod("p"), mixed).processedNodes == 101)
    }

    @Test func theBestNodeWins() {
        let nodes = [
            F.info(F.node("busy"), [F.pod("e", cpu: "3", memory: "6Gi")]),
            F.info(F.node("tainted", taints: [Taint(effect: "PreferNoSchedule", key: "spot")])),
            F.info(F.node("free")),
        ]
        for seed in UInt64(0)..<20 {
            #expect(run(F.pod("p", cpu: "100m", memory: "128Mi"), nodes, seed: seed).outcome == .scheduled(node: "free"))
        }
    }

    @Test func tiesAreBrokenAtRandomAmongTheBestOnly() {
        var picks: [Int: Int] = [:]
        var random = SeededRandomNumberGenerator(seed: 42)
        for _ in 0..<300 { picks[SchedulingCycle.selectHost([10, 30, 5, 30, 30], random: &random), default: 0] += 1 }
        #expect(Set(picks.keys) == [1, 3, 4])
        #expect(picks.values.allSatisfy { $0 > 50 })
        // The same seed picks the same nodes.
        var a = SeededRandomNumberGenerator(seed: 9)
        var b = SeededRandomNumberGenerator(seed: 9)
        let first = (0..<20).map { _ in SchedulingCycle.selectHost([1, 1, 1, 1], random: &a) }
        let second = (0..<20).map { _ in SchedulingCycle.selectHost([1, 1, 1, 1], random: &b) }
        #expect(first == second)
        #expect(SchedulingCycle.selectHost([3, 9, 4], random: &a) == 1)
    }

    @Test func aLongMessageIsCutForTheEvent() {
        let long = String(repeating: "x", count: 2000)
        let note = Scheduler.truncatedNote(long)
        #expect(note.utf8.count == 1024 && note.hasSuffix(" ..."))
        #expect(Scheduler.truncatedNote("short") == "short")
    }

    @Test func onlySchedulingRelevantChangesQueueAPodOrANodeAgain() {
        let pod = F.pod("p")
        var statusOnly = pod
        statusOnly.status = PodStatus(conditions: [PodCondition(reason: "Unschedulable", status: "False", type: "PodScheduled")])
        statusOnly.metadata?.resourceVersion = "9"
        #expect(!Scheduler.schedulingRelevantChange(pod, statusOnly))
        var relabeled = pod
        relabeled.metadata?.labels = ["app": "web"]
        #expect(Scheduler.schedulingRelevantChange(pod, relabeled))
        let node = F.node("n1")
        var heartbeat = node
        heartbeat.status?.conditions = [NodeCondition(lastHeartbeatTime: "2025-01-01T00:00:00Z", status: "True", type: "Ready")]
        #expect(!Scheduler.nodeChangeMayHelp(node, heartbeat))
        var notReady = node
        notReady.status?.conditions = [NodeCondition(status: "False", type: "Ready")]
        #expect(Scheduler.nodeChangeMayHelp(node, notReady))
        var cordoned = node
        cordoned.spec?.unschedulable = true
        #expect(Scheduler.nodeChangeMayHelp(node, cordoned))
    }

    @Test func parkedPodsAreTakenBackByTheEventsThatMayHelpThem() {
        let pods = UnschedulablePods()
        let start = pods.marker
        #expect(pods.park("default/a", rejectedBy: ["InterPodAffinity"], since: start))
        #expect(pods.park("default/b", rejectedBy: ["NodeResourcesFit"], since: start))
        #expect(pods.park("default/c", rejectedBy: [], since: start))
        #expect(Set(pods.take(rejectedBy: ["InterPodAffinity", "PodTopologySpread"])) == ["default/a", "default/c"])
        #expect(pods.contains("default/b") && !pods.contains("default/a"))
        // An attempt that overlapped a move that would have freed it tries again at once.
        #expect(!pods.park("default/a", rejectedBy: ["InterPodAffinity"], since: start))
        #expect(pods.park("default/b", rejectedBy: ["NodeResourcesFit"], since: start))
        #expect(Set(pods.takeAll()) == ["default/a", "default/b"])
    }
}
