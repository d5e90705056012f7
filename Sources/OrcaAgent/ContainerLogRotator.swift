import Foundation
import Glibc
import Logging
import OrcaCore

/// Rotates the CRI logs of running containers, as the kubelet's container log manager
/// does (`containerLogMaxSize` 10 MiB, `containerLogMaxFiles` 5).
///
/// A log at or over `maxSize` is renamed to `<path>.<YYYYMMDD-hhmmss>` and conmon is asked
/// to reopen it (it then creates `<path>` anew); the oldest rotated files are deleted so
/// that at most `maxFiles - 1` remain beside the live one. If conmon cannot reopen the log,
/// the rename is undone so nothing is lost and the next round tries again. (conmon's own
/// `--log-size-max` truncates the log instead of rotating it, so it is not used.)
///
/// Unlike the kubelet, rotated files are kept uncompressed, so `kubectl logs` reads them
/// directly (see `ContainerLogReader`).
struct ContainerLogRotator: Sendable {
    /// A running container's log.
    struct ContainerLog: Hashable, Sendable {
        /// The runtime's container ID (whose monitor reopens the log).
        var containerID: String
        /// The live CRI log file, `<log-root>/<ns>_<pod>_<uid>/<container>/<attempt>.log`.
        var path: String
    }

    /// The kubelet's default `containerLogMaxSize`.
    static let defaultMaxSize: Int64 = 10 * 1024 * 1024
    /// The kubelet's default `containerLogMaxFiles` (the live file included).
    static let defaultMaxFiles = 5

    /// The size at which a log is rotated.
    var maxSize: Int64 = ContainerLogRotator.defaultMaxSize
    /// The most files per log, the live one included (at least 2).
    var maxFiles: Int = ContainerLogRotator.defaultMaxFiles
    /// Asks the runtime to reopen container `id`'s log (`ContainerRuntime.reopenLog`).
    let reopen: @Sendable (String) async throws -> Void
    /// The clock that names rotated files.
    let now: @Sendable () -> Date
    var logger = Logger(label: "orca.agent.logs")

    /// Rotates the log at `logPath` if it has reached `maxSize`; returns whether it did.
    ///
    /// A live file that is missing (a reopen that failed after its rename, as the kubelet
    /// notes) is recovered by asking for the reopen again.
    @discardableResult
    func rotateIfNeeded(logPath: String, containerID: String) async throws -> Bool {
        let fm = FileManager.default
        var info = stat()
        guard stat(logPath, &info) == 0 else {
            let code = errno
            guard code == ENOENT else {
                throw OrcaError(.system, "stat \(logPath): \(String(cString: strerror(code)))")
            }
            try await reopen(containerID)
            return false
        }
        guard Int64(info.st_size) >= maxSize else { return false }
        // One more rotated file is about to be made: keep maxFiles - 2 of the existing ones,
        // removing the oldest first so that a running `kubectl logs` keeps its place.
        let rotated = ContainerLogFiles.rotated(of: logPath)
        for old in rotated.dropLast(max(maxFiles - 2, 0)) {
            // A file that cannot be removed (gone already, or not ours) must not stop rotation.
            try? fm.removeItem(atPath: old)
        }
        let target = Self.rotatedPath(logPath, at: now(), existing: Set(rotated))
        try fm.moveItem(atPath: logPath, toPath: target)
        do {
            try await reopen(containerID)
        } catch {
            // Put it back so that the next round can try again.
            do { try fm.moveItem(atPath: target, toPath: logPath) } catch {
                logger.error("restoring rotated log \(target) to \(logPath) failed: \(error)")
            }
            throw error
        }
        return true
    }

    /// Every `interval`, rotates the logs that `logs` lists (running containers), until
    /// the task is cancelled or `sleep` throws. Failures are logged; the loop goes on.
    func run(interval: Duration = .seconds(10), logs: @Sendable () async -> [ContainerLog],
             sleep: @Sendable (Duration) async throws -> Void) async {
        while !Task.isCancelled {
            do { try await sleep(interval) } catch { return }
            for log in await logs() {
                do {
                    if try await rotateIfNeeded(logPath: log.path, containerID: log.containerID) {
                        logger.debug("rotated the log of container \(log.containerID)")
                    }
                } catch {
                    logger.warning("rotating the log of container \(log.containerID) failed: \(error)")
                }
            }
        }
    }

    /// `<path>.<YYYYMMDD-hhmmss>` in UTC (the kubelet's `20060102-150405`), with `-1`, `-2`…
    /// appended if a file of that name exists (two rotations within a second); names sort
    /// oldest first.
    static func rotatedPath(_ path: String, at date: Date, existing: Set<String>) -> String {
        let base = "\(path).\(timestamp(date))"
        var candidate = base
        var counter = 0
        while existing.contains(candidate) || FileManager.default.fileExists(atPath: candidate) {
            counter += 1
            candidate = "\(base)-\(counter)"
        }
        return candidate
    }

    /// `YYYYMMDD-hhmmss` in UTC.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let digits = String(value ?? 0)
            return String(repeating: "0", count: max(width - digits.count, 0)) + digits
        }
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "-" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2)
    }
}
