import Foundation
import OrcaCore
import Testing
@testable import OrcaRuntime

@Suite struct OCISpecTests {
    private func config(_ configure: (inout ContainerConfig) -> Void = { _ in }) -> ContainerConfig {
        var c = ContainerConfig(id: "c1", args: ["sh"], rootfsLayers: ["/l"], cgroupsPath: "/orca/podu/c1")
        configure(&c)
        return c
    }

    @Test func defaults() throws {
        let spec = try OCISpec(config())
        #expect(spec.process.capabilities?.bounding == OCISpec.allCapabilities.filter(OCISpec.defaultCapabilities.contains))
        #expect(spec.process.capabilities?.ambient == [])
        #expect(spec.process.env == [OCISpec.defaultPathEnv])
        #expect(spec.process.cwd == "/")
        #expect(spec.process.noNewPrivileges == nil)
        #expect(spec.root == .init(path: "rootfs", readonly: nil))
        #expect(spec.mounts.map(\.destination) == ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"])
        #expect(spec.mounts.first { $0.destination == "/sys" }?.options?.contains("ro") == true)
        #expect(spec.linux.namespaces == ["pid", "mount", "network", "uts", "ipc"].map { OCISpec.Namespace(type: $0) })
        #expect(spec.linux.maskedPaths == OCISpec.defaultMaskedPaths)
        #expect(spec.linux.readonlyPaths == OCISpec.defaultReadonlyPaths)
        #expect(spec.linux.cgroupsPath == "/orca/podu/c1")
        #expect(spec.linux.resources?.devices == [.init(allow: false, access: "rwm")])
        #expect(spec.linux.resources?.memory == nil)
        #expect(spec.hostname == nil)
    }

    @Test func everythingSet() throws {
        let spec = try OCISpec(config {
            $0.env = ["PATH=/bin", "A=b"]
            $0.workingDir = "/tmp"
            $0.user = .init(uid: 1000, gid: 2000, additionalGids: [3000])
            $0.hostname = "pod"
            $0.readOnlyRootfs = true
            $0.namespaces = .init(network: "/run/netns/p", uts: "/run/uts/p", ipc: "/run/ipc/p")
            $0.noNewPrivileges = true
            $0.resources = .init(memoryLimitBytes: 1 << 20, cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, pidsLimit: 64)
            $0.shmPath = "/run/shm/p"
            $0.mounts = [.init(destination: "/etc/hosts", source: "/x/hosts", options: ["rbind", "ro"])]
            $0.oomScoreAdj = 999
            $0.annotations = ["io.kubernetes.pod.uid": "u"]
        })
        #expect(spec.process.env == ["PATH=/bin", "A=b"])
        #expect(spec.process.user == .init(uid: 1000, gid: 2000, additionalGids: [3000]))
        #expect(spec.process.cwd == "/tmp")
        #expect(spec.process.noNewPrivileges == true)
        #expect(spec.process.oomScoreAdj == 999)
        #expect(spec.hostname == "pod")
        #expect(spec.root.readonly == true)
        #expect(spec.linux.namespaces.first { $0.type == "network" }?.path == "/run/netns/p")
        #expect(spec.linux.namespaces.first { $0.type == "uts" }?.path == "/run/uts/p")
        #expect(spec.linux.namespaces.first { $0.type == "ipc" }?.path == "/run/ipc/p")
        #expect(spec.linux.namespaces.first { $0.type == "pid" }?.path == nil)
        #expect(spec.linux.resources?.memory?.limit == 1 << 20)
        #expect(spec.linux.resources?.cpu == .init(shares: 512, quota: 50_000, period: 100_000))
        #expect(spec.linux.resources?.pids?.limit == 64)
        #expect(spec.mounts.first { $0.destination == "/dev/shm" } == .init(destination: "/dev/shm", type: "bind", source: "/run/shm/p", options: ["rbind", "nosuid", "noexec", "nodev"]))
        #expect(spec.mounts.last == .init(destination: "/etc/hosts", type: "bind", source: "/x/hosts", options: ["rbind", "ro"]))
        #expect(spec.annotations == ["io.kubernetes.pod.uid": "u"])

        // Round trip through config.json.
        let data = try JSONEncoder().encode(spec)
        #expect(try JSONDecoder().decode(OCISpec.self, from: data) == spec)
    }

