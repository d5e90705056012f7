import Foundation
import Glibc
import OrcaCore

/// A child process whose standard streams are descriptors the caller chose (pipes, a
/// terminal), spawned with `posix_spawn` and waited for on a thread of its own.
struct StreamedProcess: Sendable {
    let pid: pid_t

    /// Spawns `argv` with `stdin`, `stdout` and `stderr` as fds 0–2, every other descriptor
    /// closed, default signal dispositions and an empty signal mask.
    static func spawn(argv: [String], env: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws -> StreamedProcess {
        FileDescriptorWriter.ignoreBrokenPipes()
        let pid = try Syscall.spawn(argv: argv, env: env) { actions in
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
            posix_spawn_file_actions_adddup2(&actions, stderr, 2)
            if let addClose = Syscall.spawnAddCloseFrom { _ = addClose(&actions, 3) }
        }
        return StreamedProcess(pid: pid)
    }

    /// Waits for the exit: the exit code, or 128 + the signal that ended it.
    func wait() async -> Int32 {
        let pid = self.pid
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var status: Int32 = 0
                let r = Syscall.attempt { waitpid(pid, &status, 0) }
                guard r.result == pid else { return continuation.resume(returning: 255) }
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
        }
    }
}

/// A pseudo-terminal pair: the caller keeps the controller, a child gets the terminal.
struct Pseudoterminal {
    let controller: Int32
    let terminal: Int32

    /// Opens a new pair, both ends close-on-exec.
    static func open() throws -> Pseudoterminal {
        // glibc declares these only for _XOPEN_SOURCE, so Swift does not import them.
        guard let openpt = Self.openptFn, let grant = Self.grantptFn, let unlock = Self.unlockptFn, let ptsname = Self.ptsnameFn else {
            throw OrcaError(.system, "pseudo-terminals are not available")
        }
        let controller = try Syscall.call("posix_openpt", "") { openpt(O_RDWR | O_NOCTTY | O_CLOEXEC) }
        do {
            try Syscall.call("grantpt", "") { grant(controller) }
            try Syscall.call("unlockpt", "") { unlock(controller) }
            var name = [CChar](repeating: 0, count: 128)
            let rc = ptsname(controller, &name, name.count)
            guard rc == 0 else { throw Syscall.error("ptsname_r", "", errno: rc) }
            let path = String(cString: name)
            let terminal = try Syscall.call("open", path) { Glibc.open(path, O_RDWR | O_NOCTTY | O_CLOEXEC) }
            return Pseudoterminal(controller: controller, terminal: terminal)
        } catch {
            close(controller)
            throw error
        }
    }

    private typealias IntFn = @convention(c) (Int32) -> Int32
    private typealias PtsnameFn = @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32
    private static func symbol<T>(_ name: String, as type: T.Type) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, name) else { return nil }
        return unsafeBitCast(sym, to: type)
    }
    private static let openptFn = symbol("posix_openpt", as: IntFn.self)
    private static let grantptFn = symbol("grantpt", as: IntFn.self)
    private static let unlockptFn = symbol("unlockpt", as: IntFn.self)
    private static let ptsnameFn = symbol("ptsname_r", as: PtsnameFn.self)

    /// The window size of the terminal behind `fd`, if set.
    static func size(_ fd: Int32) -> TerminalSize? {
        var ws = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0, ws.ws_col > 0 else { return nil }
        return TerminalSize(width: ws.ws_col, height: ws.ws_row)
    }

    /// Sets the window size of the terminal behind `fd`.
    static func resize(_ fd: Int32, to size: TerminalSize) {
        var ws = winsize(ws_row: size.height, ws_col: size.width, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(fd, UInt(TIOCSWINSZ), &ws)
    }
}

extension FileDescriptorWriter {
    private static let ignoringBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Writes to a pipe whose reader is gone fail with `EPIPE` instead of killing the process.
    static func ignoreBrokenPipes() { _ = ignoringBrokenPipes }
}
