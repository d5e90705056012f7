import Foundation
import Synchronization

/// The few figures the API server exposes at `/metrics`, in Prometheus' text format, under
/// kube-apiserver's names: the requests that stream (watches) open now, and the process's
/// resident memory. They show what a load left behind.
public final class APIServerMetrics: Sendable {
    private let openWatches = Atomic<Int>(0)
    private let openLogStreams = Atomic<Int>(0)

    public init() {}

    /// A watch response started streaming; `watchEnded` must follow.
    func watchStarted() { openWatches.add(1, ordering: .relaxed) }
    func watchEnded() { openWatches.subtract(1, ordering: .relaxed) }

    /// Watches streaming now.
    public var watches: Int { openWatches.load(ordering: .relaxed) }

    /// A pod log served by this server's agent started streaming; `logStreamEnded` must follow.
    func logStreamStarted() { openLogStreams.add(1, ordering: .relaxed) }
    func logStreamEnded() { openLogStreams.subtract(1, ordering: .relaxed) }

    /// The exposition: `apiserver_longrunning_requests` of watches and of pod logs (served
    /// here), and `process_resident_memory_bytes`.
    func exposition() -> String {
        var out = "# HELP apiserver_longrunning_requests Gauge of all active long-running apiserver requests.\n"
        out += "# TYPE apiserver_longrunning_requests gauge\n"
        out += "apiserver_longrunning_requests{verb=\"WATCH\"} \(watches)\n"
        out += "apiserver_longrunning_requests{resource=\"pods\",subresource=\"log\",verb=\"GET\"} \(openLogStreams.load(ordering: .relaxed))\n"
        out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
        out += "# TYPE process_resident_memory_bytes gauge\n"
        out += "process_resident_memory_bytes \(Self.residentBytes())\n"
        return out
    }

    /// This process's resident set (from `/proc/self/statm`), 0 when unreadable.
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
