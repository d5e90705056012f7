import Foundation
import Glibc
import OrcaCore
import Testing
@testable import OrcaRuntime

@Suite(.enabled(if: runningAsRoot, "needs root: mounts, runc, cgroups"))
struct RuncContainerRuntimeTests {
    @Test func exitCodeAndLog() async throws {
        try await RuntimeFixture.run { f in
            let config = f.config("echo", args: ["sh", "-c", "echo hello; echo oops >&2; exit 3"])
            let clock = ContinuousClock()
            let t0 = clock.now
            try await f.runtime.create(config, logPath: f.logPath(config.id))
            #expect(try await f.runtime.state(config.id) == .created)
            try await f.runtime.start(config.id)
            print("create → started: \(clock.now - t0)")
            guard case .exited(let code, let startedAt, _, let oom) = try await f.waitForExit(config.id) else {
                Issue.record("container did not exit")
                return
            }
            #expect(code == 3)
            #expect(startedAt != nil)
            #expect(!oom)
            let lines = f.logLines(config.id)
            #expect(lines.contains { $0.stream == "stdout" && $0.text == "hello" })
            #expect(lines.contains { $0.stream == "stderr" && $0.text == "oops" })
            try await f.runtime.remove(config.id)
            #expect(!Syscall.exists(f.runtime.containerDirectory(config.id)))
            await #expect(throws: OrcaError.self) { try await f.runtime.state(config.id) }
        }
    }

    /// `sleep` as PID 1 of its namespace ignores SIGTERM, so stop must fall back to SIGKILL.
    @Test func stopFallsBackToKillAndRemoveLeavesNothing() async throws {
        try await RuntimeFixture.run { f in
            let config = f.config("sleep", args: ["sleep", "1000"])
            try await f.runtime.create(config, logPath: f.logPath(config.id))
            try await f.runtime.start(config.id)
            guard case .running(let pid, _) = try await f.runtime.state(config.id) else {
                Issue.record("container is not running")
                return
            }
            #expect(Syscall.isAlive(pid))
            let record = try #require(try ContainerRecord.load(from: f.runtime.containerDirectory(config.id)))
            let monitor = try #require(record.conmonPID)
            #expect(Syscall.isAlive(monitor))

            // A restarted agent (a new runtime over the same data directory) adopts it.
            let adopted = try await RuncContainerRuntime(dataDirectory: f.dataDirectory).list()
            #expect(adopted.map(\.id) == [config.id])
            #expect(adopted.first?.status == .running(pid: pid, startedAt: record.startedAt!))

            try await f.runtime.stop(config.id, gracePeriod: .milliseconds(300))
            guard case .exited(let code, _, _, let oom) = try await f.runtime.state(config.id) else {
                Issue.record("container did not exit")
                return
            }
            #expect(code == 128 + SIGKILL)
            #expect(!oom)
            try await f.runtime.stop(config.id, gracePeriod: .seconds(1))  // exited: a no-op

            let rootfs = OCIBundle(path: f.runtime.containerDirectory(config.id)).rootfsPath
            #expect(MountTable.isMountPoint(rootfs))
            try await f.runtime.remove(config.id)
            #expect(!MountTable.isMountPoint(rootfs))
            #expect(!Cgroups.exists(config.cgroupsPath))
            #expect(!Syscall.isAlive(pid))
            #expect(!Syscall.isAlive(monitor))
            #expect(try await f.runtime.list().isEmpty)
            #expect(try await f.runtime.runc.list().isEmpty)
            try await f.runtime.remove(config.id)  // idempotent
        }
    }

