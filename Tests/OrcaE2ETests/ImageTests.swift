import Foundation
import Testing

/// Issue 6 end to end: pods run images pulled from real registries on loopback (anonymous and
/// htpasswd-protected with an imagePullSecret), pull failures back off, archives imported with
/// `orca image import` run, and a shared base layer is stored once.
@Suite(.serialized) struct ImageTests {
    @Test func podsRunImagesFromRegistriesAndArchives() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let open = try LoopbackRegistry()
        defer { open.stop() }
        let locked = try LoopbackRegistry(credentials: ("orca", "s3cret"))
        defer { locked.stop() }
        // The agent builds the built-in busybox as it starts, maybe after its node is Ready.
        try s.eventually("the built-in busybox is stored") {
            let refs = try? Data(contentsOf: URL(fileURLWithPath: s.dataDir + "/images/refs.json"))
            return refs.map { String(decoding: $0, as: UTF8.self).contains("docker.io/library/busybox:1.35") } ?? false
        }
        let layout = try TestImageLayout(store: s.dataDir + "/images", base: "docker.io/library/busybox:1.35",
                                         file: "hello.txt", content: "hello from the registry\n", tag: "v1")
        defer { layout.remove() }
        try open.push("oci:\(layout.path):v1", as: "test/app:v1")
        try locked.push("oci:\(layout.path):v1", as: "private/app:v1")

        let pods = """
        apiVersion: v1
        kind: Pod
        metadata: {name: pulled}
        spec:
          containers: [{name: c, image: "\(open.host)/test/app:v1", command: ["sh", "-c", "cat /hello.txt; sleep 3600"]}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: nosecret}
        spec:
          containers: [{name: c, image: "\(locked.host)/private/app:v1", command: ["sleep", "3600"]}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: missing}
        spec:
          containers: [{name: c, image: "\(open.host)/test/missing:v1"}]
        """
        _ = try s.k("apply", "-f", "-", stdin: pods)
        _ = try s.k("wait", "--for=condition=Ready", "pod/pulled", "--timeout=90s")
        #expect(try s.k("logs", "pulled") == "hello from the registry\n")
        let events = try s.k("get", "events", "--field-selector", "involvedObject.name=pulled", "-o", "jsonpath={.items[*].message}")
        #expect(events.contains("Pulling image \"\(open.host)/test/app:v1\""), "\(events)")
        #expect(events.contains("Successfully pulled image \"\(open.host)/test/app:v1\""), "\(events)")

