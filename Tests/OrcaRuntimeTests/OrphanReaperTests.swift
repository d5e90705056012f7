import Foundation
import Glibc
import Testing
@testable import OrcaRuntime

/// The subreaper's orphans are reaped; a child whose spawner still waits for it is not taken.
@Suite(.serialized) struct OrphanReaperTests {
    @Test func orphanedGrandchildrenAreReapedOnTheSecondScan() throws {
        try Syscall.becomeChildSubreaper()
        // sh starts a background sleep and exits: the sleep is re-parented to us and exits soon.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "sleep 0.2 & echo $!"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let orphan = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        // Wait until the orphan is our zombie.
        for _ in 0..<100 where !OrphanReaper.zombieChildren(of: getpid()).contains(orphan) { usleep(50_000) }
        #expect(OrphanReaper.zombieChildren(of: getpid()).contains(orphan))
        let reaper = OrphanReaper()
        #expect(!reaper.scan().contains(orphan), "reaped on first sight")
        // As in the agent, time passes between scans (there 10 s): other children's waiters reap theirs.
        Thread.sleep(forTimeInterval: 1)
        #expect(reaper.scan().contains(orphan))
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(orphan)"))
    }
}
