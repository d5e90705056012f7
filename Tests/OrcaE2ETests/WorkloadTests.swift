import Foundation
import Testing

/// Issue 11's acceptance: workload controllers making real pods through a real
/// `orca server` with its embedded agent, driven by the real kubectl.
@Suite(.serialized) struct WorkloadTests {
    /// Names of the pods with `selector` that are not being deleted.
    static func livePods(_ s: OrcaServerProcess, _ selector: String) throws -> [String] {
        let out = try s.k("get", "pods", "-l", selector, "-o",
                          "jsonpath={range .items[?(@.metadata.deletionTimestamp)]}{.metadata.name}{\"\\n\"}{end}")
        let deleting = Set(out.split(separator: "\n").map(String.init))
        let all = try s.k("get", "pods", "-l", selector, "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}")
        return all.split(separator: "\n").map(String.init).filter { !deleting.contains($0) }
    }

    @Test func replicaSetKeepsItsPodsRunningReplacesADeletedOneAndScales() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        _ = try s.k("apply", "-f", "-", stdin: """
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: front}
        spec:
          replicas: 3
          selector: {matchLabels: {app: front}}
          template:
            metadata: {labels: {app: front}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: docker.io/library/busybox:1.35, command: [sleep, "3600"]}]
        """)
        try s.eventually("3 ready replicas", timeout: 120) {
            try s.k("get", "rs", "front", "-o", "jsonpath={.status.readyReplicas}") == "3"
        }
        let table = try s.k("get", "rs", "front")
        #expect(table.contains("DESIRED") && table.contains("CURRENT") && table.contains("READY"))
        let first = try Self.livePods(s, "app=front")
        #expect(first.count == 3 && first.allSatisfy { $0.hasPrefix("front-") })
        let owner = try s.k("get", "pod", first[0], "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}")
        #expect(owner == "ReplicaSet/front/true")
        _ = try s.k("delete", "pod", first[0], "--wait=false")
        try s.eventually("a replacement pod", timeout: 120) {
            let now = try Self.livePods(s, "app=front")
            let ready = try s.k("get", "rs", "front", "-o", "jsonpath={.status.readyReplicas}")
            return now.count == 3 && !now.contains(first[0]) && ready == "3"
        }
        let events = try s.k("get", "events", "--field-selector", "involvedObject.name=front", "-o", "jsonpath={.items[*].reason}")
        #expect(events.contains("SuccessfulCreate"))
        _ = try s.k("scale", "rs", "front", "--replicas=1")
        try s.eventually("scaled to 1", timeout: 120) { try Self.livePods(s, "app=front").count == 1 }
        #expect(try s.k("get", "events", "--field-selector", "involvedObject.name=front", "-o", "jsonpath={.items[*].reason}").contains("SuccessfulDelete"))
    }
}
