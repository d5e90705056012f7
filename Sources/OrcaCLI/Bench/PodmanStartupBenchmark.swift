import Foundation
import OrcaCore
import OrcaRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The same pod started with `podman kube play`, for comparison: time from launching
/// `podman kube play` to `podman wait --condition=running` returning for its container.
///
/// Podman runs on private storage under a temporary dir (`--root`, `--runroot`, `--tmpdir`) with
/// a private `containers.conf` (runc, cgroupfs, file events, rlimits this machine allows), with
/// `--network none`, and a busybox image imported from the host's static busybox as
/// `docker.io/library/busybox:1.35`. `cleanup(preexisting:)` removes its pods, image, cgroups,
/// the host dirs podman made and the temporary dir.
struct PodmanStartupBenchmark: Sendable {
    let podman: String
    let dir: String
    let runner = SubprocessCommandRunner()
    let clock = ContinuousClock()

    /// The podman executable on `PATH`, if installed.
    static func find() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/podman" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(podman: String, dir: String) {
        self.podman = podman
        self.dir = dir
    }

    private var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["CONTAINERS_CONF"] = dir + "/containers.conf"
        return env
    }

    /// Runs podman with the private storage flags; throws on a nonzero exit.
    @discardableResult
    private func runPodman(_ arguments: [String]) async throws -> CommandResult {
        let all = ["--root", dir + "/storage", "--runroot", dir + "/run", "--tmpdir", dir + "/tmp"] + arguments
        let result = try await runner.run(podman, all, environment: environment)
        guard result.exitCode == 0 else {
            throw OrcaError(.system, "podman \(arguments.joined(separator: " ")) exited \(result.exitCode): \(result.errorText)")
        }
        return result
    }

    /// Writes the configuration and imports the busybox image.
    func setup(busybox: String = "/bin/busybox") async throws {
        let fm = FileManager.default
        for sub in ["tmp", "pods", "rootfs/bin", "rootfs/etc", "rootfs/tmp", "rootfs/proc", "rootfs/sys", "rootfs/dev"] {
            try fm.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true)
        }
        // Podman's default rlimits (1048576) are more than root may set where CAP_SYS_RESOURCE is
        // missing, and runc then fails; limits no higher than ours always work.
        let conf = """
        [containers]
        default_ulimits = ["nofile=\(Self.hardLimit(RLIMIT_NOFILE, atMost: 1024))", "nproc=\(Self.hardLimit(__RLIMIT_NPROC, atMost: 4096))"]
        [engine]
        runtime = "runc"
        cgroup_manager = "cgroupfs"
        events_logger = "file"
        [engine.runtimes]
        runc = ["/usr/sbin/runc"]

        """
        try conf.write(toFile: dir + "/containers.conf", atomically: true, encoding: .utf8)

        guard fm.isExecutableFile(atPath: busybox) else { throw OrcaError(.notFound, "\(busybox) is missing: install Debian's busybox-static") }
        try fm.copyItem(atPath: busybox, toPath: dir + "/rootfs/bin/busybox")
        let list = try await runner.run(busybox, ["--list"], environment: nil)
        for applet in String(decoding: list.standardOutput, as: UTF8.self).split(separator: "\n")
        where !applet.isEmpty && applet != "busybox" && !applet.contains("/") {
            try? fm.createSymbolicLink(atPath: "\(dir)/rootfs/bin/\(applet)", withDestinationPath: "busybox")
        }
        let tar = try await runner.run("/bin/tar", ["--create", "--file", dir + "/rootfs.tar", "--directory", dir + "/rootfs", "."], environment: nil)
        guard tar.exitCode == 0 else { throw OrcaError(.system, "tar of the busybox rootfs failed: \(tar.errorText)") }
        try await runPodman(["import", "--quiet",
                          "--change", "CMD [\"sh\"]",
                          "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                          dir + "/rootfs.tar", "docker.io/library/busybox:1.35"])
    }

    /// A hard resource limit, capped at `cap` (as `soft:hard`).
    private static func hardLimit(_ resource: __rlimit_resource, atMost cap: UInt64) -> String {
        var limit = rlimit()
        let value = getrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0 ? min(UInt64(limit.rlim_max), cap) : cap
        return "\(value):\(value)"
    }

    /// Plays pod `name` and waits for its container to run; returns the wall time.
    func startPod(_ name: String) async throws -> Duration {
        let file = "\(dir)/pods/\(name).json"
        try PodStartupBenchmark.manifest(name: name).jsonString.write(toFile: file, atomically: true, encoding: .utf8)
        let t0 = clock.now
        try await runPodman(["kube", "play", "--network", "none", file])
        try await runPodman(["wait", "--condition=running", "\(name)-main"])
        return t0.duration(to: clock.now)
    }

    /// One cold pod, `count` pods one at a time, then `burst` at once.
    func run(count: Int, burst: Int) async throws -> PodStartupBenchmark.Results {
        let tag = BenchServer.randomHex(4)
        var results = PodStartupBenchmark.Results(cold: LatencySamples(name: "first pod (cold)", unit: "pod"),
                                                  sequential: LatencySamples(name: "one at a time", unit: "pod"),
                                                  burst: LatencySamples(name: "burst of \(burst)", unit: "pod"), names: [])
        BenchLog.info("podman: first pod")
        results.cold.record(try await startPod("cold-\(tag)"))
        BenchLog.info("podman: \(count) pods one at a time")
        let start = clock.now
        for i in 0..<count { results.sequential.record(try await startPod("seq-\(tag)-\(i)")) }
        results.sequential.elapsed = start.duration(to: clock.now)
        BenchLog.info("podman: burst of \(burst) pods")
        let burstStart = clock.now
        try await withThrowingTaskGroup(of: Duration.self) { group in
            for i in 0..<burst { group.addTask { try await startPod("burst-\(tag)-\(i)") } }
            for try await d in group { results.burst.record(d) }
        }
        results.burst.elapsed = burstStart.duration(to: clock.now)
        return results
    }

    /// Host paths podman creates outside its private dirs even so: its cgroupfs parent, its
    /// blob-info cache (written by `import`) and its network state dir; children before parents.
    static let hostPaths = ["/sys/fs/cgroup/memory/libpod_parent", "/var/lib/containers/cache", "/var/lib/containers",
                            "/run/containers/networks", "/run/containers"]

    /// Which of `hostPaths` exist now, so that `cleanup` removes only those the run made.
    static func existingHostPaths() -> Set<String> {
        Set(hostPaths.filter { FileManager.default.fileExists(atPath: $0) })
    }

    /// Removes every pod and image of this private podman, the cgroups of its pods, the `hostPaths`
    /// not in `preexisting`, unmounts what is left under the dir and deletes it.
    func cleanup(preexisting: Set<String>) async {
        let removeCgroupParent = !preexisting.contains(Self.hostPaths[0])
        BenchLog.info("podman: removing pods")
        let pods = (try? await runPodman(["pod", "ps", "--quiet", "--no-trunc"])).map {
            String(decoding: $0.standardOutput, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        } ?? []
        // Stopping first: podman 4.3's `pod rm --force --time 0` takes some 3 s per running pod.
        do { try await runPodman(["pod", "stop", "--all", "--time", "0"]) } catch { BenchLog.info("warning: \(error)") }
        do { try await runPodman(["pod", "rm", "--all", "--force"]) } catch { BenchLog.info("warning: \(error)") }
        do { try await runPodman(["rm", "--all", "--force", "--time", "0"]) } catch { BenchLog.info("warning: \(error)") }
        do { try await runPodman(["rmi", "--all", "--force"]) } catch { BenchLog.info("warning: \(error)") }
        for mount in MountTable.mountPoints(under: dir) { _ = umount2(mount, Int32(MNT_DETACH)) }
        let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        for hierarchy in hierarchies {
            let parent = "/sys/fs/cgroup/\(hierarchy)/libpod_parent"
            for pod in pods { Self.removeCgroupTree(parent + "/" + pod) }
            if removeCgroupParent { Self.removeCgroupTree(parent) }
        }
        for path in Self.hostPaths.dropFirst() where !preexisting.contains(path) {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            if path == "/var/lib/containers/cache" || entries.isEmpty { try? FileManager.default.removeItem(atPath: path) }
        }
        do { try FileManager.default.removeItem(atPath: dir) } catch { BenchLog.info("warning: cannot remove \(dir): \(error)") }
        BenchLog.info("podman: removed \(pods.count) pods")
    }

    /// Removes an (empty) cgroup directory and its child cgroups, deepest first; cgroups still
    /// holding processes stay (rmdir fails on them).
    private static func removeCgroupTree(_ path: String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return }
        for child in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            var childIsDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path + "/" + child, isDirectory: &childIsDirectory), childIsDirectory.boolValue {
                removeCgroupTree(path + "/" + child)
            }
        }
        if rmdir(path) != 0 { BenchLog.info("warning: cgroup \(path) left (in use)") }
    }
}
