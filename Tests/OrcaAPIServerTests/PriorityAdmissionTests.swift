import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// PriorityClasses and the Priority admission: pods get their class's priority and preemption
/// policy (or the global default's, or 0), may not bring other values, and may not name an
/// unknown class; one global default only; the built-in classes are bootstrapped.
struct PriorityAdmissionTests {
    static func cluster() async throws -> TestCluster {
        try await TestCluster(admission: AdmissionChain([PriorityAdmission()]))
    }

    static func priorityClass(_ name: String, value: Int64, globalDefault: Bool = false, policy: String? = nil) -> JSONValue {
        var pc: JSONValue = ["metadata": ["name": .string(name)], "value": .int(value)]
        if globalDefault { pc["globalDefault"] = true }
        if let policy { pc["preemptionPolicy"] = .string(policy) }
        return pc
    }

    static func pod(_ name: String, className: String? = nil, priority: Int64? = nil, policy: String? = nil) -> JSONValue {
        var spec = TestCluster.podSpec
        if let className { spec["priorityClassName"] = .string(className) }
        if let priority { spec["priority"] = .int(priority) }
        if let policy { spec["preemptionPolicy"] = .string(policy) }
        return ["metadata": ["name": .string(name)], "spec": spec]
    }

    @discardableResult
    static func create(_ c: TestCluster, _ pc: JSONValue) async throws -> JSONValue {
        try await c.registry.create(c.r("priorityclasses", "scheduling.k8s.io"), namespace: nil, object: pc)
    }

