import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ProcessUsage {
    /// The CPU time of process `pid` in seconds from its process CPU-time clock
    /// (`clock_getcpuclockid`): every thread's, exited ones included, to the nanosecond — finer
    /// than `/proc/<pid>/stat`'s clock ticks, for one-second samples. Children are not included.
    static func cpuClockSeconds(pid: Int32) -> Double? {
        var clock = clockid_t()
        guard clock_getcpuclockid(pid, &clock) == 0 else { return nil }
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return nil }
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The CPU seconds of the children `pid` has waited for (`cutime + cstime` of
    /// `/proc/<pid>/stat`: runc, CNI plugins …, counted when reaped), nil when it is gone.
    static func reapedChildrenCPUSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command: state is field 3; cutime 16, cstime 17.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let cutime = Double(fields[13]), let cstime = Double(fields[14]) else { return nil }
        return (cutime + cstime) / ticksPerSecond
    }
}