    @Test func stopWithTrapExitsGracefully() async throws {
        try await RuntimeFixture.run { f in
            let config = f.config("trap", args: ["sh", "-c", "trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 0.05; done"])
            try await f.runtime.create(config, logPath: f.logPath(config.id))
            try await f.runtime.start(config.id)
            // Wait until the trap is installed.
            for _ in 0..<250 where !f.logLines(config.id).contains(where: { $0.text == "ready" }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await f.runtime.stop(config.id, gracePeriod: .seconds(20))
            guard case .exited(let code, _, _, _) = try await f.runtime.state(config.id) else {
                Issue.record("container did not exit")
                return
            }
            #expect(code == 0)
            #expect(f.logLines(config.id).contains { $0.text == "bye" })
        }
    }

    @Test func memoryLimitOOMKills() async throws {
        try await RuntimeFixture.run { f in
            let config = f.config("oom", args: ["tail", "/dev/zero"]) {
                $0.resources.memoryLimitBytes = 16 << 20
            }
            try await f.runtime.create(config, logPath: f.logPath(config.id))
            try await f.runtime.start(config.id)
            guard case .exited(let code, _, _, let oom) = try await f.waitForExit(config.id) else {
                Issue.record("container did not exit")
                return
            }
            #expect(code == 128 + SIGKILL)
            #expect(oom)
        }
    }

    @Test func containersShareJoinedNamespaces() async throws {
        try await RuntimeFixture.run { f in
            let nsDir = "\(f.dataDirectory)/ns"
            let files = ["net", "uts", "ipc"].map { "\(nsDir)/\($0)" }
            try FileManager.default.createDirectory(atPath: nsDir, withIntermediateDirectories: true)
            for file in files { #expect(FileManager.default.createFile(atPath: file, contents: nil)) }
            defer {
                for file in files { _ = umount2(file, Int32(MNT_DETACH)) }
                try? FileManager.default.removeItem(atPath: nsDir)
            }
            let hostname = "orca-\(uniqueSuffix())"
            try await SubprocessCommandRunner().checked("/usr/bin/unshare", [
                "--net=\(files[0])", "--uts=\(files[1])", "--ipc=\(files[2])", "/usr/bin/hostname", hostname,
            ])
            let netInode = try #require(Syscall.lstat(files[0])).st_ino

            var ids: [String] = []
            for name in ["a", "b"] {
                let config = f.config("ns\(name)", args: ["sh", "-c", "hostname; readlink /proc/self/ns/net"]) {
                    $0.namespaces = .init(network: files[0], uts: files[1], ipc: files[2])
                }
                try await f.runtime.create(config, logPath: f.logPath(config.id))
                try await f.runtime.start(config.id)
                ids.append(config.id)
            }
            for id in ids {
                guard case .exited(0, _, _, _) = try await f.waitForExit(id) else {
                    Issue.record("\(id) did not exit 0: \(f.logLines(id))")
                    continue
                }
                let out = f.logLines(id).filter { $0.stream == "stdout" }.map(\.text)
                #expect(out == [hostname, "net:[\(netInode)]"])
            }
        }
    }

    @Test func stopBeforeStartKillsTheWaitingInit() async throws {
        try await RuntimeFixture.run { f in
            let config = f.config("unstarted", args: ["sleep", "1000"])
            try await f.runtime.create(config, logPath: f.logPath(config.id))
            #expect(try await f.runtime.list().map(\.status) == [.created])
            try await f.runtime.stop(config.id, gracePeriod: .seconds(10))
            guard case .exited(let code, let startedAt, _, false) = try await f.runtime.state(config.id) else {
                Issue.record("container did not exit")
                return
            }
            #expect(code == 128 + SIGKILL)
            #expect(startedAt == nil)
            await #expect(throws: OrcaError.self) { try await f.runtime.start(config.id) }
            try await f.runtime.remove(config.id)
            #expect(!Cgroups.exists(config.cgroupsPath))
        }
    }

    @Test func failedCreateLeavesNothing() async throws {
        try await RuntimeFixture.run { f in
            let config = f.config("bad", args: ["/no/such/binary"])
            // runc create looks the command up: creation fails with runc's message, leaving nothing.
            do {
                try await f.runtime.create(config, logPath: f.logPath(config.id))
                Issue.record("create of a missing command succeeded")
            } catch let error as OrcaError {
                #expect(error.message.contains("/no/such/binary"))
            }
            #expect(!Syscall.exists(f.runtime.containerDirectory(config.id)))
            #expect(!Cgroups.exists(config.cgroupsPath))
            #expect(try await f.runtime.list().isEmpty)
            #expect(try await f.runtime.runc.list().isEmpty)

            var broken = f.config("broken", args: ["sh"])
            broken.namespaces.network = "/no/such/netns"
            await #expect(throws: OrcaError.self) { try await f.runtime.create(broken, logPath: f.logPath(broken.id)) }
            #expect(!Syscall.exists(f.runtime.containerDirectory(broken.id)))
            #expect(!Cgroups.exists(broken.cgroupsPath))
            await #expect(throws: OrcaError.self) {
                try await f.runtime.create(f.config("dup", args: ["sh"]) { $0.id = "../x" }, logPath: "/tmp/x.log")
            }
        }
    }
}
