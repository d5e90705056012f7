import Foundation
import OrcaCore
#if canImport(Glibc)
import Glibc
#endif

/// Finding and killing what runs on a `BenchHost`, and removing its cgroups, from `/proc` and
/// `/sys/fs/cgroup` alone, so it works whatever state the agent left behind (the benchmark
/// side of the E2E harness's `HostProcesses`).
///
/// A process belongs to the host when it is in the host's network namespace (the agent,
/// conmon, runc) or in one of its pods' (a namespace file mounted under the host's directory),
/// in a cgroup under the host's cgroup root (containers), or when its command line names the
/// host's directory (conmon, runc).
enum BenchHostProcesses {
    /// The live processes of `host` (zombies excluded: they are gone but for their parent's wait).
    static func pids(of host: BenchHost) -> [pid_t] {
        var namespaces = Set<FileID>()
        if let id = FileID(host.netnsPath) { namespaces.insert(id) }
        for point in MountTable.mountPoints(under: host.directory) {
            if let id = FileID(point) { namespaces.insert(id) }
        }
        let me = getpid()
        var out: [pid_t] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(name), pid > 1, pid != me else { continue }
            let proc = "/proc/\(name)"
            guard let state = state(pid), state != "Z", state != "X" else { continue }
            if let ns = FileID(proc + "/ns/net"), namespaces.contains(ns) {
                out.append(pid)
            } else if inCgroup(read(proc + "/cgroup"), root: host.cgroupRoot) {
                out.append(pid)
            } else if read(proc + "/cmdline").replacingOccurrences(of: "\0", with: " ").contains(host.directory + "/") {
                out.append(pid)
            }
        }
        return out
    }

    /// The host's conmon processes (container monitors: their command line names the host's
    /// directory), excluding the agent.
    static func conmons(of host: BenchHost) -> [pid_t] {
        let agent = host.agentPID
        return ProcessUsage.pids(commandLineContaining: host.directory + "/").filter { pid in
            pid != agent && read("/proc/\(pid)/comm").trimmingCharacters(in: .whitespacesAndNewlines) == "conmon"
        }
    }

    /// SIGKILLs every process of `host` until none is left (at most 10 s), and reaps those that
    /// were re-parented to this process.
    static func killAll(of host: BenchHost) async {
        let me = getpid()
        for _ in 0..<200 {
            let pids = pids(of: host)
            if pids.isEmpty { return }
            for pid in pids { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(50))
            for pid in pids where parent(pid) == me { var status: Int32 = 0; waitpid(pid, &status, WNOHANG) }
        }
        BenchLog.info("warning: processes of \(host.nodeName) still alive after 10 s of SIGKILL: \(pids(of: host))")
    }

    /// Removes the cgroup `root` and everything below it from every hierarchy (children first;
    /// processes still in one are killed). Never fails.
    static func removeCgroups(_ root: String) {
        let base = "/sys/fs/cgroup"
        let trimmed = root.hasPrefix("/") ? String(root.dropFirst()) : root
        guard !trimmed.isEmpty, !trimmed.contains("..") else { return }
        var dirs = [base + "/" + trimmed]  // a pure cgroup v2 machine
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
            // Symlinked aliases (cpu -> cpu,cpuacct) are the same hierarchy.
            guard isDirectory(base + "/" + name, followLinks: false) else { continue }
            dirs.append("\(base)/\(name)/\(trimmed)")
        }
        for dir in dirs where isDirectory(dir, followLinks: false) { removeTree(dir) }
    }

    private static func removeTree(_ dir: String) {
        for child in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where isDirectory(dir + "/" + child, followLinks: false) {
            removeTree(dir + "/" + child)
        }
        for attempt in 0..<50 {
            if rmdir(dir) == 0 || errno == ENOENT { return }
            for pid in read(dir + "/cgroup.procs").split(separator: "\n").compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
            if attempt < 49 { usleep(20_000) }
        }
        BenchLog.info("warning: cannot remove cgroup \(dir)")
    }

    /// Whether a `/proc/<pid>/cgroup` text puts the process at or below `root` in any hierarchy.
    static func inCgroup(_ text: String, root: String) -> Bool {
        text.split(separator: "\n").contains { line in
            guard let path = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).last else { return false }
            return path == root || path.hasPrefix(root + "/")
        }
    }

    /// The state letter of `/proc/<pid>/stat` (R, S, D, Z, …), nil when the process is gone.
    static func state(_ pid: pid_t) -> Character? {
        let stat = read("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].first { $0 != " " }
    }

    /// The parent of `pid` (`PPid:` of `/proc/<pid>/status`).
    static func parent(_ pid: pid_t) -> pid_t? {
        read("/proc/\(pid)/status").split(separator: "\n").first { $0.hasPrefix("PPid:") }
            .flatMap { pid_t($0.dropFirst(5).trimmingCharacters(in: .whitespaces)) }
    }

    /// A procfs or sysfs file's text ("" when unreadable); read to its end, not just 4 KiB.
    static func read(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    static func isDirectory(_ path: String, followLinks: Bool) -> Bool {
        var st = stat()
        let r = followLinks ? stat(path, &st) : lstat(path, &st)
        return r == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// A file's identity (device and inode); for namespaces, the namespace itself.
    struct FileID: Hashable {
        let device: UInt64
        let inode: UInt64

        init?(_ path: String) {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
        }
    }
}
