import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// LimitRanger admission: LimitRanges give new pods' containers default limits and requests
/// (and say so in an annotation), and refuse containers, pods and claims outside their bounds
/// with kube's words.
struct LimitRangeTests {
    /// A cluster with LimitRanger and one LimitRange `lr` whose `spec.limits` is `limits` (JSON).
    static func cluster(limits: String) async throws -> TestCluster {
        let c = try await TestCluster(admission: AdmissionChain([LimitRanger()]))
        _ = try await c.registry.create(c.r("limitranges"), namespace: "default",
                                        object: json(#"{"metadata":{"name":"lr"},"spec":{"limits":\#(limits)}}"#))
        return c
    }

    /// A pod whose containers are `c` (busybox) with the given `resources` JSON, by name.
    static func pod(_ name: String, containers: [(String, String)], initContainers: [(String, String)] = []) -> JSONValue {
        func list(_ items: [(String, String)]) -> JSONValue {
            .array(items.map { json(#"{"name":"\#($0.0)","image":"busybox:1.35","resources":\#($0.1)}"#) })
        }
        var spec: JSONValue = ["containers": list(containers)]
        if !initContainers.isEmpty { spec["initContainers"] = list(initContainers) }
        return ["metadata": ["name": .string(name)], "spec": spec]
    }

    func create(_ c: TestCluster, _ pod: JSONValue) async throws -> JSONValue {
        try await c.registry.create(c.r("pods"), namespace: "default", object: pod)
    }

    @Test func defaultsFillWhatContainersLackAndTheAnnotationSaysWhat() async throws {
        let c = try await Self.cluster(limits: #"[{"type":"Container","default":{"cpu":"500m","memory":"256Mi"},"defaultRequest":{"cpu":"100m"}}]"#)
        let pod = try await create(c, Self.pod("p", containers: [("a", "{}"), ("b", #"{"limits":{"cpu":"1"}}"#)],
                                               initContainers: [("i", "{}")]))
        let a = pod[path: ["spec", "containers"]]?.arrayValue?[0]["resources"]
        #expect(a == json(#"{"requests":{"cpu":"100m","memory":"256Mi"},"limits":{"cpu":"500m","memory":"256Mi"}}"#))
        // b's own limit is its request (kube defaults requests to limits before admission);
        // memory's default request is the default limit.
        let b = pod[path: ["spec", "containers"]]?.arrayValue?[1]["resources"]
        #expect(b == json(#"{"requests":{"cpu":"1","memory":"256Mi"},"limits":{"cpu":"1","memory":"256Mi"}}"#))
        let i = pod[path: ["spec", "initContainers"]]?.arrayValue?[0]["resources"]
        #expect(i == a)
        #expect(pod[path: ["metadata", "annotations", "kubernetes.io/limit-ranger"]]?.stringValue
            == "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a; "
            + "memory request for container b; memory limit for container b; "
            + "cpu, memory request for init container i; cpu, memory limit for init container i")
        #expect(pod[path: ["status", "qosClass"]] == "Burstable")
    }

    @Test func maxAndMinDefaultTheLimitAndTheRequest() async throws {
        // SetDefaults_LimitRangeItem: default ← max, defaultRequest ← default, then ← min.
        let c = try await Self.cluster(limits: #"[{"type":"Container","max":{"cpu":"800m"},"min":{"cpu":"200m","memory":"64Mi"}}]"#)
        let pod = try await create(c, Self.pod("p", containers: [("c", "{}")]))
        #expect(pod[path: ["spec", "containers"]]?.arrayValue?[0]["resources"]
            == json(#"{"requests":{"cpu":"800m","memory":"64Mi"},"limits":{"cpu":"800m"}}"#))
    }

    @Test func withoutALimitRangePodsAreLeftAlone() async throws {
        let c = try await TestCluster(admission: AdmissionChain([LimitRanger()]))
        let pod = try await create(c, Self.pod("p", containers: [("c", "{}")]))
        #expect(pod[path: ["spec", "containers"]]?.arrayValue?[0]["resources"] == [:])
        #expect(pod[path: ["metadata", "annotations"]] == nil)
    }

    @Test(arguments: [
        (#"[{"type":"Container","min":{"cpu":"100m"},"max":{"memory":"1Gi"}}]"#,
         #"{"requests":{"cpu":"50m"},"limits":{"memory":"2Gi"}}"#,
         "[minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Container is 1Gi, but limit is 2Gi]"),
        (#"[{"type":"Container","maxLimitRequestRatio":{"cpu":"4"}}]"#,
         #"{"requests":{"cpu":"200m"},"limits":{"cpu":"2"}}"#,
         "cpu max limit to request ratio per Container is 4, but provided ratio is 10.000000"),
        (#"[{"type":"Container","maxLimitRequestRatio":{"cpu":"4"}}]"#,
         #"{"requests":{"cpu":"0"},"limits":{"cpu":"1"}}"#,
         "cpu max limit to request ratio per Container is 4, but no request is specified or request is 0"),
        (#"[{"type":"Container","min":{"memory":"64Mi"}},{"type":"Container","min":{"memory":"128Mi"}}]"#,
         #"{"requests":{"memory":"100Mi"}}"#,
         "minimum memory usage per Container is 128Mi, but request is 100Mi"),
    ])
    func containersOutsideTheBoundsAreForbidden(limits: String, resources: String, message: String) async throws {
        let c = try await Self.cluster(limits: limits)
        let e = await apiError { _ = try await create(c, Self.pod("x", containers: [("c", resources)])) }
        #expect(e?.code == 403)
        #expect(e?.reason == "Forbidden")
        #expect(e?.message == "pods \"x\" is forbidden: " + message)
    }

    @Test func containersWithinTheBoundsAreAdmitted() async throws {
        let c = try await Self.cluster(limits: #"[{"type":"Container","min":{"cpu":"100m"},"max":{"memory":"1Gi"},"maxLimitRequestRatio":{"cpu":"4"}}]"#)
        let pod = try await create(c, Self.pod("ok", containers: [("c", #"{"requests":{"cpu":"250m"},"limits":{"cpu":"1","memory":"1Gi"}}"#)]))
        #expect(pod[path: ["spec", "containers"]]?.arrayValue?[0][path: ["resources", "requests", "memory"]] == "1Gi")
    }

    @Test func podItemsBoundTheSumOfTheContainers() async throws {
        let c = try await Self.cluster(limits: #"[{"type":"Pod","max":{"cpu":"1","memory":"1Gi"}}]"#)
        let half = #"{"limits":{"cpu":"400m","memory":"512Mi"}}"#
        _ = try await create(c, Self.pod("fits", containers: [("a", half), ("b", half)]))
        let more = #"{"limits":{"cpu":"600m","memory":"512Mi"}}"#
        let e = await apiError { _ = try await create(c, Self.pod("big", containers: [("a", more), ("b", more)])) }
        #expect(e?.code == 403)
        #expect(e?.message == "pods \"big\" is forbidden: maximum cpu usage per Pod is 1, but limit is 1200m")
        // An init container counts as the largest of itself and the containers' sum.
        let e2 = await apiError { _ = try await create(c, Self.pod("init", containers: [("a", half)],
                                                                   initContainers: [("i", #"{"limits":{"cpu":"1500m","memory":"1Gi"}}"#)])) }
        #expect(e2?.message == "pods \"init\" is forbidden: maximum cpu usage per Pod is 1, but limit is 1500m")
    }

    @Test func claimsAreBoundByTheirStorageRequestOnCreateAndResize() async throws {
        let c = try await Self.cluster(limits: #"[{"type":"PersistentVolumeClaim","min":{"storage":"1Gi"},"max":{"storage":"5Gi"}}]"#)
        func claim(_ name: String, _ size: String) -> JSONValue {
            json(#"{"metadata":{"name":"\#(name)"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"\#(size)"}}}}"#)
        }
        let claims = c.r("persistentvolumeclaims")
        let big = await apiError { _ = try await c.registry.create(claims, namespace: "default", object: claim("big", "10Gi")) }
        #expect(big?.code == 403)
        #expect(big?.message == "persistentvolumeclaims \"big\" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi")
        let small = await apiError { _ = try await c.registry.create(claims, namespace: "default", object: claim("small", "500Mi")) }
        #expect(small?.message == "persistentvolumeclaims \"small\" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi")
        var ok = try await c.registry.create(claims, namespace: "default", object: claim("ok", "2Gi"))
        ok[path: ["spec", "resources", "requests", "storage"]] = "6Gi"
        let resize = await apiError { _ = try await c.registry.update(claims, namespace: "default", name: "ok", object: ok) }
        #expect(resize?.message == "persistentvolumeclaims \"ok\" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 6Gi")
    }

    @Test func podUpdatesAreNotChecked() async throws {
        // A pod made before the LimitRange keeps working: kube skips pod updates.
        let c = try await TestCluster(admission: AdmissionChain([LimitRanger()]))
        var pod = try await create(c, Self.pod("old", containers: [("c", #"{"requests":{"cpu":"10m"}}"#)]))
        _ = try await c.registry.create(c.r("limitranges"), namespace: "default",
                                        object: json(#"{"metadata":{"name":"lr"},"spec":{"limits":[{"type":"Container","min":{"cpu":"100m"}}]}}"#))
        pod[path: ["metadata", "labels"]] = ["touched": "yes"]
        let updated = try await c.registry.update(c.r("pods"), namespace: "default", name: "old", object: pod)
        #expect(updated.labels["touched"] == "yes")
        #expect(updated[path: ["metadata", "annotations"]] == nil)
    }
}
