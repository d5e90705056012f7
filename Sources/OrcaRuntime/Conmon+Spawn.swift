import Foundation
import Glibc
import OrcaCore

extension Conmon {
    /// Spawns conmon with the sync pipe's write end as fd 3 (swift-subprocess passes only fds 0–2),
    /// reaps the short-lived first conmon process, and reads the sync pipe until conmon reports or
    /// closes it. Blocking: runs on a dispatch thread, never on the cooperative pool.
    static func spawnAndWait(argv: [String], env: [String], options: CreateOptions, timeoutMillis: Int32) throws -> SyncReport {
        let pipe = try Syscall.cloexecPipe()
        let readEnd = pipe.read
        defer { close(readEnd) }
        // Keep the write end clear of fd 3 so that dup2 onto 3 really happens (and clears CLOEXEC).
        let writeEnd = try Syscall.call("fcntl", "sync pipe") { fcntl(pipe.write, F_DUPFD_CLOEXEC, 10) }
        close(pipe.write)
        var writeOpen = true
        defer { if writeOpen { close(writeEnd) } }
        let stderrFD = try Syscall.call("open", options.stderrPath) {
            open(options.stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        }
        defer { close(stderrFD) }

        let pid = try spawn(argv: argv, env: env, cwd: options.persistDir, stderrFD: stderrFD, syncFD: writeEnd)
        close(writeEnd)
        writeOpen = false

        // The first conmon exits as soon as it has forked the monitor (or failed to parse options).
        var status: Int32 = 0
        try Syscall.call("waitpid", "conmon") { waitpid(pid, &status, 0) }
        return try readReport(readEnd, timeoutMillis: timeoutMillis, conmonPidFile: options.conmonPidFile)
    }

    /// `posix_spawn` with stdin/stdout on /dev/null, stderr on `stderrFD`, the sync pipe on fd 3,
    /// every other descriptor closed, default signal dispositions and an empty signal mask.
    static func spawn(argv: [String], env: [String], cwd: String, stderrFD: Int32, syncFD: Int32) throws -> pid_t {
        try Syscall.spawn(argv: argv, env: env) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
            posix_spawn_file_actions_adddup2(&actions, syncFD, 3)
            if let addClose = Syscall.spawnAddCloseFrom { _ = addClose(&actions, 4) }
            if let addChdir = Syscall.spawnAddChdir { _ = addChdir(&actions, cwd) }
        }
    }

    /// Reads one JSON line from the sync pipe, waiting at most `timeoutMillis` in total.
    /// EOF before a line means conmon died: reported as `data: -1` with no message.
    static func readReport(_ fd: Int32, timeoutMillis: Int32, conmonPidFile: String) throws -> SyncReport {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        var remaining = Int64(timeoutMillis)
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        while !buffer.contains(UInt8(ascii: "\n")) {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = try Syscall.call("poll", "sync pipe") { poll(&pfd, 1, Int32(clamping: max(remaining, 0))) }
            if ready == 0 {
                // runc create hangs: stop the monitor (its runc child dies with it) and give up.
                if let text = try? String(contentsOfFile: conmonPidFile, encoding: .utf8),
                   let monitor = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    kill(monitor, SIGKILL)
                }
                throw OrcaError(.timeout, "conmon did not report within \(timeoutMillis) ms")
            }
            let n = try Syscall.call("read", "sync pipe") { Int32(read(fd, &chunk, chunk.count)) }
            if n == 0 { break }
            buffer += chunk[0..<Int(n)]
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            remaining = Int64(timeoutMillis) - (Int64(now.tv_sec - start.tv_sec) * 1000 + Int64(now.tv_nsec - start.tv_nsec) / 1_000_000)
        }
        guard let line = buffer.split(separator: UInt8(ascii: "\n")).first, !line.isEmpty else {
            return SyncReport(data: -1, message: nil)
        }
        do { return try JSONDecoder().decode(SyncReport.self, from: Data(line)) } catch {
            throw OrcaError(.runtimeError, "conmon sent \"\(String(decoding: line, as: UTF8.self))\"", cause: error)
        }
    }
}
