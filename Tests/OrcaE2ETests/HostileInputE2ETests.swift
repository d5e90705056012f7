import Foundation
import OrcaCore
import Testing

/// Issue 10's acceptance: hostile input against a real `orca server` (with its agent) driven by
/// kubectl and raw HTTPS. Each case gets the right Kubernetes error, the server keeps its PID,
/// nothing is written outside its directories, and a pod started before keeps running
/// untouched. The same cases run again after a restart, with the bad objects still stored.
@Suite(.serialized) struct HostileInputE2ETests {
    @Test func hostileInputGetsKubernetesErrorsAndHarmsNothing() throws {
        let (first, bridge, args) = try PodLifecycleTests.restartableAgentServer()
        var s = first
        defer { PodTests.shutdown(s, bridge: bridge) }
        let bystander = """
        apiVersion: v1
        kind: Pod
        metadata: {name: bystander}
        spec:
          containers: [{name: c, image: docker.io/library/busybox:1.35, command: ["sleep", "3600"]}]
        """
        _ = try s.k("apply", "-f", "-", stdin: bystander)
        _ = try s.k("wait", "--for=condition=Ready", "pod/bystander", "--timeout=90s")
        let bystanderID = try s.k("get", "pod", "bystander", "-o", "jsonpath={.status.containerStatuses[0].containerID}")
        #expect(!bystanderID.isEmpty)

        try expectPrivateFiles(s)
        try sendHostileRequests(s, firstRun: true)
        try hostileImages(s)
        try hostilePods(s)
        try expectBystanderUntouched(s, containerID: bystanderID)

        // Restart on the same data: the stored bad objects are read again by every component.
        s.stop(removeData: false)
        s = try OrcaServerProcess(extraArguments: args, dataDir: s.dataDir)
        try s.eventually("node Ready after restart") {
            try s.k("get", "nodes", "-o", "jsonpath={.items[0].status.conditions[?(@.type=='Ready')].status}") == "True"
        }
        try sendHostileRequests(s, firstRun: false)
        // The agent syncs the stored hostile pods again: the escape is still refused.
        try s.eventually("subPath escape still refused after the restart") {
            try s.k("get", "pod", "planter", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}") == "CreateContainerConfigError"
        }
        #expect(try s.k("get", "pod", "secretwriter", "-o", "jsonpath={.status.phase}") == "Succeeded")
        try expectBystanderUntouched(s, containerID: bystanderID)
    }

