import Synchronization

/// Adds up the bytes of a pull's concurrent blob downloads and reports the sum.
final class RegistryProgressCounter: Sendable {
    private let completed = Mutex<Int64>(0)
    let total: Int64
    let handler: RegistryProgressHandler?

    init(total: Int64, handler: RegistryProgressHandler?) {
        self.total = total
        self.handler = handler
    }

    /// Adds `delta` (negative when a download restarts) and reports the new state.
    func add(_ delta: Int64) {
        let now = completed.withLock { value in
            value += delta
            return value
        }
        handler?(RegistryProgress(completedBytes: now, totalBytes: total))
    }
}
