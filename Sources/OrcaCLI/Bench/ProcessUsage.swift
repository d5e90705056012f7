import Foundation

/// CPU time and memory of a set of processes, read from /proc: the processes a benchmark
/// charges to one system (a server and its children, or podman's conmons).
struct ProcessUsage: Sendable {
    /// User + system CPU seconds, including children already reaped by them.
    var cpuSeconds: Double
    /// Resident memory in bytes (`VmRSS`).
    var residentBytes: Int
    /// Anonymous resident memory in bytes (`RssAnon`): heap growth shows here.
    var anonymousBytes: Int
    /// How many processes were summed.
    var processes: Int

    static let zero = ProcessUsage(cpuSeconds: 0, residentBytes: 0, anonymousBytes: 0, processes: 0)

    /// The clock ticks per second `/proc/<pid>/stat` counts in.
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The usage of one process, or nil when it is gone.
    static func of(pid: Int32) -> ProcessUsage? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        // Fields after the command: state is field 3; utime 14, stime 15, cutime 16, cstime 17.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 15 else { return nil }
        let ticks = (11...14).compactMap { Double(fields[$0]) }.reduce(0, +)
        func kib(_ key: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(key) }
            return (line?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
        }
        return ProcessUsage(cpuSeconds: ticks / ticksPerSecond, residentBytes: kib("VmRSS:"), anonymousBytes: kib("RssAnon:"), processes: 1)
    }

    /// The summed usage of `pids` (the ones still alive).
    static func of(pids: [Int32]) -> ProcessUsage {
        pids.compactMap(of(pid:)).reduce(.zero) {
            ProcessUsage(cpuSeconds: $0.cpuSeconds + $1.cpuSeconds, residentBytes: $0.residentBytes + $1.residentBytes,
                         anonymousBytes: $0.anonymousBytes + $1.anonymousBytes, processes: $0.processes + $1.processes)
        }
    }

    /// The processes whose command line contains `marker` (e.g. a private data dir every conmon of
    /// one system is started with), excluding this one.
    static func pids(commandLineContaining marker: String) -> [Int32] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != me, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(marker)
        }
    }
}
