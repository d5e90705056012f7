import Foundation
import Glibc
import OrcaCore

/// Images Orca builds itself, so that a pod runs with no registry.
public enum BuiltinImages {
    /// The names the built-in busybox image is stored under.
    public static let busyboxNames = ["docker.io/library/busybox:1.35", "docker.io/library/busybox:latest"]

    /// The `PATH` of the built-in image (Docker's default).
    public static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Makes sure `docker.io/library/busybox:1.35` and `:latest` are in `store`, building them from
    /// the host's static busybox (Debian `busybox-static`) when absent. Fast and idempotent when present.
    ///
    /// The image is a proper OCI image: one uncompressed layer (`/bin/busybox`, a symlink in `/bin`
    /// for every applet `busybox --list` prints, `/etc/passwd` and `/etc/group` with root and nobody,
    /// and `/tmp`, `/root`, `/home`, `/etc`, `/proc`, `/sys`, `/dev`, `/var`, `/usr`), an image config
    /// with Docker's default `PATH` and `Cmd: ["sh"]`, and a manifest referencing both by digest. The
    /// layer tar is reproducible (sorted, owner 0, mtime 0), so the same busybox gives the same digests.
    @discardableResult
    public static func ensureBusybox(in store: ImageStore, busybox: String = "/bin/busybox") async throws -> Image {
        if let existing = try? store.image(busyboxNames[0]),
           try busyboxNames.dropFirst().allSatisfy({ try store.image($0)?.manifestDigest == existing.manifestDigest }) {
            return existing
        }
        guard FileManager.default.isExecutableFile(atPath: busybox) else {
            throw OrcaError(.notFound, "\(busybox) is missing: install Debian's busybox-static")
        }
        let staging = store.stagingPath("busybox")
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let rootfs = "\(staging)/rootfs"
        let applets = try await listApplets(busybox, runner: store.runner)
        try makeRootfs(at: rootfs, busybox: busybox, applets: applets)

        let tarball = "\(staging)/layer.tar"
        try await store.runner.checked(store.tarPath, [
            "--create", "--file", tarball, "--directory", rootfs,
            "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "--format=gnu", ".",
        ])
        let layer = try store.putBlob(movingFileAt: tarball)

        let configuration = OCIImage.Configuration(
            created: "1970-01-01T00:00:00Z",
            architecture: OCIImage.hostArchitecture,
            config: ImageConfig(env: [defaultPath], cmd: ["sh"]),
            rootfs: OCIImage.RootFS(diffIDs: [layer.digest]),
            history: [OCIImage.History(created: "1970-01-01T00:00:00Z", createdBy: "orca: busybox from \(busybox)")]
        )
        let config = try store.putBlob(OCIImage.encode(configuration))
        let manifest = OCIImage.Manifest(
            config: .init(mediaType: OCIImage.MediaType.config, digest: config.digest, size: config.size),
            layers: [.init(mediaType: OCIImage.MediaType.layer, digest: layer.digest, size: layer.size)]
        )
        let manifestData = try OCIImage.encode(manifest)
        var image: Image?
        for name in busyboxNames { image = try await store.register(name, manifest: manifestData) }
        return image!
    }

    /// The applet names `busybox --list` prints, without `busybox` itself.
    static func listApplets(_ busybox: String, runner: any CommandRunner) async throws -> [String] {
        let out = try await runner.checked(busybox, ["--list"])
        return String(decoding: out.standardOutput, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map(String.init)
            .filter { !$0.isEmpty && $0 != "busybox" && !$0.contains("/") }
    }

    /// Lays out the image's file tree at `root`.
    static func makeRootfs(at root: String, busybox: String, applets: [String]) throws {
        let fm = FileManager.default
        let dirs: [(String, Int)] = [
            ("", 0o755), ("bin", 0o755), ("etc", 0o755), ("home", 0o755), ("root", 0o700), ("tmp", 0o1777),
            ("proc", 0o555), ("sys", 0o555), ("dev", 0o755), ("var", 0o755), ("usr", 0o755),
        ]
        for (dir, _) in dirs { try fm.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true) }
        try fm.copyItem(atPath: busybox, toPath: "\(root)/bin/busybox")
        for applet in applets where !Syscall.exists("\(root)/bin/\(applet)") {
            try fm.createSymbolicLink(atPath: "\(root)/bin/\(applet)", withDestinationPath: "busybox")
        }
        let files: [(String, String, Int)] = [
            ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n", 0o644),
            ("etc/group", "root:x:0:\nnobody:x:65534:\n", 0o644),
        ]
        for (path, text, _) in files {
            guard fm.createFile(atPath: "\(root)/\(path)", contents: Data(text.utf8)) else {
                throw OrcaError(.system, "cannot write \(root)/\(path)")
            }
        }
        // Modes are set explicitly so the umask cannot change the layer's digest.
        for (dir, mode) in dirs { try Syscall.call("chmod", "\(root)/\(dir)") { chmod("\(root)/\(dir)", mode_t(mode)) } }
        for (path, _, mode) in files { try Syscall.call("chmod", path) { chmod("\(root)/\(path)", mode_t(mode)) } }
        try Syscall.call("chmod", "busybox") { chmod("\(root)/bin/busybox", 0o755) }
    }
}