    @Test func podsGetTheirClassValueAndPreemptionPolicy() async throws {
        let c = try await Self.cluster()
        try await Self.create(c, Self.priorityClass("high", value: 1000, policy: "Never"))
        let pod = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("p", className: "high"))
        #expect(pod[path: ["spec", "priority"]] == 1000)
        #expect(pod[path: ["spec", "preemptionPolicy"]] == "Never")
        #expect(pod[path: ["spec", "priorityClassName"]] == "high")
    }

    @Test func podsWithoutAClassGetTheGlobalDefaultOrZero() async throws {
        let c = try await Self.cluster()
        let plain = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("a"))
        #expect(plain[path: ["spec", "priority"]] == 0)
        #expect(plain[path: ["spec", "preemptionPolicy"]] == "PreemptLowerPriority")
        #expect(plain[path: ["spec", "priorityClassName"]] == nil)

        try await Self.create(c, Self.priorityClass("low", value: -5))
        try await Self.create(c, Self.priorityClass("standard", value: 50, globalDefault: true, policy: "Never"))
        let defaulted = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("b"))
        #expect(defaulted[path: ["spec", "priority"]] == 50)
        #expect(defaulted[path: ["spec", "preemptionPolicy"]] == "Never")
        #expect(defaulted[path: ["spec", "priorityClassName"]] == "standard")
    }

    @Test func anUnknownClassIsForbidden() async throws {
        let c = try await Self.cluster()
        let e = await apiError { _ = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("x", className: "foo")) }
        #expect(e?.code == 403)
        #expect(e?.message == "pods \"x\" is forbidden: no PriorityClass with name foo was found")
    }

    /// A pod may state its priority and preemption policy only as the class would set them.
    @Test(arguments: [
        (Int64(7), nil, "pods \"p\" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name"),
        (Int64(1000), nil, nil),
        (nil, "PreemptLowerPriority", "pods \"p\" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name"),
        (Int64(1000), "Never", nil),
    ] as [(Int64?, String?, String?)])
    func explicitValuesMustMatchTheClass(priority: Int64?, policy: String?, refusal: String?) async throws {
        let c = try await Self.cluster()
        try await Self.create(c, Self.priorityClass("high", value: 1000, policy: "Never"))
        let e = await apiError {
            _ = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("p", className: "high", priority: priority, policy: policy))
        }
        #expect(e?.message == refusal)
        if refusal != nil { #expect(e?.code == 403) }
    }

    @Test func anUpdateKeepsThePriorityCreationSet() async throws {
        let c = try await Self.cluster()
        try await Self.create(c, Self.priorityClass("high", value: 1000, policy: "Never"))
        var pod = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("p", className: "high"))
        pod[path: ["spec", "priority"]] = nil
        pod[path: ["spec", "preemptionPolicy"]] = nil
        pod[path: ["metadata", "labels"]] = ["touched": "yes"]
        let updated = try await c.registry.update(c.r("pods"), namespace: "default", name: "p", object: pod)
        #expect(updated[path: ["spec", "priority"]] == 1000)
        #expect(updated[path: ["spec", "preemptionPolicy"]] == "Never")
        #expect(updated[path: ["metadata", "labels", "touched"]] == "yes")
    }

    @Test func onlyOneClassIsTheGlobalDefault() async throws {
        let c = try await Self.cluster()
        let pcs = c.r("priorityclasses", "scheduling.k8s.io")
        var first = try await Self.create(c, Self.priorityClass("first", value: 10, globalDefault: true))
        let second = await apiError { _ = try await Self.create(c, Self.priorityClass("second", value: 20, globalDefault: true)) }
        #expect(second?.code == 403)
        #expect(second?.message == "priorityclasses.scheduling.k8s.io \"second\" is forbidden: PriorityClass first is already marked as default. Only one default can exist")

        // The default itself may be updated; another class may not become the default.
        first["description"] = "still the default"
        _ = try await c.registry.update(pcs, namespace: nil, name: "first", object: first)
        var other = try await Self.create(c, Self.priorityClass("other", value: 30))
        other["globalDefault"] = true
        let promoted = await apiError { _ = try await c.registry.update(pcs, namespace: nil, name: "other", object: other) }
        #expect(promoted?.message == "priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass first is already marked as default. Only one default can exist")
    }

    @Test(arguments: [
        (PriorityAdmissionTests.priorityClass("big", value: 1_000_000_001),
         "PriorityClass \"big\" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000"),
        (PriorityAdmissionTests.priorityClass("system-mine", value: 5),
         "PriorityClass \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"),
        (PriorityAdmissionTests.priorityClass("system-node-critical", value: 5),
         "PriorityClass \"system-node-critical\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000"),
        (PriorityAdmissionTests.priorityClass("odd", value: 1, policy: "Sometimes"),
         "PriorityClass \"odd\" is invalid: preemptionPolicy: Unsupported value: \"Sometimes\": supported values: \"PreemptLowerPriority\", \"Never\""),
    ] as [(JSONValue, String)])
    func invalidClassesAreRefused(pc: JSONValue, message: String) async throws {
        let c = try await Self.cluster()
        let e = await apiError { _ = try await Self.create(c, pc) }
        #expect(e?.code == 422)
        #expect(e?.message == message)
    }

    @Test func valueAndPreemptionPolicyNeverChange() async throws {
        let c = try await Self.cluster()
        let pcs = c.r("priorityclasses", "scheduling.k8s.io")
        let pc = try await Self.create(c, Self.priorityClass("fixed", value: 10))
        #expect(pc["preemptionPolicy"] == "PreemptLowerPriority")
        var changed = pc
        changed["value"] = 11
        changed["preemptionPolicy"] = "Never"
        let e = await apiError { _ = try await c.registry.update(pcs, namespace: nil, name: "fixed", object: changed) }
        #expect(e?.code == 422)
        #expect(e?.message == "PriorityClass \"fixed\" is invalid: [value: Forbidden: may not be changed in an update., preemptionPolicy: Invalid value: \"Never\": field is immutable]")
    }

    @Test func theSystemClassesAreBootstrappedAndUsableEverywhere() async throws {
        let c = try await Self.cluster()
        try await PriorityClassBootstrap.ensure(registry: c.registry)
        try await PriorityClassBootstrap.ensure(registry: c.registry)
        let pcs = c.r("priorityclasses", "scheduling.k8s.io")
        let node = try await c.registry.get(pcs, namespace: nil, name: "system-node-critical")
        #expect(node["value"] == 2_000_001_000)
        #expect(node["preemptionPolicy"] == "PreemptLowerPriority")
        #expect(node["description"] == "Used for system critical pods that must not be moved from their current node.")
        let cluster = try await c.registry.get(pcs, namespace: nil, name: "system-cluster-critical")
        #expect(cluster["value"] == 2_000_000_000)
        // Not only in kube-system, as since Kubernetes 1.17.
        let pod = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("critical", className: "system-cluster-critical"))
        #expect(pod[path: ["spec", "priority"]] == 2_000_000_000)
    }
}
