import Foundation
import Glibc
import OrcaCore
import Testing
@testable import OrcaRuntime

/// Whether the tests that need root (mounts, runc, cgroups) can run.
let runningAsRoot = getuid() == 0

/// A short random suffix for IDs and names, so leftovers of a failed run never collide.
func uniqueSuffix() -> String { String(UUID().uuidString.lowercased().prefix(8)) }

/// A temporary data directory with an image store (holding busybox) and a runtime over it.
/// `run` cleans up every container, mount, cgroup and file it made, also when the body throws.
struct RuntimeFixture {
    let dataDirectory: String
    let store: ImageStore
    let runtime: RuncContainerRuntime
    let busybox: Image
    /// The cgroup parent of this fixture's containers, e.g. `/orca-test-1a2b3c4d`.
    let cgroupParent: String

    static func run(_ body: (RuntimeFixture) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "orca-runtime-test-\(uniqueSuffix())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let fixture: RuntimeFixture
        do {
            let store = try ImageStore(root: "\(dir)/images")
            fixture = RuntimeFixture(
                dataDirectory: dir, store: store,
                runtime: try RuncContainerRuntime(dataDirectory: dir),
                busybox: try await BuiltinImages.ensureBusybox(in: store),
                cgroupParent: "/orca-test-\(uniqueSuffix())")
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        do { try await body(fixture) } catch {
            await fixture.cleanUp()
            throw error
        }
        await fixture.cleanUp()
    }

    /// Removes every container, the cgroup parent and the data directory.
    func cleanUp() async {
        for c in (try? await runtime.list()) ?? [] { try? await runtime.remove(c.id) }
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "\(dataDirectory)/containers")) ?? []
        for id in leftovers { try? await runtime.remove(id) }
        try? Cgroups.remove(cgroupParent)
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// A busybox container config with a unique ID under this fixture's cgroup parent.
    func config(_ prefix: String, args: [String], configure: (inout ContainerConfig) -> Void = { _ in }) -> ContainerConfig {
        let id = "\(prefix)-\(uniqueSuffix())"
        var c = ContainerConfig(
            id: id, args: args, env: busybox.config.env ?? [], rootfsLayers: busybox.layers,
            cgroupsPath: "\(cgroupParent)/pod1/\(id)")
        configure(&c)
        return c
    }

    /// Where a container's CRI log goes.
    func logPath(_ id: String) -> String { "\(dataDirectory)/logs/\(id).log" }

    /// Waits (polling) until the container has exited; returns the final status.
    func waitForExit(_ id: String, timeout: Duration = .seconds(30)) async throws -> ContainerStatus {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let s = try await runtime.state(id)
            if case .exited = s { return s }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await runtime.state(id)
    }

    /// The CRI log's lines as (stream, text), ignoring timestamps and partial-line tags.
    func logLines(_ id: String) -> [(stream: String, text: String)] {
        let text = (try? String(contentsOfFile: logPath(id), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            return (String(parts[1]), String(parts[3]))
        }
    }
}