        func waiting(_ pod: String) throws -> (reason: String, message: String) {
            let out = try s.k("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}")
            let parts = out.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
        // Without credentials: a clear error, then back-off.
        try s.eventually("nosecret fails to pull") { ["ErrImagePull", "ImagePullBackOff"].contains(try waiting("nosecret").reason) }
        let failures = try s.k("get", "events", "--field-selector", "involvedObject.name=nosecret,reason=Failed", "-o", "jsonpath={.items[*].message}")
        #expect(failures.contains("authentication is required for \(locked.host)"), "\(failures)")
        try s.eventually("missing backs off") { try waiting("missing").reason == "ImagePullBackOff" }
        #expect(try waiting("missing").message.contains("Back-off pulling image"))

        // With an imagePullSecret the private image runs.
        _ = try s.k("create", "secret", "docker-registry", "regcred", "--docker-server=\(locked.host)",
                    "--docker-username=orca", "--docker-password=s3cret")
        let privatePod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: withsecret}
        spec:
          imagePullSecrets: [{name: regcred}]
          containers: [{name: c, image: "\(locked.host)/private/app:v1", command: ["sh", "-c", "cat /hello.txt; sleep 3600"]}]
        """
        _ = try s.k("apply", "-f", "-", stdin: privatePod)
        _ = try s.k("wait", "--for=condition=Ready", "pod/withsecret", "--timeout=90s")
        #expect(try s.k("logs", "withsecret") == "hello from the registry\n")

        // The node lists its images.
        try s.eventually("node status.images lists the pulled image") {
            try s.k("get", "nodes", "-o", "jsonpath={.items[0].status.images[*].names}").contains("\(open.host)/test/app:v1")
        }

        // An archive imported with `orca image import` runs with imagePullPolicy Never.
        let other = try TestImageLayout(store: s.dataDir + "/images", base: "docker.io/library/busybox:1.35",
                                        file: "hello.txt", content: "hello from an archive\n", tag: "v2")
        defer { other.remove() }
        let archive = other.path + ".tar"
        let saved = try OrcaServerProcess.run("/usr/bin/skopeo", ["copy", "--quiet", "oci:\(other.path):v2", "docker-archive:\(archive):example.com/imported/app:v2"])
        #expect(saved.status == 0, "\(saved.err)")
        let imported = try OrcaServerProcess.run(OrcaServerProcess.binary, ["image", "import", "--data-dir", s.dataDir, archive])
        #expect(imported.status == 0, "\(imported.err)")
        #expect(imported.out.contains("example.com/imported/app:v2"), "\(imported.out)")
        _ = try s.k("run", "imported", "--image=example.com/imported/app:v2", "--image-pull-policy=Never", "--", "sh", "-c", "cat /hello.txt; sleep 3600")
        _ = try s.k("wait", "--for=condition=Ready", "pod/imported", "--timeout=60s")
        #expect(try s.k("logs", "imported") == "hello from an archive\n")
        let listed = try OrcaServerProcess.run(OrcaServerProcess.binary, ["image", "ls", "--data-dir", s.dataDir])
        #expect(listed.out.contains("example.com/imported/app"), "\(listed.out)")
        #expect(listed.out.contains("\(open.host)/test/app"), "\(listed.out)")

        // Every image shares busybox's layer: three snapshots in all (the base and each hello.txt).
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: s.dataDir + "/images/layers/sha256").filter { !$0.hasPrefix(".") }
        #expect(snapshots.count == 3, "\(snapshots)")

        // prune removes what no container uses (the failed pods' images were never stored).
        _ = try s.k("delete", "pod", "imported", "--grace-period=1", "--wait=true")
        let pruned = try OrcaServerProcess.run(OrcaServerProcess.binary, ["image", "prune", "--data-dir", s.dataDir])
        #expect(pruned.status == 0, "\(pruned.err)")
        #expect(pruned.out.contains("example.com/imported/app:v2"), "\(pruned.out)")
        let after = try OrcaServerProcess.run(OrcaServerProcess.binary, ["image", "ls", "--data-dir", s.dataDir]).out
        #expect(!after.contains("example.com/imported/app"), "\(after)")
        #expect(after.contains("\(open.host)/test/app"), "a running pod's image stays: \(after)")
    }
}

/// An OCI image layout on disk: an image from the server's store (its blobs are laid out as an
/// OCI layout's are) with one more layer holding one file, tagged `tag`.
struct TestImageLayout {
    let path: String

    init(store: String, base: String, file: String, content: String, tag: String) throws {
        path = NSTemporaryDirectory() + "orca-e2e-layout-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        try fm.createDirectory(atPath: path + "/blobs/sha256", withIntermediateDirectories: true)
        let refs = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: store + "/refs.json"))) as! [String: String]
        guard let baseDigest = refs[base] else { throw E2EError("\(base) is not in the store") }
        func blob(_ digest: String) throws -> Data {
            try Data(contentsOf: URL(fileURLWithPath: store + "/blobs/sha256/" + digest.dropFirst("sha256:".count)))
        }
        var manifest = try JSONSerialization.jsonObject(with: blob(baseDigest)) as! [String: Any]
        let configDescriptor = manifest["config"] as! [String: Any]
        var config = try JSONSerialization.jsonObject(with: blob(configDescriptor["digest"] as! String)) as! [String: Any]
        for layer in manifest["layers"] as! [[String: Any]] {
            try put(blob(layer["digest"] as! String))
        }
        // The new layer: a tar with the file, gzipped; its diff ID is the tar's digest.
        let work = path + ".work"
        try fm.createDirectory(atPath: work + "/root", withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: work) }
        try Data(content.utf8).write(to: URL(fileURLWithPath: work + "/root/" + file))
        let tar = try OrcaServerProcess.run("/bin/tar", ["-C", work + "/root", "--owner=0", "--group=0", "-cf", work + "/layer.tar", file])
        guard tar.status == 0 else { throw E2EError("tar: \(tar.err)") }
        let diffID = Self.sha256(try Data(contentsOf: URL(fileURLWithPath: work + "/layer.tar")))
        let gz = try OrcaServerProcess.run("/bin/gzip", ["-n", work + "/layer.tar"])
        guard gz.status == 0 else { throw E2EError("gzip: \(gz.err)") }
        let layer = try Data(contentsOf: URL(fileURLWithPath: work + "/layer.tar.gz"))
        let layerDigest = try put(layer)
        var rootfs = config["rootfs"] as! [String: Any]
        rootfs["diff_ids"] = (rootfs["diff_ids"] as! [String]) + [diffID]
        config["rootfs"] = rootfs
        let configData = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        let configDigest = try put(configData)
        manifest["config"] = ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configData.count]
        manifest["layers"] = (manifest["layers"] as! [[String: Any]]) + [
            ["mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layerDigest, "size": layer.count],
        ]
        manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
        let manifestData = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
        let manifestDigest = try put(manifestData)
        let index: [String: Any] = ["schemaVersion": 2, "manifests": [[
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestData.count,
            "annotations": ["org.opencontainers.image.ref.name": tag],
        ]]]
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: path + "/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: path + "/oci-layout"))
    }

    /// Writes a blob into the layout; returns its digest.
    @discardableResult
    func put(_ data: Data) throws -> String {
        let digest = Self.sha256(data)
        try data.write(to: URL(fileURLWithPath: path + "/blobs/sha256/" + digest.dropFirst("sha256:".count)))
        return digest
    }

    static func sha256(_ data: Data) -> String {
        let tmp = NSTemporaryDirectory() + "orca-e2e-blob-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try? data.write(to: URL(fileURLWithPath: tmp))
        let out = (try? OrcaServerProcess.run("/usr/bin/sha256sum", [tmp]).out) ?? ""
        return "sha256:" + (out.split(separator: " ").first.map(String.init) ?? "")
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + ".tar")
    }
}