    @Test func privileged() throws {
        let spec = try OCISpec(config { $0.privileged = true; $0.capabilities.drop = ["ALL"] })
        #expect(spec.process.capabilities?.bounding == OCISpec.allCapabilities)
        #expect(spec.linux.maskedPaths == nil)
        #expect(spec.linux.readonlyPaths == nil)
        #expect(spec.linux.resources?.devices == [.init(allow: true, access: "rwm")])
        #expect(spec.mounts.first { $0.destination == "/sys" }?.options?.contains("rw") == true)
    }

    @Test(arguments: [
        (["NET_ADMIN"], [String](), OCISpec.defaultCapabilities + ["CAP_NET_ADMIN"]),
        ([], ["KILL", "cap_chown"], OCISpec.defaultCapabilities.filter { $0 != "CAP_KILL" && $0 != "CAP_CHOWN" }),
        (["NET_BIND_SERVICE"], ["ALL"], ["CAP_NET_BIND_SERVICE"]),
        (["ALL"], ["NET_RAW"], OCISpec.allCapabilities),
        ([], ["ALL"], []),
    ])
    func capabilityChanges(add: [String], drop: [String], expected: [String]) throws {
        let caps = try OCISpec.capabilities(privileged: false, changes: .init(add: add, drop: drop))
        #expect(caps == OCISpec.allCapabilities.filter(Set(expected).contains))
    }

    @Test func invalidConfigsAreRejected() {
        #expect(throws: OrcaError.self) { try OCISpec(config { $0.id = "a/b" }) }
        #expect(throws: OrcaError.self) { try OCISpec(config { $0.args = [] }) }
        #expect(throws: OrcaError.self) { try OCISpec(config { $0.workingDir = "tmp" }) }
        #expect(throws: OrcaError.self) { try OCISpec(config { $0.cgroupsPath = "orca/x" }) }
        #expect(throws: OrcaError.self) { try OCISpec(config { $0.capabilities.add = ["CAP_BOGUS"] }) }
        #expect(throws: OrcaError.self) { try OCISpec(config { $0.mounts = [.init(destination: "rel", source: "/x")] }) }
    }

    @Test func bundleWritesConfigJSON() throws {
        let dir = NSTemporaryDirectory() + "orca-bundle-test-\(uniqueSuffix())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bundle = OCIBundle(path: dir)
        try bundle.createDirectories()
        let spec = try bundle.write(config())
        #expect(try bundle.readSpec() == spec)
        let json = try JSONValue.parse(Array(FileManager.default.contents(atPath: bundle.configPath)!))
        #expect(json["ociVersion"] == "1.0.2")
        #expect(json[path: ["process", "terminal"]] == false)
        #expect(json[path: ["root", "readonly"]] == nil)
    }

    @Test func conmonArgumentsFollowCRIO() {
        let conmon = Conmon(binary: "/usr/bin/conmon", runtimePath: "/usr/sbin/runc", runtimeRoot: "/d/runc")
        let args = conmon.arguments(.init(
            id: "c1", name: "n", bundle: "/d/containers/c1", containerPidFile: "/d/containers/c1/pidfile",
            conmonPidFile: "/d/containers/c1/conmon.pid", exitDir: "/d/exits", persistDir: "/d/containers/c1",
            logPath: "/logs/c1.log", socketDir: "/d/sockets", stderrPath: "/d/containers/c1/conmon.stderr"))
        #expect(args == [
            "--api-version", "1", "-c", "c1", "-u", "c1", "-n", "n", "-r", "/usr/sbin/runc", "-b", "/d/containers/c1",
            "-p", "/d/containers/c1/pidfile", "-P", "/d/containers/c1/conmon.pid", "--exit-dir", "/d/exits",
            "--persist-dir", "/d/containers/c1", "-l", "k8s-file:/logs/c1.log", "--log-level", "error",
            "--socket-dir-path", "/d/sockets", "--runtime-arg", "--root=/d/runc",
        ])
    }

    @Test func runcErrorMessagesAreDecoded() {
        let stderr = #"{"level":"warning","msg":"w","time":"t"}"# + "\n" + #"{"level":"error","msg":"container \"x\" does not exist","time":"t"}"#
        #expect(Runc.errorMessage(Array(stderr.utf8)) == #"container "x" does not exist"#)
        #expect(Runc.errorMessage(Array("plain text\n".utf8)) == "plain text")
    }
}
