import Foundation
import HTTPTypes
import OrcaAPI
import OrcaCore
import Testing
@testable import OrcaAPIServer

/// API details the Kubernetes conformance tests check (issue 15): immutable ConfigMaps and
/// Secrets, `remainingItemCount` on paged lists, and 406 for a Table of a review.
struct APIConformanceTests {
    @Test(arguments: ["configmaps", "secrets"])
    func anImmutableObjectRefusesChangesToItsData(resource: String) async throws {
        let c = try await TestCluster()
        let r = c.r(resource)
        _ = try await c.registry.create(r, namespace: "default", object: [
            "metadata": ["name": "frozen"], "data": ["a": "YQ=="], "immutable": true,
        ])
        func change(_ edit: @escaping @Sendable (inout JSONValue) -> Void) async -> APIError? {
            await apiError {
                _ = try await c.registry.guaranteedUpdate(r, namespace: "default", name: "frozen") { cur in
                    var next = cur
                    edit(&next)
                    return next
                }
            }
        }
        let data = await change { $0[path: ["data", "a"]] = "Yg==" }
        #expect(data?.code == 422)
        #expect(data?.message.contains("data: Forbidden: field is immutable when `immutable` is set") == true, "\(data?.message ?? "")")
        let unfrozen = await change { $0["immutable"] = false }
        #expect(unfrozen?.message.contains("immutable: Forbidden: field is immutable when `immutable` is set") == true)
        // Metadata may still change, and the object can be deleted.
        #expect(await change { $0[path: ["metadata", "labels"]] = ["x": "y"] } == nil)
        _ = try await c.registry.delete(r, namespace: "default", name: "frozen")
    }

    @Test func aPagedListTellsHowManyItemsRemain() async throws {
        let c = try await TestCluster()
        let r = c.r("configmaps")
        for i in 0..<7 { _ = try await c.registry.create(r, namespace: "default", object: ["metadata": ["name": .string("cm\(i)")]]) }
        var options = ListOptions()
        options.limit = 3
        var seen = 0
        var remaining: [Int64?] = []
        while true {
            let page = try await c.registry.list(r, namespace: "default", options: options)
            seen += page["items"]?.arrayValue?.count ?? 0
            remaining.append(page[path: ["metadata", "remainingItemCount"]]?.intValue)
            guard let token = page[path: ["metadata", "continue"]]?.stringValue else { break }
            options.continueToken = token
            // Created meanwhile: not in this list's snapshot, nor in its count.
            _ = try await c.registry.create(r, namespace: "default", object: ["metadata": ["name": .string("late\(seen)")]])
        }
        #expect(seen == 7)
        #expect(remaining == [4, 1, nil])
        // With a selector the count is unknown and left out.
        var selected = ListOptions()
        selected.limit = 1
        selected.labelSelector = try LabelMatcher(parsing: "!missing")
        let page = try await c.registry.list(r, namespace: "default", options: selected)
        #expect(page[path: ["metadata", "continue"]] != nil && page[path: ["metadata", "remainingItemCount"]] == nil)
    }

