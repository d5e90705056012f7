import Foundation
import Testing

/// Issue 3's acceptance list, as a user runs it: a real `orca server --disable-agent` on
/// its own data dir and port, driven by the real kubectl.
@Suite(.serialized) struct KubectlAcceptanceTests {
    static let deployment = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: {app: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - {name: main, image: docker.io/library/busybox:1.35, command: [sleep, "3600"]}
          - {name: side, image: docker.io/library/busybox:1.35, command: [sleep, "3600"]}
    """

    @Test func versionDiscoveryAndExplain() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let version = try s.k("version")
        #expect(version.contains("Server Version: v1.32.0-orca"))
        let resources = try s.k("api-resources", "-o", "wide")
        for line in ["deployments", "events", "configmaps", "namespaces"] { #expect(resources.contains(line)) }
        #expect(resources.contains("events.k8s.io/v1"))
        let namespaced = try s.k("api-resources", "--namespaced=false", "-o", "name")
        #expect(namespaced.contains("namespaces") && !namespaced.contains("configmaps"))
        let versions = try s.k("api-versions").split(separator: "\n").map(String.init)
        for v in ["v1", "apps/v1", "batch/v1", "events.k8s.io/v1", "coordination.k8s.io/v1"] { #expect(versions.contains(v)) }
        let explain = try s.k("explain", "deployment.spec.template.spec.containers.image")
        #expect(explain.contains("KIND:       Deployment") && explain.contains("FIELD: image <string>"))
        #expect(try s.k("explain", "configmap").contains("ConfigMap holds configuration data"))
    }

    @Test func createApplyAndGetOutputs() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let manifests = Self.deployment + """

        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings, labels: {tier: web}}
        data: {color: blue}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: solo, labels: {tier: db}}
        spec:
          containers: [{name: c, image: docker.io/library/busybox:1.35}]
        """
        let created = try s.k("create", "-f", "-", stdin: manifests)
        #expect(created.contains("deployment.apps/web created") && created.contains("configmap/settings created") && created.contains("pod/solo created"))
        let again = try s.kubectl(["create", "-f", "-"], stdin: manifests)
        #expect(again.status != 0 && again.err.contains("AlreadyExists"))

        // apply: created, unchanged twice, configured after a label change.
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  labels: {stage: one}\ndata: {k: v}\n"
        #expect(try s.k("apply", "-f", "-", stdin: cm).contains("configmap/applied created"))
        #expect(try s.k("apply", "-f", "-", stdin: cm).contains("configmap/applied unchanged"))
        #expect(try s.k("apply", "-f", "-", stdin: cm).contains("configmap/applied unchanged"))
        let rv = try s.k("get", "cm", "applied", "-o", "jsonpath={.metadata.resourceVersion}")
        #expect(try s.k("apply", "-f", "-", stdin: cm.replacingOccurrences(of: "stage: one", with: "stage: two")).contains("configmap/applied configured"))
        #expect(try s.k("get", "cm", "applied", "-o", "jsonpath={.metadata.labels.stage}") == "two")
        #expect(try s.k("get", "cm", "applied", "-o", "jsonpath={.metadata.resourceVersion}") != rv)

        // Server-side apply: created, then a second manager conflicts until forced.
        let ssa = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  owner: first\n"
        #expect(try s.k("apply", "--server-side", "-f", "-", stdin: ssa).contains("configmap/ssa serverside-applied"))
        #expect(try s.k("apply", "--server-side", "-f", "-", stdin: ssa).contains("configmap/ssa serverside-applied"))
        let conflict = try s.kubectl(["apply", "--server-side", "--field-manager=second", "-f", "-"], stdin: ssa.replacingOccurrences(of: "first", with: "second"))
        #expect(conflict.status != 0 && conflict.err.contains("conflict"))
        _ = try s.k("apply", "--server-side", "--force-conflicts", "--field-manager=second", "-f", "-", stdin: ssa.replacingOccurrences(of: "first", with: "second"))
        #expect(try s.k("get", "cm", "ssa", "-o", "jsonpath={.data.owner}") == "second")
        #expect(try s.k("get", "cm", "ssa", "-o", "yaml", "--show-managed-fields").contains("manager: second"))

        // get in every output format.
        let wide = try s.k("get", "deploy", "web", "-o", "wide")
        #expect(wide.contains("CONTAINERS") && wide.contains("IMAGES") && wide.contains("SELECTOR"))
        #expect(wide.contains("main,side") && wide.contains("app=web"))
        let podsWide = try s.k("get", "pods", "-o", "wide")
        #expect(podsWide.contains("NODE") && podsWide.contains("solo") && podsWide.contains("Pending"))
        let yaml = try s.k("get", "cm", "settings", "-o", "yaml")
        #expect(yaml.contains("kind: ConfigMap") && yaml.contains("color: blue") && yaml.contains("uid:"))
        let json = try s.k("get", "deploy", "web", "-o", "json")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(obj.string("metadata", "name") == "web" && obj.string("apiVersion") == "apps/v1")
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].name}") == "main side")
        #expect(try s.k("get", "cm,pods", "-o", "name").split(separator: "\n").contains("pod/solo"))
        #expect(try s.k("get", "cm", "-l", "tier=web", "-o", "name") == "configmap/settings\n")
        #expect(try s.k("get", "pods", "-l", "tier in (db,cache)", "-o", "name") == "pod/solo\n")
        #expect(try s.k("get", "cm", "-l", "tier!=web", "-o", "name").contains("configmap/settings") == false)
        #expect(try s.k("get", "cm", "--field-selector", "metadata.name=settings", "-o", "name") == "configmap/settings\n")
        // The Deployment's two pods are Pending too (no agent here); Running selects none.
        let pending = try s.k("get", "pods", "--field-selector", "status.phase=Pending", "-o", "name").split(separator: "\n")
        #expect(pending.count == 3 && pending.contains("pod/solo") && pending.filter { $0.hasPrefix("pod/web-") }.count == 2)
        #expect(try s.k("get", "pods", "--field-selector", "status.phase=Running", "-o", "name").isEmpty)
        let all = try s.k("get", "cm", "-A")
        #expect(all.contains("NAMESPACE") && all.contains("kube-system") && all.contains("settings"))
        #expect(try s.k("get", "cm", "--all-namespaces", "-o", "name").contains("configmap/kube-root-ca.crt"))
    }

    @Test func watchSeesAddedModifiedDeleted() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let watcher = try BackgroundProcess("/usr/bin/kubectl",
                                            ["get", "cm", "-w", "--output-watch-events", "--request-timeout=90s",
                                             "-o", "jsonpath={.type} {.object.metadata.name}{\"\\n\"}"],
                                            env: ["KUBECONFIG": s.kubeconfig])
        defer { watcher.stop() }
        // The initial list arrives as ADDED events; only then is the watch known to be open.
        try watcher.waitForOutput("the initial ADDED events") { $0.contains("ADDED kube-root-ca.crt") }
        _ = try s.k("create", "-f", "-", stdin: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched"}}"#)
        _ = try s.k("label", "cm", "watched", "seen=yes")
        _ = try s.k("delete", "cm", "watched")
        try watcher.waitForOutput("DELETED") { $0.contains("DELETED watched") }
        let lines = watcher.output.split(separator: "\n").filter { $0.hasSuffix(" watched") }
        #expect(lines == ["ADDED watched", "MODIFIED watched", "DELETED watched"])

        // Table watch (what `kubectl get -w` prints by default) sees the same changes.
        let tableWatch = try BackgroundProcess("/usr/bin/kubectl", ["get", "pods", "-w", "--request-timeout=90s"],
                                               env: ["KUBECONFIG": s.kubeconfig])
        defer { tableWatch.stop() }
        Thread.sleep(forTimeInterval: 0.5)
        _ = try s.k("create", "-f", "-", stdin: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"w1"},"spec":{"containers":[{"name":"c","image":"docker.io/library/busybox:1.35"}]}}"#)
        try tableWatch.waitForOutput("pod w1 in the table watch") { $0.contains("w1 ") && $0.contains("Pending") }
    }

    @Test func describeShowsEventsFromBothEventAPIs() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        _ = try s.k("create", "-f", "-", stdin: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"described"}}"#)
        let uid = try s.k("get", "cm", "described", "-o", "jsonpath={.metadata.uid}")
        let stamp = ISO8601DateFormatter().string(from: Date())
        let core = """
        apiVersion: v1
        kind: Event
        metadata: {name: described.core}
        involvedObject: {apiVersion: v1, kind: ConfigMap, name: described, namespace: default, uid: "\(uid)"}
        reason: CoreReason
        message: written through core v1
        type: Warning
        source: {component: e2e-test}
        firstTimestamp: "\(stamp)"
        lastTimestamp: "\(stamp)"
        count: 1
        """
        let v1 = """
        apiVersion: events.k8s.io/v1
        kind: Event
        metadata: {name: described.new}
        regarding: {apiVersion: v1, kind: ConfigMap, name: described, namespace: default, uid: "\(uid)"}
        reason: NewReason
        note: written through events.k8s.io
        type: Normal
        action: Testing
        reportingController: e2e.orca.dev/test
        reportingInstance: e2e-1
        eventTime: "\(stamp.dropLast()).000000Z"
        """
        _ = try s.k("create", "-f", "-", stdin: core)
        _ = try s.k("create", "-f", "-", stdin: v1)
        let describe = try s.k("describe", "cm", "described")
        #expect(describe.contains("CoreReason") && describe.contains("written through core v1"))
        #expect(describe.contains("NewReason") && describe.contains("written through events.k8s.io"))
        // Both APIs list both events (one storage).
        let coreList = try s.k("get", "events", "--field-selector", "involvedObject.name=described", "-o", "jsonpath={.items[*].reason}")
        #expect(coreList.contains("CoreReason") && coreList.contains("NewReason"))
        let newList = try s.k("get", "events.events.k8s.io", "--field-selector", "regarding.name=described", "-o", "json")
        #expect(newList.contains("\"note\": \"written through core v1\"") && newList.contains("\"reportingController\": \"e2e.orca.dev/test\""))
        #expect(try s.k("get", "events.v1.events.k8s.io", "described.new", "-o", "jsonpath={.note}") == "written through events.k8s.io")
        #expect(try s.k("get", "events", "described.new", "-o", "jsonpath={.message}") == "written through events.k8s.io")
        let table = try s.k("get", "events.events.k8s.io")
        #expect(table.contains("configmap/described") && table.contains("NewReason"))
    }

    /// MicroTimes are served with six fractional digits whatever a client sent, so kubectl (Go's
    /// RFC3339Micro) reads a node's Lease: `kubectl describe node` prints it.
    @Test func describeNodePrintsItsLease() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        _ = try s.k("create", "-f", "-", stdin: #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"leased"}}"#)
        _ = try s.k("create", "-f", "-", stdin: """
            {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leased", "namespace": "kube-node-lease"},
             "spec": {"holderIdentity": "leased", "leaseDurationSeconds": 40, "renewTime": "2026-12-07T00:45:00.123+00:00"}}
            """)
        #expect(try s.k("get", "lease", "leased", "-n", "kube-node-lease", "-o", "jsonpath={.spec.renewTime}") == "2026-12-07T00:45:00.123000Z")
        let describe = try s.k("describe", "node", "leased")
        #expect(describe.contains("Lease:") && describe.contains("HolderIdentity:  leased"), "\(describe)")
        #expect(describe.contains("RenewTime:       Mon, 07 Dec 2026 00:45:00 +0000"), "\(describe)")
        // A value that is not a time is refused with 400.
        let bad = try s.kubectl(["patch", "lease", "leased", "-n", "kube-node-lease", "--type=merge", "-p", #"{"spec":{"renewTime":"soon"}}"#])
        #expect(bad.status != 0 && bad.err.contains("parsing time \"soon\""), "\(bad.err)")
    }

    /// The other groups Kubernetes 1.32 serves (issue 15): one object of each kind through
    /// kubectl's create, get, list, watch, patch and delete; a RuntimeClass's overhead lands in a pod.
    @Test func theOtherServedGroupsWorkWithKubectl() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let objects: [(String, String)] = [
            ("volumeattachments.storage.k8s.io", #"{"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": {"name": "one"}, "spec": {"attacher": "csi.example.com", "nodeName": "n1", "source": {"persistentVolumeName": "pv1"}}}"#),
            ("csidrivers.storage.k8s.io", #"{"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": "one"}, "spec": {"attachRequired": false}}"#),
            ("csinodes.storage.k8s.io", #"{"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": "one"}, "spec": {"drivers": []}}"#),
            ("csistoragecapacities.storage.k8s.io", #"{"apiVersion": "storage.k8s.io/v1", "kind": "CSIStorageCapacity", "metadata": {"name": "one"}, "storageClassName": "local-path"}"#),
            ("ingresses.networking.k8s.io", #"{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "one"}, "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}"#),
            ("ingressclasses.networking.k8s.io", #"{"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "one"}, "spec": {"controller": "example.com/ingress"}}"#),
            ("networkpolicies.networking.k8s.io", #"{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "one"}, "spec": {"podSelector": {}}}"#),
            ("runtimeclasses.node.k8s.io", #"{"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "one"}, "handler": "runc"}"#),
            ("flowschemas.flowcontrol.apiserver.k8s.io", #"{"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": {"name": "one"}, "spec": {"priorityLevelConfiguration": {"name": "one"}}}"#),
            ("prioritylevelconfigurations.flowcontrol.apiserver.k8s.io", #"{"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration", "metadata": {"name": "one"}, "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 5}}}"#),
            ("apiservices.apiregistration.k8s.io", #"{"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1.metrics.example.com"}, "spec": {"group": "metrics.example.com", "version": "v1", "groupPriorityMinimum": 100, "versionPriority": 10}}"#),
        ]
        for (resource, body) in objects {
            let name = resource.hasPrefix("apiservices") ? "v1.metrics.example.com" : "one"
            let watch = try BackgroundProcess("/usr/bin/kubectl", ["--kubeconfig", s.kubeconfig, "get", resource, "--watch-only", "-o", "name"], env: [:])
            defer { watch.stop() }
            let created = try s.kubectl(["create", "-f", "-"], stdin: body)
            #expect(created.status == 0, "\(resource): \(created.err)")
            if resource.hasPrefix("networkpolicies") {
                #expect(created.err.contains("Warning: Orca stores NetworkPolicies but does not enforce them yet"), "\(created.err)")
            }
            #expect(try s.k("get", resource, name, "-o", "name").trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("/\(name)"), "\(resource)")
            #expect(try s.k("get", resource, "-o", "name").contains("/\(name)"), "\(resource)")
            _ = try s.k("patch", resource, name, "--type=merge", "-p", #"{"metadata":{"labels":{"patched":"yes"}}}"#)
            #expect(try s.k("get", resource, "-l", "patched=yes", "-o", "name").contains("/\(name)"), "\(resource)")
            try watch.waitForOutput("the watch of \(resource)", timeout: 30) { $0.contains("/\(name)") }
            _ = try s.k("delete", resource, name)
            #expect(try s.kubectl(["get", resource, name]).status != 0, "\(resource)")
        }
        // A RuntimeClass's overhead is copied into the pods that name it; an unknown class is refused.
        _ = try s.k("create", "-f", "-", stdin: #"{"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "sandboxed"}, "handler": "runc", "overhead": {"podFixed": {"cpu": "250m"}}}"#)
        _ = try s.k("create", "-f", "-", stdin: #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "overhead"}, "spec": {"runtimeClassName": "sandboxed", "containers": [{"name": "c", "image": "busybox"}]}}"#)
        #expect(try s.k("get", "pod", "overhead", "-o", "jsonpath={.spec.overhead.cpu}") == "250m")
        let unknown = try s.kubectl(["create", "-f", "-"], stdin: #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "unknown"}, "spec": {"runtimeClassName": "missing", "containers": [{"name": "c", "image": "busybox"}]}}"#)
        #expect(unknown.status != 0 && unknown.err.contains("pod rejected: RuntimeClass \"missing\" not found"), "\(unknown.err)")
    }

    @Test func labelAnnotatePatchReplaceScale() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        _ = try s.k("apply", "-f", "-", stdin: Self.deployment)
        func gen() throws -> String { try s.k("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}") }
        #expect(try gen() == "1")
        #expect(try s.k("label", "deploy", "web", "team=blue").contains("labeled"))
        #expect(try s.kubectl(["label", "deploy", "web", "team=red"]).status != 0)
        _ = try s.k("label", "deploy", "web", "team=red", "--overwrite")
        _ = try s.k("annotate", "deploy", "web", "owner=e2e")
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={.metadata.labels.team} {.metadata.annotations.owner}") == "red e2e")
        _ = try s.k("label", "deploy", "web", "team-")
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={.metadata.labels.team}") == "")
        #expect(try gen() == "1", "metadata changes do not bump generation")

        // Strategic merge: containers merge by name; the other container stays.
        _ = try s.k("patch", "deploy", "web", "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"docker.io/library/busybox:latest","env":[{"name":"MODE","value":"x"}]}]}}}}"#)
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={range .spec.template.spec.containers[*]}{.name}={.image};{end}")
                == "main=docker.io/library/busybox:1.35;side=docker.io/library/busybox:latest;")
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[1].env[0].value}") == "x")
        #expect(try gen() == "2")
        // Merge patch and JSON patch.
        _ = try s.k("patch", "deploy", "web", "--type=merge", "-p", #"{"spec":{"minReadySeconds":5}}"#)
        #expect(try gen() == "3")
        _ = try s.k("patch", "deploy", "web", "--type=json", "-p", #"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"docker.io/library/busybox:latest"}]"#)
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}") == "docker.io/library/busybox:latest")
        #expect(try gen() == "4")
        let badJSONPatch = try s.kubectl(["patch", "deploy", "web", "--type=json", "-p", #"[{"op":"test","path":"/spec/replicas","value":99}]"#])
        #expect(badJSONPatch.status != 0)

        // replace: with the current resourceVersion it succeeds, with a stale one it conflicts.
        let current = try s.k("get", "deploy", "web", "-o", "yaml")
        _ = try s.k("replace", "-f", "-", stdin: current.replacingOccurrences(of: "minReadySeconds: 5", with: "minReadySeconds: 7"))
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={.spec.minReadySeconds}") == "7")
        let stale = try s.kubectl(["replace", "-f", "-"], stdin: current)
        #expect(stale.status != 0 && stale.err.contains("the object has been modified"))

        // scale (the scale subresource), then wait for it by jsonpath.
        #expect(try s.k("scale", "deployment", "web", "--replicas=4").contains("deployment.apps/web scaled"))
        _ = try s.k("wait", "--for=jsonpath={.spec.replicas}=4", "deployment/web", "--timeout=30s")
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "4")
        let scaleStale = try s.kubectl(["scale", "deployment", "web", "--replicas=1", "--resource-version=1"])
        #expect(scaleStale.status != 0)
    }

    @Test func deleteInEveryWayAndWait() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        func cm(_ name: String, _ labels: String = "{}", ns: String = "default") -> String {
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name), namespace: \(ns), labels: \(labels)}\n"
        }
        let docs = [cm("a1"), cm("l1", "{grp: x}"), cm("l2", "{grp: x}"), cm("keep", "{grp: \"y\"}"), cm("f1")].joined(separator: "---\n")
        _ = try s.k("create", "-f", "-", stdin: docs)
        #expect(try s.k("delete", "cm", "a1").contains("configmap \"a1\" deleted"))
        #expect(try s.kubectl(["get", "cm", "a1"]).err.contains("NotFound"))
        #expect(try s.k("delete", "-f", "-", stdin: cm("f1")).contains("configmap \"f1\" deleted"))
        let byLabel = try s.k("delete", "cm", "-l", "grp=x")
        #expect(byLabel.contains("\"l1\" deleted") && byLabel.contains("\"l2\" deleted"))
        #expect(try s.k("get", "cm", "-o", "name").contains("configmap/keep"))
        _ = try s.k("delete", "cm", "--all")
        #expect(try s.k("get", "cm", "-l", "grp", "-o", "name").isEmpty)
        let missing = try s.kubectl(["delete", "cm", "nope"])
        #expect(missing.status != 0 && missing.err.contains("NotFound"))

        // A finalizer holds the object (with a deletionTimestamp) until it is removed.
        _ = try s.k("create", "-f", "-", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [e2e.orca.dev/hold]\n")
        _ = try s.k("delete", "cm", "held", "--wait=false")
        #expect(!(try s.k("get", "cm", "held", "-o", "jsonpath={.metadata.deletionTimestamp}")).isEmpty)
        let waiter = try BackgroundProcess("/usr/bin/kubectl", ["wait", "--for=delete", "cm/held", "--timeout=90s"], env: ["KUBECONFIG": s.kubeconfig])
        defer { waiter.stop() }
        #expect(try s.k("get", "cm", "held", "-o", "name") == "configmap/held\n")
        let addAnother = try s.kubectl(["patch", "cm", "held", "--type=json", "-p", #"[{"op":"add","path":"/metadata/finalizers/-","value":"e2e.orca.dev/late"}]"#])
        #expect(addAnother.status != 0, "no new finalizers on an object being deleted")
        _ = try s.k("patch", "cm", "held", "--type=json", "-p", #"[{"op":"remove","path":"/metadata/finalizers/0"}]"#)
        #expect(try waiter.waitForExit() == 0)
        #expect(try s.kubectl(["get", "cm", "held"]).status != 0)

        // Deleting a namespace removes what is in it; wait --for=delete sees it go.
        _ = try s.k("create", "-f", "-", stdin: "apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n---\n" + cm("inside", ns: "doomed"))
        _ = try s.k("delete", "namespace", "doomed", "--wait=false")
        _ = try s.k("wait", "--for=delete", "namespace/doomed", "--timeout=60s")
        #expect(try s.kubectl(["get", "ns", "doomed"]).status != 0)
        #expect(!(try s.k("get", "cm", "-A", "-o", "name")).contains("configmap/inside"))
    }

    /// `kubectl create namespace|configmap|secret` send protobuf bodies (415 until the protobuf decoder lands).
    @Test func imperativeCreateCommands() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        _ = try s.k("create", "namespace", "imperative")
        _ = try s.k("create", "configmap", "cfg", "-n", "imperative", "--from-literal=a=1")
        _ = try s.k("create", "secret", "generic", "sec", "-n", "imperative", "--from-literal=password=hunter2")
        #expect(try s.k("get", "cm", "cfg", "-n", "imperative", "-o", "jsonpath={.data.a}") == "1")
        #expect(try s.k("get", "secret", "sec", "-n", "imperative", "-o", "jsonpath={.data.password}") == "aHVudGVyMg==")
    }
}
