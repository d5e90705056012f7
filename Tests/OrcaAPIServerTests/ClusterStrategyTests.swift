import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Required fields and defaults of the non-workload kinds: RBAC, events, endpoints,
/// leases, disruption budgets, nodes and volumes.
@Suite struct ClusterStrategyTests {
    /// (case, resource, group, namespaced, object, a message the error must contain)
    static let invalid: [(String, String, String, Bool, String, String)] = [
        ("role rule without verbs", "roles", "rbac.authorization.k8s.io", true,
         #"{"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]}"#,
         "rules[0].verbs: Required value: verbs must contain at least one value"),
        ("role rule without resources", "roles", "rbac.authorization.k8s.io", true,
         #"{"metadata": {"name": "r"}, "rules": [{"verbs": ["get"]}]}"#,
         "[rules[0].apiGroups: Required value: resource rules must supply at least one api group, rules[0].resources: Required value: resource rules must supply at least one resource]"),
        ("namespaced non-resource URLs", "roles", "rbac.authorization.k8s.io", true,
         #"{"metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]}"#,
         #"rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs"#),
        ("binding without role", "rolebindings", "rbac.authorization.k8s.io", true,
         #"{"metadata": {"name": "b"}, "roleRef": {"kind": "Role"}, "subjects": [{"kind": "User", "name": "alice"}]}"#,
         "roleRef.name: Required value"),
        ("binding to a bad kind", "rolebindings", "rbac.authorization.k8s.io", true,
         #"{"metadata": {"name": "b"}, "roleRef": {"kind": "Group", "name": "x"}}"#,
         #"roleRef.kind: Unsupported value: "Group": supported values: "Role", "ClusterRole""#),
        ("cluster binding to a role", "clusterrolebindings", "rbac.authorization.k8s.io", false,
         #"{"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "x"}}"#,
         #"roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole""#),
        ("cluster binding service account without namespace", "clusterrolebindings", "rbac.authorization.k8s.io", false,
         #"{"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "x"}, "subjects": [{"kind": "ServiceAccount", "name": "sa"}]}"#,
         "subjects[0].namespace: Required value"),
        ("subject kind", "rolebindings", "rbac.authorization.k8s.io", true,
         #"{"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "x"}, "subjects": [{"kind": "Robot", "name": "r2"}]}"#,
         #"subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group""#),
        ("event namespace mismatch", "events", "", true,
         #"{"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "other"}, "reason": "X"}"#,
         #"involvedObject.namespace: Invalid value: "other": does not match event.namespace"#),
        ("new-style event needs its reporter", "events", "", true,
         #"{"metadata": {"name": "e"}, "eventTime": "2024-01-01T00:00:00.000000Z", "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}}"#,
         "[reportingComponent: Required value, reportingInstance: Required value, action: Required value, reason: Required value]"),
        ("endpoint ip", "endpoints", "", true,
         #"{"metadata": {"name": "svc"}, "subsets": [{"addresses": [{"ip": "not-an-ip"}], "ports": [{"port": 80}]}]}"#,
         #"subsets[0].addresses[0].ip: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#),
        ("endpoint loopback", "endpoints", "", true,
         #"{"metadata": {"name": "svc"}, "subsets": [{"addresses": [{"ip": "127.0.0.1"}]}]}"#,
         "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
        ("endpoint subset without addresses", "endpoints", "", true,
         #"{"metadata": {"name": "svc"}, "subsets": [{"ports": [{"port": 80}]}]}"#,
         "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"),
        ("endpoint port", "endpoints", "", true,
         #"{"metadata": {"name": "svc"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 0}]}]}"#,
         "subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"),
        ("slice address type", "endpointslices", "discovery.k8s.io", true,
         #"{"metadata": {"name": "s"}, "endpoints": []}"#,
         "addressType: Required value"),
        ("slice endpoint without addresses", "endpointslices", "discovery.k8s.io", true,
         #"{"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": [{"addresses": []}]}"#,
         "endpoints[0].addresses: Required value: must contain at least 1 address"),
        ("slice address family", "endpointslices", "discovery.k8s.io", true,
         #"{"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": [{"addresses": ["fd00::1"]}]}"#,
         #"endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address"#),
        ("lease duration", "leases", "coordination.k8s.io", true,
         #"{"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}}"#,
         "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"),
        ("pdb both bounds", "poddisruptionbudgets", "policy", true,
         #"{"metadata": {"name": "pdb"}, "spec": {"minAvailable": 1, "maxUnavailable": 1}}"#,
         "minAvailable and maxUnavailable cannot be both set"),
        ("pdb percent", "poddisruptionbudgets", "policy", true,
         #"{"metadata": {"name": "pdb"}, "spec": {"minAvailable": "150%"}}"#,
         "spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"),
        ("node taint effect", "nodes", "", false,
         #"{"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}}"#,
         #"spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute""#),
        ("node duplicate taints", "nodes", "", false,
         #"{"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}, {"key": "k", "value": "v", "effect": "NoSchedule"}]}}"#,
         "spec.taints[1]: Duplicate value: core.Taint{Key:\"k\", Value:\"v\", Effect:\"NoSchedule\", TimeAdded:<nil>}: taints must be unique by key and effect pair"),
        ("node pod CIDR", "nodes", "", false,
         #"{"metadata": {"name": "n"}, "spec": {"podCIDR": "10.42.0.0/99"}}"#,
         #"spec.podCIDRs[0]: Invalid value: "10.42.0.0/99": must be a valid CIDR value"#),
        ("claim without storage", "persistentvolumeclaims", "", true,
         #"{"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"]}}"#,
         "spec.resources[storage]: Required value"),
        ("claim without modes", "persistentvolumeclaims", "", true,
         #"{"metadata": {"name": "c"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}"#,
         "spec.accessModes: Required value: at least 1 access mode is required"),
        ("volume without source", "persistentvolumes", "", false,
         #"{"metadata": {"name": "v"}, "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}}"#,
         "spec: Required value: must specify a volume type"),
    ]

    @Test(arguments: invalid)
    func invalidObjects(name: String, resource: String, group: String, namespaced: Bool, body: String, message: String) async throws {
        let c = try await TestCluster()
        let e = await apiError { _ = try await c.registry.create(c.r(resource, group), namespace: namespaced ? "default" : nil, object: json(body)) }
        #expect(e?.code == 422, "\(name)")
        #expect(e?.message.contains(message) == true, "\(name): \(e?.message ?? "no error")")
    }

    /// (resource, group, namespaced, object, [path: expected value] after create)
    static let valid: [(String, String, Bool, String, [String: JSONValue])] = [
        ("roles", "rbac.authorization.k8s.io", true,
         #"{"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}"#, [:]),
        ("clusterroles", "rbac.authorization.k8s.io", false,
         #"{"metadata": {"name": "r"}, "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}"#, [:]),
        ("rolebindings", "rbac.authorization.k8s.io", true,
         #"{"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "alice"}, {"kind": "ServiceAccount", "name": "default"}]}"#,
         ["roleRef.apiGroup": "rbac.authorization.k8s.io", "subjects": [["kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"], ["kind": "ServiceAccount", "name": "default"]]]),
        ("events", "", true,
         #"{"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "Started", "type": "Normal"}"#, [:]),
        ("endpoints", "", true,
         #"{"metadata": {"name": "svc"}, "subsets": [{"addresses": [{"ip": "10.42.0.5"}], "ports": [{"port": 80}]}]}"#,
         ["subsets": [["addresses": [["ip": "10.42.0.5"]], "ports": [["port": 80, "protocol": "TCP"]]]]]),
        ("endpointslices", "discovery.k8s.io", true,
         #"{"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": [{"addresses": ["10.42.0.5"]}], "ports": [{"port": 80}]}"#,
         ["ports": [["port": 80, "protocol": "TCP", "name": ""]]]),
        ("leases", "coordination.k8s.io", true,
         #"{"metadata": {"name": "l"}, "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}"#, [:]),
        ("poddisruptionbudgets", "policy", true,
         #"{"metadata": {"name": "pdb"}, "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}, "status": {"currentHealthy": 9}}"#,
         ["status": ["currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0]]),
        ("nodes", "", false,
         #"{"metadata": {"name": "n"}, "spec": {"podCIDR": "10.42.1.0/24"}, "status": {"capacity": {"cpu": "2"}}}"#,
         ["spec.podCIDRs": ["10.42.1.0/24"], "status.allocatable": ["cpu": "2"], "status.capacity": ["cpu": "2"]]),
        ("persistentvolumeclaims", "", true,
         #"{"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}"#,
         ["spec.volumeMode": "Filesystem", "status": ["phase": "Pending"]]),
        ("persistentvolumes", "", false,
         #"{"metadata": {"name": "v"}, "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/tmp"}}}"#,
         ["spec.persistentVolumeReclaimPolicy": "Retain", "spec.volumeMode": "Filesystem", "status.phase": "Pending"]),
    ]

    @Test(arguments: valid)
    func validObjectsAreDefaulted(resource: String, group: String, namespaced: Bool, body: String, expected: [String: JSONValue]) async throws {
        let c = try await TestCluster()
        let created = try await c.registry.create(c.r(resource, group), namespace: namespaced ? "default" : nil, object: json(body))
        for (path, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(created[path: path.split(separator: ".").map(String.init)] == value, "\(resource) \(path)")
        }
    }

    @Test func roleRefIsImmutable() async throws {
        let c = try await TestCluster()
        let bindings = c.r("rolebindings", "rbac.authorization.k8s.io")
        var b = try await c.registry.create(bindings, namespace: "default", object: json(#"{"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"}}"#))
        b[path: ["roleRef", "name"]] = "other"
        let e = await apiError { _ = try await c.registry.update(bindings, namespace: "default", name: "b", object: b) }
        #expect(e?.message.contains(#"roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef"#) == true)
    }

    @Test func recordedEventsPass() async throws {
        // What Orca's EventRecorder writes must stay valid.
        let c = try await TestCluster()
        let event = json(#"""
        {"metadata": {"name": "p.1", "namespace": "default"}, "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p", "uid": "u"},
         "reason": "Pulled", "message": "ok", "type": "Normal", "count": 1, "firstTimestamp": "2024-01-01T00:00:00Z",
         "lastTimestamp": "2024-01-01T00:00:00Z", "eventTime": null, "source": {"component": "kubelet"},
         "reportingComponent": "kubelet", "reportingInstance": "node-1"}
        """#)
        _ = try await c.registry.create(c.r("events"), namespace: "default", object: event)
    }

    @Test func nodePodCIDRsChangeOnlyFromUnset() async throws {
        let c = try await TestCluster()
        let nodes = c.r("nodes")
        var n = try await c.registry.create(nodes, namespace: nil, object: json(#"{"metadata": {"name": "n"}}"#))
        n[path: ["spec", "podCIDR"]] = "10.42.0.0/24"
        n = try await c.registry.update(nodes, namespace: nil, name: "n", object: n)
        n[path: ["spec", "podCIDR"]] = "10.42.9.0/24"
        n[path: ["spec", "podCIDRs"]] = ["10.42.9.0/24"]
        let e = await apiError { _ = try await c.registry.update(nodes, namespace: nil, name: "n", object: n) }
        #expect(e?.message.contains("spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid") == true)
    }
}
