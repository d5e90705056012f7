import Foundation
import Glibc
import OrcaCore

extension RuncContainerRuntime {
    /// Asks the container's conmon to reopen its CRI log: message type 2 on its `ctl` FIFO
    /// (`2 0 0`, as CRI-O's `ReopenContainerLog` writes). conmon syncs and closes the old
    /// file and creates `logPath` anew; the rotated file keeps everything written before.
    ///
    /// Throws `notFound` if no conmon reads the FIFO (the container is not running).
    public func reopenLog(_ id: String) async throws {
        try Self.sendControl("\(containerDirectory(id))/ctl", "2 0 0\n")
    }

    /// Writes one line to conmon's control FIFO, or throws if nobody reads it (conmon gone:
    /// opening a FIFO without a reader for writing fails with ENXIO) or the write fails.
    static func sendControl(_ path: String, _ line: String) throws {
        let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw OrcaError(.notFound, "conmon control FIFO \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            let code = errno
            throw OrcaError(.system, "writing to conmon control FIFO \(path): \(String(cString: strerror(code)))")
        }
    }
}
