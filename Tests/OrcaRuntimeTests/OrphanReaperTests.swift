import Foundation
import Glibc
import Testing
@testable import OrcaRuntime

/// The subreaper's orphans are reaped; a child whose spawner still waits for it is not taken.
@Suite(.serialized) struct OrphanReaperTests {
    @Test func orphanedGrandchildrenAreReapedOnTheSecondScan() throws {
        try Syscall.becomeChildSubreaper()
        // In a session of its own (as a daemon's or a container's processes), sh starts a
        // background sleep and exits: the sleep is re-parented to us and exits soon.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["/bin/sh", "-c", "sleep 0.2 & echo $!"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let orphan = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        // Wait until the orphan is our zombie.
        func isOurZombie() -> Bool { OrphanReaper.zombieChildren(of: getpid()).contains { $0.pid == orphan } }
        for _ in 0..<100 where !isOurZombie() { usleep(50_000) }
        #expect(isOurZombie())
        let reaper = OrphanReaper()
        #expect(!reaper.scan().contains(orphan), "reaped on first sight")
        // As in the agent, time passes between scans (there 10 s): other children's waiters reap theirs.
        Thread.sleep(forTimeInterval: 1)
        #expect(reaper.scan().contains(orphan))
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(orphan)"))
    }

    @Test func aChildInOurSessionIsLeftToItsWaiter() throws {
        // Our own child (as swift-subprocess spawns them), not waited for yet: never taken.
        let pid = try Syscall.spawn(argv: ["/bin/true"], env: []) { _ in }
        func isZombie() -> Bool { OrphanReaper.zombieChildren(of: getpid()).contains { $0.pid == pid } }
        for _ in 0..<100 where !isZombie() { usleep(20_000) }
        #expect(isZombie())
        let reaper = OrphanReaper()
        #expect(!reaper.scan().contains(pid))
        #expect(!reaper.scan().contains(pid))
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid, "the spawner could not wait for its child")
    }
}
