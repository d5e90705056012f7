import Foundation
import Glibc
import OrcaCore

/// The system calls OrcaRuntime makes itself: each retried on `EINTR`, errno turned into `OrcaError`.
///
/// Calls that Swift's Glibc module does not import (`setxattr`, glibc's spawn extensions) are looked
/// up once with `dlsym`.
enum Syscall {
    /// Runs `body` until it stops failing with `EINTR`; throws an `OrcaError` for any other failure.
    @discardableResult
    static func call(_ name: String, _ detail: @autoclosure () -> String, _ body: () -> Int32) throws -> Int32 {
        while true {
            let r = body()
            if r != -1 { return r }
            let e = errno
            if e == EINTR { continue }
            throw error(name, detail(), errno: e)
        }
    }

    /// Runs `body` until it stops failing with `EINTR`; returns its result and the errno of a
    /// failure (for calls returning an `Int32` status or an `Int` byte count alike).
    static func attempt<Result: BinaryInteger>(_ body: () -> Result) -> (result: Result, errno: Int32) {
        while true {
            let r = body()
            if r == -1 {
                let e = errno
                if e == EINTR { continue }
                return (r, e)
            }
            return (r, 0)
        }
    }

    /// An `OrcaError` for a failed call on `detail` (usually a path).
    static func error(_ name: String, _ detail: String, errno e: Int32) -> OrcaError {
        OrcaError(.system, "\(name) \(detail): \(String(cString: strerror(e)))", cause: SystemCallError(call: name, errno: e))
    }

    /// `lstat(2)`, or nil when the path does not exist (or cannot be examined).
    static func lstat(_ path: String) -> stat? {
        var st = stat()
        return attempt { Glibc.lstat(path, &st) }.result == 0 ? st : nil
    }

    /// Whether `path` exists, without following a final symlink.
    static func exists(_ path: String) -> Bool { lstat(path) != nil }

    /// Whether process `pid` exists and is not a zombie.
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        // A zombie still answers kill(0): look at its state letter in /proc/<pid>/stat.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let rest = stat[stat.index(after: close)...].drop(while: { $0 == " " })
        return rest.first != "Z" && rest.first != "X"
    }

    /// Reaps `pid` if it is a finished child of ours; a no-op for anything else.
    static func reapIfExited(_ pid: Int32) {
        guard pid > 0 else { return }
        var status: Int32 = 0
        _ = attempt { waitpid(pid, &status, WNOHANG) }
    }

    // MARK: - Calls found with dlsym

    private typealias SetXattrFn = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer, Int, Int32) -> Int32
    typealias SpawnAddCloseFromFn = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias SpawnAddChdirFn = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias Pipe2Fn = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    private typealias PrctlFn = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32

    private static func symbol<T>(_ name: String, as type: T.Type) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, name) else { return nil }
        return unsafeBitCast(sym, to: type)
    }

    private static let setxattrFn = symbol("lsetxattr", as: SetXattrFn.self)
    static let spawnAddCloseFrom = symbol("posix_spawn_file_actions_addclosefrom_np", as: SpawnAddCloseFromFn.self)
    static let spawnAddChdir = symbol("posix_spawn_file_actions_addchdir_np", as: SpawnAddChdirFn.self)
    private static let pipe2Fn = symbol("pipe2", as: Pipe2Fn.self)
    private static let prctlFn = symbol("prctl", as: PrctlFn.self)

    /// `lsetxattr(2)`.
    static func setxattr(_ path: String, name: String, value: String) throws {
        guard let fn = setxattrFn else { throw OrcaError(.system, "lsetxattr is not available") }
        var bytes = Array(value.utf8)
        let count = bytes.count
        try call("lsetxattr", "\(path) \(name)") {
            bytes.withUnsafeMutableBytes { buf in fn(path, name, buf.baseAddress!, count, 0) }
        }
    }

    /// A pipe whose both ends are close-on-exec from the start (`pipe2(O_CLOEXEC)`): (read, write).
    static func cloexecPipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let fn = pipe2Fn {
            try call("pipe2", "") { fn(&fds, O_CLOEXEC) }
        } else {
            try call("pipe", "") { pipe(&fds) }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }

    /// `prctl(PR_SET_CHILD_SUBREAPER, 1)`: orphaned descendants (conmon after its double fork)
    /// are re-parented to this process instead of PID 1, so that we can reap them.
    static func becomeChildSubreaper() throws {
        guard let fn = prctlFn else { throw OrcaError(.system, "prctl is not available") }
        let prSetChildSubreaper: Int32 = 36
        try call("prctl", "PR_SET_CHILD_SUBREAPER") { fn(prSetChildSubreaper, 1, 0, 0, 0) }
    }
}
