import Foundation
import OrcaCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM for the benchmarks that build a cluster: the measurement runs in a task
/// that the first signal cancels, while the caller — not cancelled — goes on to remove what the
/// benchmark made. A third signal ends the process at once.
///
/// The handler only counts (an atomic store is async-signal-safe); a task polls the count.
/// Caught signals are reset to their defaults in the children the benchmark execs, unlike
/// ignored or blocked ones, so the server and agents see signals as they would anyway.
enum BenchInterrupt {
    private static let received = Atomic<Int>(0)

    /// Whether a signal arrived.
    static var wasInterrupted: Bool { received.load(ordering: .relaxed) > 0 }

    /// Runs `body` in a task that SIGINT or SIGTERM cancel; returns its outcome, never throws.
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error> {
        for sig in [SIGINT, SIGTERM] {
            _ = signal(sig) { sig in
                if BenchInterrupt.received.wrappingAdd(1, ordering: .relaxed).newValue >= 3 {
                    _ = Glibc.signal(sig, SIG_DFL)
                    _ = raise(sig)
                }
            }
        }
        let task = Task { try await body() }
        let watcher = Task {
            while !Task.isCancelled {
                if wasInterrupted {
                    BenchLog.info("interrupted: stopping the benchmark and removing what it made (signal twice more to exit at once)")
                    task.cancel()
                    return
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        let result = await task.result
        watcher.cancel()
        if wasInterrupted { return .failure(OrcaError(.unavailable, "interrupted")) }
        return result
    }
}