    /// The API cases: each answer is checked, and the server process must survive them all.
    func sendHostileRequests(_ s: OrcaServerProcess, firstRun: Bool) throws {
        let pid = s.process.processIdentifier
        let api = try RawAPI(s)

        // Two containers requesting `memory: 9E` each: valid, stored, and the scheduler says
        // the node is too small instead of overflowing.
        if firstRun {
            let overflow = """
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "overflow"},
             "spec": {"containers": [
               {"name": "a", "image": "docker.io/library/busybox:1.35", "resources": {"requests": {"memory": "9E"}}},
               {"name": "b", "image": "docker.io/library/busybox:1.35", "resources": {"requests": {"memory": "9E"}}}]}}
            """
            let created = try api.post("/api/v1/namespaces/default/pods", overflow)
            #expect(created.code == 201, "\(created.text)")
        }
        try s.eventually("overflow pod reported unschedulable") {
            let message = try s.k("get", "pod", "overflow", "-o", "jsonpath={.status.conditions[?(@.type=='PodScheduled')].message}")
            return message.contains("Insufficient memory")
        }

        // Out-of-range numbers: 422 with the field path, or 400 where a Go decoder refuses them.
        let badUser = #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "baduser"}, "spec": {"securityContext": {"runAsUser": -1}, "containers": [{"name": "c", "image": "docker.io/library/busybox:1.35"}]}}"#
        let user = try api.post("/api/v1/namespaces/default/pods", badUser)
        #expect(user.code == 422 && user.json.string("reason") == "Invalid", "\(user.text)")
        #expect(user.text.contains("spec.securityContext.runAsUser"), "\(user.text)")
        let badPort = #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "badport"}, "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 99999999999}]}]}}"#
        let port = try api.post("/api/v1/namespaces/default/pods", badPort)
        #expect(port.code == 400 && port.text.contains("cannot unmarshal number"), "\(port.text)")

        // Query parameters at the edge of Int64.
        let list = try api.get("/api/v1/namespaces/default/pods?limit=9223372036854775807&labelSelector=x%3Dy")
        #expect(list.code == 200, "\(list.text)")
        let negative = try api.get("/api/v1/namespaces/default/pods?limit=-1")
        #expect(negative.code == 400, "\(negative.text)")
        let grace = try api.call("DELETE", "/api/v1/namespaces/default/configmaps/none?gracePeriodSeconds=9223372036854775807")
        #expect(grace.code == 404, "\(grace.text)")
        let tail = try api.get("/api/v1/namespaces/default/pods/bystander/log?tailLines=-1")
        #expect(tail.code == 422, "\(tail.text)")

        // An unsupported field selector.
        let selector = try api.get("/api/v1/namespaces/default/pods?fieldSelector=spec.noSuchField%3Dx")
        #expect(selector.code == 400 && selector.text.contains("field label not supported: spec.noSuchField"), "\(selector.text)")

        // The YAML alias bomb (386 bytes that expand to gigabytes) is refused at once.
        let lol = (1...9).map { i -> String in
            let name = String(UnicodeScalar(UInt8(96 + i)))
            if i == 1 { return "  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]" }
            let previous = String(UnicodeScalar(UInt8(95 + i)))
            return "  \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]"
        }.joined(separator: "\n")
        let bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n\(lol)\n"
        let started = Date()
        let yaml = try api.post("/api/v1/namespaces/default/configmaps", bomb, contentType: "application/yaml")
        #expect(yaml.code == 400, "\(yaml.text)")
        #expect(Date().timeIntervalSince(started) < 30, "the alias bomb took \(Date().timeIntervalSince(started)) s")

        // A 4 MiB body: 413 RequestEntityTooLarge.
        let big = #"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"k": ""# + String(repeating: "x", count: 4 << 20) + #""}}"#
        let large = try api.post("/api/v1/namespaces/default/configmaps", big)
        #expect(large.code == 413 && large.json.string("reason") == "RequestEntityTooLarge", "\(large.text.prefix(300))")
        // Under the request limit but over the stored-object limit.
        let stored = #"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "stored"}, "data": {"k": ""# + String(repeating: "x", count: 2 << 20) + #""}}"#
        let tooBig = try api.post("/api/v1/namespaces/default/configmaps", stored)
        #expect(tooBig.code == 413, "\(tooBig.text.prefix(300))")

        // A JSON patch whose copies would double the object forty times.
        _ = try? s.kubectl(["create", "configmap", "doubling", "--from-literal=a=b"])
        var ops = [#"{"op": "add", "path": "/data/x", "value": "\#(String(repeating: "y", count: 1000))"}"#]
        for i in 0..<40 { ops.append(#"{"op": "copy", "from": "/data", "path": "/data/c\#(i)"}"#) }
        let patch = try api.call("PATCH", "/api/v1/namespaces/default/configmaps/doubling", body: "[" + ops.joined(separator: ",") + "]",
                                 contentType: "application/json-patch+json")
        #expect(patch.code == 422 || patch.code == 413, "\(patch.text.prefix(300))")

        #expect(s.process.isRunning && s.process.processIdentifier == pid, "the server died")
        #expect(try s.k("get", "--raw", "/readyz") == "ok")
    }

    /// Images that try to poison the store: a layer under another layer's diff ID, and an
    /// escaping whiteout. Both imports fail and the store keeps only honest content.
    func hostileImages(_ s: OrcaServerProcess) throws {
        let work = NSTemporaryDirectory() + "orca-e2e-hostile-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let honest = try DockerSaveArchive.layer(in: work, name: "honest", files: ["bin/tool": "honest\n"])
        let evil = try DockerSaveArchive.layer(in: work, name: "evil", files: ["bin/tool": "evil\n"])

        // The evil image claims the honest layer's diff ID.
        let spoofed = try DockerSaveArchive.write(in: work, name: "spoofed", tag: "test/spoofed:1",
                                                  layers: [(evil.tar, honest.diffID)])
        let refused = try OrcaServerProcess.run(OrcaServerProcess.binary, ["image", "import", "--data-dir", s.dataDir, spoofed])
        #expect(refused.status != 0 && (refused.out + refused.err).contains("wrong diff id"), "\(refused.out)\(refused.err)")
        let honestArchive = try DockerSaveArchive.write(in: work, name: "honest-image", tag: "test/honest:1",
                                                        layers: [(honest.tar, honest.diffID)])
        let imported = try OrcaServerProcess.run(OrcaServerProcess.binary, ["image", "import", "--data-dir", s.dataDir, honestArchive])
        #expect(imported.status == 0, "\(imported.out)\(imported.err)")
        let snapshot = s.dataDir + "/images/layers/sha256/" + honest.diffID.dropFirst("sha256:".count)
        #expect((try? String(contentsOfFile: snapshot + "/bin/tool", encoding: .utf8)) == "honest\n")

        // A whiteout named `.wh..` would remove its own directory's parent.
        let escaping = try DockerSaveArchive.layer(in: work, name: "escaping", files: [".wh..": "", "x": "y"])
        let whiteout = try DockerSaveArchive.write(in: work, name: "whiteout", tag: "test/whiteout:1",
                                                   layers: [(escaping.tar, escaping.diffID)])
        let denied = try OrcaServerProcess.run(OrcaServerProcess.binary, ["image", "import", "--data-dir", s.dataDir, whiteout])
        #expect(denied.status != 0 && (denied.out + denied.err).contains("whiteout"), "\(denied.out)\(denied.err)")
        #expect(FileManager.default.fileExists(atPath: snapshot + "/bin/tool"))
        #expect(FileManager.default.fileExists(atPath: s.dataDir + "/images/layers/sha256"))
    }

    /// Pods that try to escape or tamper: a subPath through a symlink a container planted, a
    /// write into a secret volume; and binary secret data that must arrive byte-exact.
    func hostilePods(_ s: OrcaServerProcess) throws {
        // Bytes 0x00, 0xff, 0x80, '\n' and text: base64 "AP+ACmhp".
        _ = try s.k("apply", "-f", "-", stdin: """
        apiVersion: v1
        kind: Secret
        metadata: {name: binary}
        data: {blob: AP+ACmhp}
        """)
        let pods = """
        apiVersion: v1
        kind: Pod
        metadata: {name: planter}
        spec:
          restartPolicy: Never
          volumes: [{name: scratch, emptyDir: {}}]
          initContainers:
          - {name: plant, image: docker.io/library/busybox:1.35, command: ["ln", "-s", "/", "/scratch/evil"], volumeMounts: [{name: scratch, mountPath: /scratch}]}
          containers:
          - {name: escape, image: docker.io/library/busybox:1.35, command: ["ls", "/host"], volumeMounts: [{name: scratch, mountPath: /host, subPath: evil}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: secretwriter}
        spec:
          restartPolicy: Never
          volumes: [{name: s, secret: {secretName: binary}}]
          containers:
          - name: c
            image: docker.io/library/busybox:1.35
            command: ["sh", "-c", "od -An -tx1 /s/blob | tr -d ' \\\\n'; echo; if (echo x > /s/blob) 2>/dev/null; then echo WROTE; else echo READONLY; fi; if touch /s/new 2>/dev/null; then echo CREATED; else echo NOCREATE; fi"]
            volumeMounts: [{name: s, mountPath: /s}]
        """
        _ = try s.k("apply", "-f", "-", stdin: pods)
        try s.eventually("subPath escape refused") {
            let reason = try s.k("get", "pod", "planter", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}")
            return reason == "CreateContainerConfigError"
        }
        let message = try s.k("get", "pod", "planter", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}")
        #expect(message.contains("subPath") || message.contains("symlink"), "\(message)")
        try s.eventually("secret writer finished") {
            try s.k("get", "pod", "secretwriter", "-o", "jsonpath={.status.phase}") == "Succeeded"
        }
        let out = try s.k("logs", "secretwriter")
        #expect(out == "00ff800a6869\nREADONLY\nNOCREATE\n", "\(out)")
    }

    /// Nothing of the server's is open to other local users.
    func expectPrivateFiles(_ s: OrcaServerProcess) throws {
        func mode(_ path: String) throws -> Int {
            try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }
        let d = s.dataDir
        #expect(try mode(d) == 0o711)
        for dir in ["tls", "db", "images", "pods", "runtime", "logs", "run"] {
            #expect(try mode("\(d)/\(dir)") == 0o700, "\(dir)")
        }
        for file in ["kubeconfig.yaml", "tls/ca.key", "tls/server.key", "tls/admin.key", "tls/admin.token", "tls/encryption-config.yaml"] {
            #expect(try mode("\(d)/\(file)") & 0o077 == 0, "\(file) is open to others")
        }
        // A Secret's value is not stored in the clear.
        _ = try s.k("create", "secret", "generic", "atrest", "--from-literal=token=plaintext-needle-4711")
        let db = try Data(contentsOf: URL(fileURLWithPath: "\(d)/db/state.sqlite"))
            + ((try? Data(contentsOf: URL(fileURLWithPath: "\(d)/db/state.sqlite-wal"))) ?? Data())
        #expect(db.range(of: Data("plaintext-needle-4711".utf8)) == nil)
        #expect(db.range(of: Data("cGxhaW50ZXh0LW5lZWRsZS00NzEx".utf8)) == nil, "the base64 value is stored in the clear")
        #expect(try s.k("get", "secret", "atrest", "-o", "jsonpath={.data.token}") == "cGxhaW50ZXh0LW5lZWRsZS00NzEx")
    }

    func expectBystanderUntouched(_ s: OrcaServerProcess, containerID: String) throws {
        try s.eventually("bystander still running") {
            try s.k("get", "pod", "bystander", "-o", "jsonpath={.status.containerStatuses[0].ready}") == "true"
        }
        #expect(try s.k("get", "pod", "bystander", "-o", "jsonpath={.status.containerStatuses[0].containerID}") == containerID)
        #expect(try s.k("get", "pod", "bystander", "-o", "jsonpath={.status.containerStatuses[0].restartCount}") == "0")
    }
}

/// `docker save` archives built by hand, to feed `orca image import` layers it would never
/// accept from an honest tool.
enum DockerSaveArchive {
    /// A tar layer of `files` (uncompressed); its path and diff ID.
    static func layer(in work: String, name: String, files: [String: String]) throws -> (tar: String, diffID: String) {
        let dir = "\(work)/\(name)"
        for (path, content) in files {
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            try FileManager.default.createDirectory(atPath: "\(dir)/\(parent)", withIntermediateDirectories: true)
            try Data(content.utf8).write(to: URL(fileURLWithPath: "\(dir)/\(path)"))
        }
        let tar = "\(work)/\(name).tar"
        let r = try OrcaServerProcess.run("/bin/tar", ["-cf", tar, "-C", dir, "."])
        guard r.status == 0 else { throw E2EError("tar: \(r.err)") }
        let sum = try OrcaServerProcess.run("/usr/bin/sha256sum", [tar]).out
        return (tar, "sha256:" + (sum.split(separator: " ").first.map(String.init) ?? ""))
    }

    /// An archive with `layers` (tar path, the diff ID its config claims); returns its path.
    static func write(in work: String, name: String, tag: String, layers: [(String, String)]) throws -> String {
        let dir = "\(work)/\(name)-archive"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var layerNames: [String] = []
        for (i, layer) in layers.enumerated() {
            let layerName = "layer\(i).tar"
            try FileManager.default.copyItem(atPath: layer.0, toPath: "\(dir)/\(layerName)")
            layerNames.append(layerName)
        }
        let config: [String: Any] = [
            "architecture": "amd64", "os": "linux", "config": ["Cmd": ["sh"]],
            "rootfs": ["type": "layers", "diff_ids": layers.map(\.1)],
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: URL(fileURLWithPath: "\(dir)/config.json"))
        let manifest: [[String: Any]] = [["Config": "config.json", "RepoTags": [tag], "Layers": layerNames]]
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: "\(dir)/manifest.json"))
        let archive = "\(work)/\(name).tar"
        let r = try OrcaServerProcess.run("/bin/tar", ["-cf", archive, "-C", dir, "."])
        guard r.status == 0 else { throw E2EError("tar: \(r.err)") }
        return archive
    }
}
