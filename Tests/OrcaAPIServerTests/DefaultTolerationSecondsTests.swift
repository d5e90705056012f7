import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Pods get Kubernetes' `DefaultTolerationSeconds` tolerations when they do not already
/// tolerate the not-ready and unreachable `NoExecute` taints.
@Suite struct DefaultTolerationSecondsTests {
    static let notReady: JSONValue = ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]
    static let unreachable: JSONValue = ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]

    /// (case, the pod's tolerations, the defaults expected after them)
    static let cases: [(String, [JSONValue], [JSONValue])] = [
        ("none", [], [notReady, unreachable]),
        ("its own not-ready toleration is kept", [["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60]],
         [unreachable]),
        ("an empty effect matches NoExecute", [["key": "node.kubernetes.io/unreachable", "operator": "Exists"]], [notReady]),
        ("an empty key matches both", [["operator": "Exists", "effect": "NoExecute"]], []),
        ("tolerate everything", [["operator": "Exists"]], []),
        ("a NoSchedule toleration does not count", [["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoSchedule"]],
         [notReady, unreachable]),
        ("operator and value are not looked at", [["key": "node.kubernetes.io/not-ready", "operator": "Equal", "value": "x", "effect": "NoExecute"]],
         [unreachable]),
        ("other keys do not count", [["key": "example.com/gpu", "operator": "Exists", "effect": "NoExecute"]], [notReady, unreachable]),
    ]

    @Test(arguments: cases)
    func podCreateAddsMissingDefaults(name: String, tolerations: [JSONValue], added: [JSONValue]) async throws {
        let c = try await TestCluster()
        var spec = TestCluster.podSpec
        if !tolerations.isEmpty { spec["tolerations"] = .array(tolerations) }
        let pod = try await c.registry.create(c.r("pods"), namespace: "default", object: ["metadata": ["name": "p"], "spec": spec])
        #expect(pod[path: ["spec", "tolerations"]]?.arrayValue == tolerations + added, "\(name)")
    }

    @Test func aReplaceThatDropsTheDefaultsGetsThemBack() async throws {
        let c = try await TestCluster()
        var pod = try await c.registry.create(c.r("pods"), namespace: "default", object: ["metadata": ["name": "p"], "spec": TestCluster.podSpec])
        #expect(pod[path: ["spec", "tolerations"]]?.arrayValue == [Self.notReady, Self.unreachable])
        pod[path: ["spec", "tolerations"]] = [["key": "example.com/gpu", "operator": "Exists", "effect": "NoSchedule"]]
        let replaced = try await c.registry.update(c.r("pods"), namespace: "default", name: "p", object: pod)
        #expect(replaced[path: ["spec", "tolerations"]]?.arrayValue
            == [["key": "example.com/gpu", "operator": "Exists", "effect": "NoSchedule"], Self.notReady, Self.unreachable])
    }

    @Test func templatesAreNotAdmitted() async throws {
        // Only pods are: a Deployment's template keeps the tolerations it was given.
        let c = try await TestCluster()
        let deployment = try await c.registry.create(c.r("deployments", "apps"), namespace: "default", object: WorkloadFixtures.deployment())
        #expect(deployment[path: ["spec", "template", "spec", "tolerations"]] == nil)
    }
}
