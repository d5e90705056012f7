import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// ResourceQuota admission and usage: writes over a quota's hard limits are refused with
/// kube's words, admitted ones are charged to `status.used`, and the controller gives back
/// what deleted and finished objects held.
struct ResourceQuotaTests {
    /// A cluster with ResourceQuota admission (after LimitRanger, as kube orders them) and
    /// quotas made from `spec` JSON, by name.
    static func cluster(quotas: [(String, String)]) async throws -> TestCluster {
        let c = try await TestCluster(admission: AdmissionChain([LimitRanger(), ResourceQuotaAdmission()]))
        for (name, spec) in quotas {
            _ = try await c.registry.create(c.r("resourcequotas"), namespace: "default",
                                            object: json(#"{"metadata":{"name":"\#(name)"},"spec":\#(spec)}"#))
        }
        return c
    }

    /// A one-container pod (`c`) with `resources` JSON and extra spec fields.
    static func pod(_ name: String, resources: String = "{}", spec: String = "") -> JSONValue {
        json(#"{"metadata":{"name":"\#(name)"},"spec":{\#(spec)"containers":[{"name":"c","image":"busybox:1.35","resources":\#(resources)}]}}"#)
    }

    func create(_ c: TestCluster, _ pod: JSONValue, dryRun: Bool = false) async throws {
        _ = try await c.registry.create(c.r("pods"), namespace: "default", object: pod, dryRun: dryRun)
    }

    func status(_ c: TestCluster, _ quota: String) async throws -> JSONValue? {
        try await c.registry.get(c.r("resourcequotas"), namespace: "default", name: quota)["status"]
    }

    @Test func podsAreCountedAndTheOneOverTheLimitIsRefused() async throws {
        let c = try await Self.cluster(quotas: [("q", #"{"hard":{"pods":"2","count/pods":"5"}}"#)])
        try await create(c, Self.pod("p1"))
        #expect(try await status(c, "q") == json(#"{"hard":{"pods":"2","count/pods":"5"},"used":{"pods":"1","count/pods":"1"}}"#))
        try await create(c, Self.pod("p2"))
        let e = await apiError { try await create(c, Self.pod("p3")) }
        #expect(e?.code == 403)
        #expect(e?.reason == "Forbidden")
        #expect(e?.message == "pods \"p3\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2")
        #expect(try await status(c, "q")?["used"] == json(#"{"pods":"2","count/pods":"2"}"#))
    }

    @Test func concurrentCreatesNeverTakeMoreThanTheQuota() async throws {
        let c = try await Self.cluster(quotas: [("q", #"{"hard":{"pods":"3"}}"#)])
        let results = await withTaskGroup(of: Int?.self) { group in
            for i in 0..<10 {
                group.addTask { await apiError { try await create(c, Self.pod("p\(i)")) }?.code ?? 201 }
            }
            return await group.reduce(into: [Int: Int]()) { $0[$1 ?? 0, default: 0] += 1 }
        }
        #expect(results == [201: 3, 403: 7])
        #expect(try await status(c, "q")?["used"] == ["pods": "3"])
        let pods = try await c.registry.list(c.r("pods"), namespace: "default", options: ListOptions())
        #expect(pods["items"]?.arrayValue?.count == 3)
    }

    @Test func computeRequestsAndLimitsAreSummed() async throws {
        let c = try await Self.cluster(quotas: [("compute", #"{"hard":{"requests.cpu":"1","requests.memory":"1Gi","limits.cpu":"2"}}"#)])
        let resources = #"{"requests":{"cpu":"300m","memory":"256Mi"},"limits":{"cpu":"600m","memory":"256Mi"}}"#
        for name in ["a", "b", "c"] { try await create(c, Self.pod(name, resources: resources)) }
        #expect(try await status(c, "compute")?["used"] == json(#"{"requests.cpu":"900m","requests.memory":"768Mi","limits.cpu":"1800m"}"#))
        let e = await apiError { try await create(c, Self.pod("d", resources: resources)) }
        #expect(e?.message == "pods \"d\" is forbidden: exceeded quota: compute, requested: limits.cpu=600m,requests.cpu=300m, "
            + "used: limits.cpu=1800m,requests.cpu=900m, limited: limits.cpu=2,requests.cpu=1")
        // What still fits is admitted.
        try await create(c, Self.pod("e", resources: #"{"requests":{"cpu":"100m","memory":"256Mi"},"limits":{"cpu":"200m"}}"#))
        #expect(try await status(c, "compute")?["used"] == json(#"{"requests.cpu":"1","requests.memory":"1Gi","limits.cpu":"2"}"#))
    }

    @Test func aQuotaOnCPUNeedsEveryContainerToSayIt() async throws {
        let c = try await Self.cluster(quotas: [("q", #"{"hard":{"limits.cpu":"2","requests.cpu":"1"}}"#)])
        let e = await apiError { try await create(c, Self.pod("p")) }
        #expect(e?.code == 403)
        #expect(e?.message == "pods \"p\" is forbidden: failed quota: q: must specify limits.cpu for: c; requests.cpu for: c")
        // A LimitRange's defaults say it for the pod.
        _ = try await c.registry.create(c.r("limitranges"), namespace: "default", object: json(
            #"{"metadata":{"name":"lr"},"spec":{"limits":[{"type":"Container","default":{"cpu":"500m"},"defaultRequest":{"cpu":"250m"}}]}}"#))
        try await create(c, Self.pod("p"))
        #expect(try await status(c, "q")?["used"] == json(#"{"limits.cpu":"500m","requests.cpu":"250m"}"#))
    }

    @Test func finishedAndDeletedPodsGiveTheirQuotaBackOnTheControllersPass() async throws {
        let c = try await Self.cluster(quotas: [("q", #"{"hard":{"pods":"2","count/pods":"10"}}"#)])
        try await create(c, Self.pod("p1"))
        try await create(c, Self.pod("p2"))
        var p1 = try await c.registry.get(c.r("pods"), namespace: "default", name: "p1")
        p1[path: ["status", "phase"]] = "Succeeded"
        _ = try await c.registry.update(c.r("pods"), namespace: "default", name: "p1", object: p1, subresource: "status")
        // Until the controller measures again, the quota's status holds the charge.
        #expect(await apiError { try await create(c, Self.pod("p3")) }?.code == 403)
        try await ResourceQuotaController(registry: c.registry).sync()
        // A finished pod still counts for count/pods, not for pods.
        #expect(try await status(c, "q")?["used"] == json(#"{"pods":"1","count/pods":"2"}"#))
        try await create(c, Self.pod("p3"))
        _ = try await c.registry.delete(c.r("pods"), namespace: "default", name: "p2")
        try await ResourceQuotaController(registry: c.registry).sync()
        #expect(try await status(c, "q")?["used"] == json(#"{"pods":"1","count/pods":"2"}"#))
        try await create(c, Self.pod("p4"))
    }

    @Test func aDryRunIsCheckedButChargesNothing() async throws {
        let c = try await Self.cluster(quotas: [("q", #"{"hard":{"pods":"1"}}"#)])
        try await ResourceQuotaController(registry: c.registry).sync()
        let before = try await status(c, "q")
        #expect(before == json(#"{"hard":{"pods":"1"},"used":{"pods":"0"}}"#))
        try await create(c, Self.pod("p1"), dryRun: true)
        #expect(try await status(c, "q") == before)
        try await create(c, Self.pod("p1"))
        let e = await apiError { try await create(c, Self.pod("p2"), dryRun: true) }
        #expect(e?.message == "pods \"p2\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1")
    }

    @Test func bestEffortScopesSplitThePods() async throws {
        let c = try await Self.cluster(quotas: [("best", #"{"hard":{"pods":"1"},"scopes":["BestEffort"]}"#),
                                                ("burst", #"{"hard":{"pods":"1"},"scopes":["NotBestEffort"]}"#)])
        let burstable = #"{"requests":{"cpu":"100m"}}"#
        try await create(c, Self.pod("b1"))
        try await create(c, Self.pod("n1", resources: burstable))
        #expect(try await status(c, "best")?["used"] == ["pods": "1"])
        #expect(try await status(c, "burst")?["used"] == ["pods": "1"])
        let e1 = await apiError { try await create(c, Self.pod("b2")) }
        #expect(e1?.message == "pods \"b2\" is forbidden: exceeded quota: best, requested: pods=1, used: pods=1, limited: pods=1")
        let e2 = await apiError { try await create(c, Self.pod("n2", resources: burstable)) }
        #expect(e2?.message == "pods \"n2\" is forbidden: exceeded quota: burst, requested: pods=1, used: pods=1, limited: pods=1")
    }

    @Test func terminatingAndPriorityClassScopes() async throws {
        let c = try await Self.cluster(quotas: [
            ("jobs", #"{"hard":{"pods":"1"},"scopes":["Terminating"]}"#),
            ("high", #"{"hard":{"pods":"1"},"scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"In","values":["high"]}]}}"#),
        ])
        try await create(c, Self.pod("t1", spec: #""activeDeadlineSeconds":60,"#))
        #expect(await apiError { try await create(c, Self.pod("t2", spec: #""activeDeadlineSeconds":60,"#)) }?.code == 403)
        try await create(c, Self.pod("h1", spec: #""priorityClassName":"high","#))
        let e = await apiError { try await create(c, Self.pod("h2", spec: #""priorityClassName":"high","#)) }
        #expect(e?.message.contains("exceeded quota: high,") == true)
        // In neither scope: not limited.
        for name in ["x1", "x2", "x3"] { try await create(c, Self.pod(name, spec: #""priorityClassName":"low","#)) }
        try await ResourceQuotaController(registry: c.registry).sync()
        #expect(try await status(c, "jobs")?["used"] == ["pods": "1"])
        #expect(try await status(c, "high")?["used"] == ["pods": "1"])
    }

    @Test func objectCountsServicesAndClaims() async throws {
        let c = try await Self.cluster(quotas: [("objects", #"{"hard":{"configmaps":"1","services.nodeports":"1","services":"3","requests.storage":"3Gi","persistentvolumeclaims":"5"}}"#)])
        try await c.configMap("a")
        let e = await apiError { try await c.configMap("b") }
        #expect(e?.message == "configmaps \"b\" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=1, limited: configmaps=1")
        let services = c.r("services")
        let twoPorts = json(#"{"metadata":{"name":"np"},"spec":{"type":"NodePort","ports":[{"name":"a","port":80},{"name":"b","port":81}]}}"#)
        let np = await apiError { _ = try await c.registry.create(services, namespace: "default", object: twoPorts) }
        #expect(np?.message == "services \"np\" is forbidden: exceeded quota: objects, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1")
        _ = try await c.registry.create(services, namespace: "default", object: json(#"{"metadata":{"name":"ip"},"spec":{"ports":[{"port":80}]}}"#))
        let claims = c.r("persistentvolumeclaims")
        func claim(_ name: String, _ size: String) -> JSONValue {
            json(#"{"metadata":{"name":"\#(name)"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"\#(size)"}}}}"#)
        }
        _ = try await c.registry.create(claims, namespace: "default", object: claim("one", "2Gi"))
        let big = await apiError { _ = try await c.registry.create(claims, namespace: "default", object: claim("two", "2Gi")) }
        #expect(big?.message == "persistentvolumeclaims \"two\" is forbidden: exceeded quota: objects, requested: requests.storage=2Gi, used: requests.storage=2Gi, limited: requests.storage=3Gi")
        try await ResourceQuotaController(registry: c.registry).sync()
        #expect(try await status(c, "objects")?["used"] == json(
            #"{"configmaps":"1","services.nodeports":"0","services":"1","requests.storage":"2Gi","persistentvolumeclaims":"1"}"#))
    }

    @Test func theControllerFillsTheStatusOfANewQuota() async throws {
        let c = try await TestCluster()
        try await c.configMap("one")
        _ = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("p", resources: #"{"requests":{"memory":"100Mi"}}"#))
        _ = try await c.registry.create(c.r("resourcequotas"), namespace: "default", object: json(
            #"{"metadata":{"name":"q"},"spec":{"hard":{"count/configmaps":"4","requests.memory":"1Gi","pods":"10","example.com/unknown":"1"}}}"#))
        let controller = ResourceQuotaController(registry: c.registry)
        #expect(try await controller.sync() == false)
        #expect(try await status(c, "q") == json(#"""
            {"hard":{"count/configmaps":"4","requests.memory":"1Gi","pods":"10","example.com/unknown":"1"},
             "used":{"count/configmaps":"1","requests.memory":"100Mi","pods":"1"}}
            """#))
        // Nothing changed: nothing is written.
        let version = try await c.registry.get(c.r("resourcequotas"), namespace: "default", name: "q").resourceVersion
        try await controller.sync()
        #expect(try await c.registry.get(c.r("resourcequotas"), namespace: "default", name: "q").resourceVersion == version)
    }
}