    @Test func aReviewAskedForAsATableIs406() async throws {
        let s = try await AuthorizationTests.Server()
        let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                 "spec": ["resourceAttributes": ["verb": "list", "resource": "pods"]]]
        let reply = try await s.send(.post, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", token: AuthorizationTests.Server.bobToken,
                                     body: review, headers: [.accept: "application/json;as=Table;v=v1;g=meta.k8s.io"])
        #expect(reply.status == 406)
        #expect(reply.body["reason"] == "NotAcceptable")
    }

    @Test(arguments: [
        ("2026-12-07T00:45:00Z", "2026-12-07T00:45:00.000000Z"),
        ("2026-12-07T00:45:00.123456+00:00", "2026-12-07T00:45:00.123456Z"),
        ("2026-12-07T02:45:00.5+02:00", "2026-12-07T00:45:00.500000Z"),
        ("2026-12-07T00:45:00.123456789Z", "2026-12-07T00:45:00.123456Z"),
    ])
    func timesAreWrittenInKubesFormats(sent: String, micro: String) async throws {
        let c = try await TestCluster()
        let event = try await c.registry.create(c.r("events"), namespace: "default", object: [
            "metadata": ["name": "e"], "involvedObject": ["kind": "Pod", "name": "p", "namespace": "default"],
            "reason": "R", "message": "m", "type": "Normal", "action": "A", "reportingComponent": "kopf", "reportingInstance": "dev",
            "eventTime": .string(sent), "firstTimestamp": .string(sent), "lastTimestamp": .string(sent),
        ])
        // MicroTime: six digits in UTC; Time: seconds in UTC.
        #expect(event["eventTime"]?.stringValue == micro)
        #expect(event["firstTimestamp"]?.stringValue == String(micro.prefix(19)) + "Z")
        let lease = try await c.registry.create(c.r("leases", "coordination.k8s.io"), namespace: "default", object: [
            "metadata": ["name": "l"], "spec": ["holderIdentity": "n", "renewTime": .string(sent), "acquireTime": .string(sent)],
        ])
        #expect(lease[path: ["spec", "renewTime"]]?.stringValue == micro)
    }

    @Test func aValueThatIsNotATimeIs400() async throws {
        let c = try await TestCluster()
        let e = await apiError {
            _ = try await c.registry.create(c.r("leases", "coordination.k8s.io"), namespace: "default", object: [
                "metadata": ["name": "l"], "spec": ["renewTime": "yesterday"],
            ])
        }
        #expect(e?.code == 400)
        #expect(e?.message.contains("spec.renewTime: parsing time \"yesterday\"") == true, "\(e?.message ?? "")")
    }

    @Test func microStringHasSixDigitsAndDateReadsRFC3339() {
        let date = Date(timeIntervalSince1970: 1_765_068_300.000_042)
        #expect(KubernetesTime.microString(date) == "2025-12-07T00:45:00.000042Z")
        #expect(KubernetesTime.microString(Date(timeIntervalSince1970: 1_765_068_300)) == "2025-12-07T00:45:00.000000Z")
        #expect(KubernetesTime.date("2025-12-07T00:45:00.000042Z").map { KubernetesTime.microString($0) } == "2025-12-07T00:45:00.000042Z")
        #expect(KubernetesTime.date("2025-12-07T01:45:00+01:00") == Date(timeIntervalSince1970: 1_765_068_300))
        for bad in ["", "2025-12-07", "2025-12-07T00:45:00", "2025-13-07T00:45:00Z", "2025-02-30T00:45:00Z", "2025-12-07T00:45:00.Z", "x2025-12-07T00:45:00Z"] {
            #expect(KubernetesTime.date(bad) == nil, "\(bad)")
        }
    }

    /// One object of each kind of the groups Kubernetes 1.32 serves that Orca stores without
    /// acting on them: (group, resource, namespaced, body).
    static let servedKinds: [(String, String, Bool, String)] = [
        ("storage.k8s.io", "volumeattachments", false,
         #"{"spec": {"attacher": "csi.example.com", "nodeName": "n1", "source": {"persistentVolumeName": "pv1"}}}"#),
        ("storage.k8s.io", "csidrivers", false, #"{"spec": {"attachRequired": false}}"#),
        ("storage.k8s.io", "csinodes", false, #"{"spec": {"drivers": [{"name": "csi.example.com", "nodeID": "n1"}]}}"#),
        ("storage.k8s.io", "csistoragecapacities", true, #"{"storageClassName": "local-path", "capacity": "1Gi"}"#),
        ("networking.k8s.io", "ingresses", true,
         #"{"spec": {"rules": [{"host": "a.example", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}"#),
        ("networking.k8s.io", "ingressclasses", false, #"{"spec": {"controller": "example.com/ingress"}}"#),
        ("networking.k8s.io", "networkpolicies", true, #"{"spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}"#),
        ("node.k8s.io", "runtimeclasses", false, #"{"handler": "runc"}"#),
        ("flowcontrol.apiserver.k8s.io", "flowschemas", false,
         #"{"spec": {"priorityLevelConfiguration": {"name": "global-default"}, "matchingPrecedence": 1000}}"#),
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", false,
         #"{"spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 5}}}"#),
        ("apiregistration.k8s.io", "apiservices", false,
         #"{"spec": {"group": "metrics.example.com", "version": "v1", "groupPriorityMinimum": 100, "versionPriority": 10}}"#),
    ]

    @Test(arguments: servedKinds.indices)
    func theOtherServedGroupsTakeEveryVerb(index: Int) async throws {
        let (group, resource, namespaced, body) = Self.servedKinds[index]
        let c = try await TestCluster()
        let r = try #require(c.registry.catalog.resource(group: group, version: "v1", resource: resource))
        #expect(r.namespaced == namespaced)
        let name = index == 10 ? "v1.metrics.example.com" : "one"
        let ns: String? = namespaced ? "default" : nil
        var object = json(body)
        object["metadata"] = ["name": .string(name)]
        let stream = try await c.registry.watch(r, namespace: ns, options: ListOptions())
        var events = stream.makeAsyncIterator()
        _ = try await c.registry.create(r, namespace: ns, object: object)
        #expect(try await c.registry.get(r, namespace: ns, name: name).kind == r.kind)
        #expect(try await c.registry.list(r, namespace: ns, options: ListOptions())["items"]?.arrayValue?.count == 1)
        let patched = try await c.registry.guaranteedUpdate(r, namespace: ns, name: name) { cur in
            MergePatch.apply(["metadata": ["labels": ["patched": "yes"]]], to: cur)
        }
        #expect(patched.labels["patched"] == "yes")
        _ = try await c.registry.delete(r, namespace: ns, name: name)
        var seen: [String] = []
        for _ in 0..<3 { seen.append(try #require(try await events.next()).type) }
        #expect(seen == ["ADDED", "MODIFIED", "DELETED"])
    }

    @Test func aRuntimeClassGivesItsPodsItsOverheadAndScheduling() async throws {
        let c = try await TestCluster(admission: AdmissionChain([RuntimeClassAdmission()]))
        _ = try await c.registry.create(c.r("runtimeclasses", "node.k8s.io"), namespace: nil, object: [
            "metadata": ["name": "sandboxed"], "handler": "runc",
            "overhead": ["podFixed": ["cpu": "250m", "memory": "120Mi"]],
            "scheduling": ["nodeSelector": ["sandbox": "yes"], "tolerations": [["key": "sandbox", "operator": "Exists"]]],
        ])
        func pod(_ name: String, runtimeClass: String?, overhead: JSONValue? = nil, nodeSelector: JSONValue? = nil) -> JSONValue {
            var p: JSONValue = ["metadata": ["name": .string(name)], "spec": ["containers": [["name": "c", "image": "busybox"]]]]
            if let runtimeClass { p[path: ["spec", "runtimeClassName"]] = .string(runtimeClass) }
            if let overhead { p[path: ["spec", "overhead"]] = overhead }
            if let nodeSelector { p[path: ["spec", "nodeSelector"]] = nodeSelector }
            return p
        }
        let pods = c.r("pods")
        let created = try await c.registry.create(pods, namespace: "default", object: pod("a", runtimeClass: "sandboxed"))
        #expect(created[path: ["spec", "overhead"]] == ["cpu": "250m", "memory": "120Mi"])
        #expect(created[path: ["spec", "nodeSelector"]] == ["sandbox": "yes"])
        #expect(created[path: ["spec", "tolerations"]]?.arrayValue?.contains(["key": "sandbox", "operator": "Exists"]) == true)
        for (body, message) in [
            (pod("b", runtimeClass: "missing"), "pod rejected: RuntimeClass \"missing\" not found"),
            (pod("c", runtimeClass: "sandboxed", overhead: ["cpu": "1"]), "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"),
            (pod("d", runtimeClass: nil, overhead: ["cpu": "1"]), "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"),
            (pod("e", runtimeClass: "sandboxed", nodeSelector: ["sandbox": "no"]),
             "conflict: runtimeClass.scheduling.nodeSelector[sandbox] = yes; pod.spec.nodeSelector[sandbox] = no"),
        ] {
            let e = await apiError { _ = try await c.registry.create(pods, namespace: "default", object: body) }
            #expect(e?.code == 403)
            #expect(e?.message.hasSuffix(message) == true, "\(e?.message ?? "")")
        }
    }

    @Test func theBuiltInGroupVersionsHaveLocalAPIServices() async throws {
        let c = try await TestCluster()
        try await APIServiceBootstrap.ensure(registry: c.registry)
        try await APIServiceBootstrap.ensure(registry: c.registry)
        let services = c.r("apiservices", "apiregistration.k8s.io")
        let names = try await c.registry.list(services, namespace: nil, options: ListOptions())["items"]?.arrayValue?.compactMap(\.metadataName) ?? []
        #expect(names.contains("v1") && names.contains("v1.apps") && names.contains("v1.networking.k8s.io"), "\(names)")
        #expect(Set(names).count == names.count)
        let apps = try await c.registry.get(services, namespace: nil, name: "v1.apps")
        #expect(apps[path: ["spec", "group"]] == "apps" && apps[path: ["spec", "groupPriorityMinimum"]] == 17800)
        let available = apps[path: ["status", "conditions"]]?.arrayValue?.first
        #expect(available?["type"] == "Available" && available?["status"] == "True" && available?["reason"] == "Local")
    }

    @Test func proxyPathsNameTheObjectSchemeAndPort() {
        func target(_ path: String) -> ProxyTarget? { ProxyTarget(path: path) }
        #expect(target("/api/v1/nodes/n1/proxy/logs/") == .init(resource: .nodes, namespace: nil, id: "n1", path: "/logs/"))
        #expect(target("/api/v1/nodes/n1:10250/proxy/logs/syslog") == .init(resource: .nodes, namespace: nil, id: "n1:10250", path: "/logs/syslog"))
        #expect(target("/api/v1/nodes/https:n1:10250/proxy") == .init(resource: .nodes, namespace: nil, id: "https:n1:10250", path: "/"))
        #expect(target("/api/v1/namespaces/ns/pods/web/proxy") == .init(resource: .pods, namespace: "ns", id: "web", path: "/"))
        #expect(target("/api/v1/namespaces/ns/pods/web:8080/proxy/a/b") == .init(resource: .pods, namespace: "ns", id: "web:8080", path: "/a/b"))
        #expect(target("/api/v1/namespaces/ns/services/https:web:tls/proxy/") == .init(resource: .services, namespace: "ns", id: "https:web:tls", path: "/"))
        #expect(target("/api/v1/namespaces/ns/services/web/proxy/dir/") == .init(resource: .services, namespace: "ns", id: "web", path: "/dir/"))
        #expect(target("/api/v1/nodes/n1/proxy/logs/../../../etc/./passwd")?.path == "/etc/passwd")
        #expect(target("/api/v1/nodes/n1/proxy/logs/..")?.path == "/")
        for none in ["/api/v1/namespaces/ns/pods/web/log", "/api/v1/namespaces/ns/nodes/n1/proxy", "/api/v1/namespaces/ns/configmaps/c/proxy",
                     "/apis/apps/v1/namespaces/ns/pods/web/proxy", "/api/v1/nodes/n1/status"] {
            #expect(target(none) == nil, "\(none)")
        }

        #expect(SchemeNamePort("web") == .init(name: "web"))
        #expect(SchemeNamePort("web:8080")?.portNumber == 8080)
        #expect(SchemeNamePort("https:web:443") == .init(scheme: "https", name: "web", port: "443"))
        #expect(SchemeNamePort(":web:http") == .init(name: "web", port: "http"))
        #expect(SchemeNamePort("web:http")?.portNumber == nil && SchemeNamePort("web:0")?.portNumber == nil)
        #expect(SchemeNamePort("ftp:web:21") == nil && SchemeNamePort(":8080") == nil && SchemeNamePort("a:b:c:d") == nil)

        #expect(APIHandler.proxyAllowed("10.42.0.7") && APIHandler.proxyAllowed("fd00::7"))
        for refused in ["127.0.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "ff02::1", "not-an-ip",
                        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "0:0:0:0:0:0:0:1", "::"] {
            #expect(!APIHandler.proxyAllowed(refused), "\(refused)")
        }
        #expect(APIHandler.proxyAllowed("::ffff:10.42.0.7"))
        #expect(!IPAddress.nonSpecial("::ffff:127.0.0.1", field: "ip").isEmpty)
        let user = UserInfo(name: "u", groups: [])
        let pod = RequestAuthorizer.attributes(user: user, method: .get, path: "/api/v1/namespaces/ns/pods/web:80/proxy/x/y", query: nil)
        #expect(pod.resource == "pods" && pod.subresource == "proxy" && pod.name == "web:80" && pod.namespace == "ns" && pod.verb == "get")
        let node = RequestAuthorizer.attributes(user: user, method: .put, path: "/api/v1/nodes/n1:10250/proxy/logs/", query: nil)
        #expect(node.resource == "nodes" && node.name == "n1:10250" && node.subresource == "proxy" && node.verb == "update")
        let service = RequestAuthorizer.attributes(user: user, method: .delete, path: "/api/v1/namespaces/ns/services/web/proxy", query: nil)
        #expect(service.resource == "services" && service.namespace == "ns" && service.subresource == "proxy" && service.verb == "delete")
        let options = RequestAuthorizer.attributes(user: user, method: .options, path: "/api/v1/namespaces/ns/services/web/proxy/", query: nil)
        #expect(options.verb == "" && options.name == "web")
    }

    @Test func sysctlsAreValidatedAtCreation() async throws {
        let c = try await TestCluster()
        func pod(_ name: String, _ sysctls: JSONValue, hostNetwork: Bool = false) -> JSONValue {
            ["metadata": ["name": .string(name)],
             "spec": ["hostNetwork": .bool(hostNetwork), "securityContext": ["sysctls": sysctls], "containers": [["name": "c", "image": "busybox"]]]]
        }
        _ = try await c.registry.create(c.r("pods"), namespace: "default", object: pod("ok", [
            ["name": "net.ipv4.ip_local_port_range", "value": "1024 65535"], ["name": "kernel.shm_rmid_forced", "value": "1"],
            ["name": "net/ipv4/conf/eth0.100/forwarding", "value": "1"],
        ]))
        for (body, field, message) in [
            (pod("bad", [["name": "kernel.bad!", "value": "1"]]), "spec.securityContext.sysctls[0].name",
             #"Invalid value: "kernel.bad!": must have at most 253 characters and match regex"#),
            (pod("twice", [["name": "kernel.shm_rmid_forced", "value": "1"], ["name": "kernel.shm_rmid_forced", "value": "0"]]),
             "spec.securityContext.sysctls[1].name", #"Duplicate value: "kernel.shm_rmid_forced""#),
            (pod("host", [["name": "net.ipv4.tcp_syncookies", "value": "1"]], hostNetwork: true), "spec.securityContext.sysctls[0].name",
             #"Invalid value: "net.ipv4.tcp_syncookies": may not be specified when 'hostNetwork' is true"#),
        ] {
            let e = await apiError { _ = try await c.registry.create(c.r("pods"), namespace: "default", object: body) }
            #expect(e?.code == 422)
            #expect(e?.message.contains("\(field): \(message)") == true, "\(e?.message ?? "")")
        }
        #expect(PodValidation.isValidSysctlName("a.b-c_d/e") && !PodValidation.isValidSysctlName("a..b") && !PodValidation.isValidSysctlName("-a"))
    }

    @Test func anActiveDeadlineMayBeLoweredButNotRaisedOrRemoved() async throws {
        let c = try await TestCluster()
        let pods = c.r("pods")
        _ = try await c.registry.create(pods, namespace: "default", object: [
            "metadata": ["name": "d"], "spec": ["activeDeadlineSeconds": 100, "containers": [["name": "c", "image": "busybox"]]],
        ])
        func set(_ value: JSONValue?) async -> APIError? {
            await apiError {
                _ = try await c.registry.guaranteedUpdate(pods, namespace: "default", name: "d") { cur in
                    var next = cur
                    next[path: ["spec", "activeDeadlineSeconds"]] = value
                    return next
                }
            }
        }
        #expect(await set(.int(50)) == nil)
        let raised = await set(.int(60))
        #expect(raised?.code == 422 && raised?.message.contains("spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value") == true,
                "\(raised?.message ?? "")")
        let removed = await set(nil)
        #expect(removed?.code == 422 && removed?.message.contains("must not update from a positive integer to nil value") == true, "\(removed?.message ?? "")")
    }
}
