import Foundation
import Testing

/// The official Python client (`pip install kubernetes`) against a real `orca server`:
/// CRUD of a ConfigMap and a Pod, and a watch with `timeout_seconds`.
@Suite(.serialized) struct PythonClientTests {
    static let python = "/usr/bin/env"

    /// Installs the client if missing; returns whether it can be imported.
    static func ensureClient() throws -> Bool {
        if try OrcaServerProcess.run(python, ["python3", "-c", "import kubernetes"]).status == 0 { return true }
        let install = try OrcaServerProcess.run(python, ["python3", "-m", "pip", "install", "-q", "kubernetes"], timeout: 600)
        if install.status != 0 { Issue.record("pip install kubernetes failed: \(install.err)") }
        return try OrcaServerProcess.run(python, ["python3", "-c", "import kubernetes"]).status == 0
    }

    static let script = #"""
    import sys, threading, time
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException

    config.load_kube_config(sys.argv[1])
    v1 = client.CoreV1Api()
    ns = "default"
    out = []
    def say(*parts):
        out.append(" ".join(str(p) for p in parts))
        print(out[-1], flush=True)

    say("server", client.VersionApi().get_code().git_version)

    # ConfigMap: create, read, list, patch, replace, delete.
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm", labels={"from": "python"}), data={"k": "v"})
    created = v1.create_namespaced_config_map(ns, cm)
    say("cm-created", created.metadata.name, bool(created.metadata.uid), bool(created.metadata.resource_version))
    say("cm-read", v1.read_namespaced_config_map("py-cm", ns).data["k"])
    say("cm-list", ",".join(i.metadata.name for i in v1.list_namespaced_config_map(ns, label_selector="from=python").items))
    patched = v1.patch_namespaced_config_map("py-cm", ns, {"data": {"k2": "v2"}})
    say("cm-patched", patched.data["k"], patched.data["k2"])
    patched.data["k"] = "replaced"
    say("cm-replaced", v1.replace_namespaced_config_map("py-cm", ns, patched).data["k"])
    try:
        v1.create_namespaced_config_map(ns, cm)
    except ApiException as e:
        say("cm-duplicate", e.status, e.reason)

    # Pod: create, read, list across namespaces, patch labels, delete.
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="py-pod", labels={"app": "py"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="docker.io/library/busybox:1.35", command=["sleep", "3600"])]))
    v1.create_namespaced_pod(ns, pod)
    got = v1.read_namespaced_pod("py-pod", ns)
    say("pod-read", got.metadata.name, got.status.phase, got.spec.containers[0].image)
    say("pod-list", ",".join(p.metadata.name for p in v1.list_pod_for_all_namespaces(label_selector="app=py").items))
    say("pod-patched", v1.patch_namespaced_pod("py-pod", ns, {"metadata": {"labels": {"tier": "x"}}}).metadata.labels["tier"])

    # A watch with timeout_seconds sees a ConfigMap created while it runs.
    start_rv = v1.list_namespaced_config_map(ns).metadata.resource_version
    def create_later():
        time.sleep(1)
        v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-watched")))
    t = threading.Thread(target=create_later)
    t.start()
    seen = []
    for ev in watch.Watch().stream(v1.list_namespaced_config_map, ns, resource_version=start_rv, timeout_seconds=5):
        seen.append(ev["type"] + ":" + ev["object"].metadata.name)
    t.join()
    say("watch", "saw-added" if "ADDED:py-watched" in seen else "missed: " + " ".join(seen))

    v1.delete_namespaced_config_map("py-cm", ns)
    v1.delete_namespaced_pod("py-pod", ns)
    for kind, read in (("cm", lambda: v1.read_namespaced_config_map("py-cm", ns)), ("pod", lambda: v1.read_namespaced_pod("py-pod", ns))):
        try:
            read()
            say(kind + "-still-there")
        except ApiException as e:
            say(kind + "-deleted", e.status)
    """#

    @Test func crudAndWatchThroughOfficialClient() throws {
        try #require(try Self.ensureClient(), "the kubernetes Python package is not available")
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let scriptPath = s.dataDir + "/client.py"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let r = try OrcaServerProcess.run(Self.python, ["python3", scriptPath, s.kubeconfig], timeout: 120)
        #expect(r.status == 0, "python client failed:\n\(r.out)\n\(r.err)")
        let lines = Set(r.out.split(separator: "\n").map(String.init))
        for expected in ["server v1.32.0-orca", "cm-created py-cm True True", "cm-read v", "cm-list py-cm", "cm-patched v v2",
                         "cm-replaced replaced", "cm-duplicate 409 Conflict", "pod-read py-pod Pending docker.io/library/busybox:1.35",
                         "pod-list py-pod", "pod-patched x", "watch saw-added", "cm-deleted 404", "pod-deleted 404"] {
            #expect(lines.contains(expected), "missing \"\(expected)\" in:\n\(r.out)\n\(r.err)")
        }
    }
}
