import Logging
import OrcaCore
import OrcaStore

/// Gives memory back to the kernel every `interval`, so the server's RSS follows its live data
/// and comes down after a burst of load: the store drops its page caches and idle reader
/// connections, then glibc returns its free pages (Go's scavenger does the latter for
/// kube-apiserver). A trim costs a few milliseconds of one core.
public struct MemoryTrimmer: Sendable {
    let store: any KVStore
    let interval: Duration
    let logger = Logger(label: "orca.memory")

    public init(store: any KVStore, interval: Duration = .seconds(60)) {
        self.store = store
        self.interval = interval
    }

    /// Trims every `interval` until cancelled.
    public func run() async {
        while (try? await Task.sleep(for: interval)) != nil {
            await trim()
        }
    }

    /// One trim, now.
    public func trim() async {
        await store.releaseMemory()
        if GlibcMalloc.trim() == nil { logger.debug("no malloc_trim in this libc") }
    }
}
