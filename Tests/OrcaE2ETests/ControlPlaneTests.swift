import Foundation
import Testing

/// Issue 3's acceptance: a real `orca server --disable-agent` driven by the real kubectl.
@Suite(.serialized) struct ControlPlaneTests {
    @Test func discoveryAndVersion() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let version = try s.k("version", "-o", "json")
        #expect(version.contains("\"gitVersion\": \"v1.32.0-orca\""))
        let resources = try s.k("api-resources")
        for r in ["pods", "deployments", "jobs", "leases", "endpointslices", "poddisruptionbudgets", "clusterroles"] {
            #expect(resources.contains(r), "api-resources lacks \(r)")
        }
        let versions = try s.k("api-versions")
        #expect(versions.contains("apps/v1") && versions.contains("rbac.authorization.k8s.io/v1"))
        let explain = try s.k("explain", "pod.spec.containers")
        #expect(explain.contains("FIELD: containers <[]Container>"))
        let namespaces = try s.k("get", "ns", "-o", "name")
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] { #expect(namespaces.contains("namespace/\(ns)")) }
        try s.eventually("default service account and root CA config map") {
            let out = try s.k("get", "sa,cm", "-n", "kube-public", "-o", "name")
            return out.contains("serviceaccount/default") && out.contains("configmap/kube-root-ca.crt")
        }
    }

    @Test func anonymousRequestsAreRejected() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let port = try s.k("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}")
        let anon = try OrcaServerProcess.run("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "\(port)/api/v1/pods"])
        #expect(anon.out == "401")
        let health = try OrcaServerProcess.run("/usr/bin/curl", ["-sk", "\(port)/healthz"])
        #expect(health.out == "ok")
    }

    @Test func applyGetPatchDelete() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let cm = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
          labels: {tier: web}
        data:
          color: blue
        """
        #expect(try s.k("apply", "-f", "-", stdin: cm).contains("configmap/settings created"))
        #expect(try s.k("apply", "-f", "-", stdin: cm).contains("configmap/settings unchanged"))
        #expect(try s.k("apply", "-f", "-", stdin: cm.replacingOccurrences(of: "tier: web", with: "tier: db")).contains("configured"))
        #expect(try s.k("get", "cm", "-l", "tier=db", "-o", "name") == "configmap/settings\n")
        #expect(try s.k("get", "cm", "settings", "-o", "jsonpath={.data.color}") == "blue")
        _ = try s.k("label", "cm", "settings", "extra=yes")
        _ = try s.k("annotate", "cm", "settings", "note=hello")
        _ = try s.k("patch", "cm", "settings", "--type=merge", "-p", #"{"data":{"size":"L"}}"#)
        _ = try s.k("patch", "cm", "settings", "--type=json", "-p", #"[{"op":"replace","path":"/data/color","value":"red"}]"#)
        _ = try s.k("patch", "cm", "settings", "-p", #"{"data":{"shape":"round"}}"#)
        let json = try s.k("get", "cm", "settings", "-o", "json")
        #expect(json.contains("\"color\": \"red\"") && json.contains("\"size\": \"L\"") && json.contains("\"shape\": \"round\""))
        #expect(json.contains("\"extra\": \"yes\"") && json.contains("\"note\": \"hello\""))
        let yaml = try s.k("get", "cm", "settings", "-o", "yaml")
        #expect(yaml.contains("resourceVersion:"))
        _ = try s.k("create", "namespace", "team-a")
        _ = try s.k("create", "configmap", "c1", "-n", "team-a", "--from-literal=a=b")
        _ = try s.k("create", "secret", "generic", "s1", "-n", "team-a", "--from-literal=password=hunter2")
        #expect(try s.k("get", "secret", "s1", "-n", "team-a", "-o", "jsonpath={.data.password}") == "aHVudGVyMg==")
        let all = try s.k("get", "cm", "-A")
        #expect(all.contains("team-a") && all.contains("settings"))
        #expect(try s.k("get", "cm", "--field-selector", "metadata.name=settings", "-o", "name") == "configmap/settings\n")
        _ = try s.k("delete", "cm", "settings")
        #expect(try s.kubectl(["get", "cm", "settings"]).status != 0)
        _ = try s.k("delete", "namespace", "team-a")
        _ = try s.k("wait", "--for=delete", "namespace/team-a", "--timeout=60s")
    }

    @Test func serverSideApplyAndConflicts() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: one\n"
        #expect(try s.k("apply", "--server-side", "-f", "-", stdin: cm).contains("serverside-applied"))
        let conflict = try s.kubectl(["apply", "--server-side", "--field-manager=other", "-f", "-"], stdin: cm.replacingOccurrences(of: "one", with: "two"))
        #expect(conflict.status != 0)
        #expect(conflict.err.contains("conflict"))
        _ = try s.k("apply", "--server-side", "--force-conflicts", "--field-manager=other", "-f", "-", stdin: cm.replacingOccurrences(of: "one", with: "two"))
        #expect(try s.k("get", "cm", "ssa", "-o", "jsonpath={.data.k}") == "two")
    }

    @Test func badInputGetsStatusErrors() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers:\n  - name: c\n"
        let r = try s.kubectl(["create", "-f", "-"], stdin: bad)
        #expect(r.status != 0)
        #expect(r.err.contains("is invalid"))
        #expect(r.err.contains("metadata.name"))
        #expect(r.err.contains("spec.containers[0].image: Required value"))
        _ = try s.k("create", "configmap", "dup")
        let dup = try s.kubectl(["create", "configmap", "dup"])
        #expect(dup.err.contains("AlreadyExists") || dup.err.contains("already exists"))
        let missing = try s.kubectl(["get", "widgets"])
        #expect(missing.status != 0)
    }

    @Test func deploymentScaleAndWatch() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let deploy = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - {name: c, image: docker.io/library/busybox:1.35}
        """
        _ = try s.k("apply", "-f", "-", stdin: deploy)
        _ = try s.k("scale", "deployment", "web", "--replicas=3")
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "3")
        #expect(try s.k("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}") == "2")
        _ = try s.k("wait", "--for=jsonpath={.spec.replicas}=3", "deployment/web", "--timeout=30s")
        // A watch sees a change made after it started.
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
        watcher.arguments = ["get", "cm", "-w", "-o", "name", "--request-timeout=20s"]
        watcher.environment = ["KUBECONFIG": s.kubeconfig, "PATH": "/usr/bin:/bin", "HOME": s.dataDir]
        let pipe = Pipe()
        watcher.standardOutput = pipe
        try watcher.run()
        defer { if watcher.isRunning { watcher.terminate() } }
        Thread.sleep(forTimeInterval: 1)
        _ = try s.k("create", "configmap", "watched")
        var seen = ""
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, !seen.contains("configmap/watched") {
            seen += String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        }
        #expect(seen.contains("configmap/watched"))
    }

    @Test func objectsSurviveRestartAndKill9() throws {
        let s = try OrcaServerProcess()
        _ = try s.k("create", "configmap", "persisted", "--from-literal=a=1")
        s.stop(removeData: false)
        let s2 = try OrcaServerProcess(dataDir: s.dataDir)
        #expect(try s2.k("get", "cm", "persisted", "-o", "jsonpath={.data.a}") == "1")
        _ = try s2.k("create", "configmap", "acked", "--from-literal=b=2")
        s2.kill9()
        let s3 = try OrcaServerProcess(dataDir: s.dataDir)
        defer { s3.stop() }
        #expect(try s3.k("get", "cm", "acked", "-o", "jsonpath={.data.b}") == "2")
    }
}

extension ControlPlaneTests {
    @Test func bearerTokenAuthenticates() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let server = try s.k("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}")
        let token = try String(contentsOfFile: s.dataDir + "/tls/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let ok = try OrcaServerProcess.run("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)", "\(server)/api/v1/namespaces"])
        #expect(ok.out == "200")
        let bad = try OrcaServerProcess.run("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer wrong", "\(server)/api/v1/namespaces"])
        #expect(bad.out == "401")
    }
}
