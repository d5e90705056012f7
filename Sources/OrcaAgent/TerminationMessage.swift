import Foundation

/// A container's termination message, read as the kubelet reads it: at most the last
/// 4096 bytes of its `terminationMessagePath` file, and — for `FallbackToLogsOnError`
/// when the file is empty and the container failed — the tail of its log (80 lines, at
/// most 2048 bytes). Neither file is ever read whole.
enum TerminationMessage {
    /// The kubelet's `MaxContainerTerminationMessageLength`.
    static let maxBytes = 4096
    /// The kubelet's `MaxContainerTerminationMessageLogLines`.
    static let maxLogLines = 80
    /// The kubelet's `MaxContainerTerminationMessageLogLength`.
    static let maxLogBytes = 2048

    /// The message of a container that exited with `exitCode`, from its termination-message
    /// file at `path` or, per `policy`, from its CRI log at `logPath`.
    static func read(path: String, logPath: String, policy: String?, exitCode: Int32) -> String {
        let message = lastBytes(of: path, maxBytes: maxBytes)
        if message.isEmpty, exitCode != 0, policy == "FallbackToLogsOnError" {
            return PodLogReader.tail(path: logPath, lines: maxLogLines, maxBytes: maxLogBytes)
        }
        return message
    }

    /// The last `maxBytes` bytes of the file at `path` as text ("" if it is missing or
    /// empty), as the kubelet's `tail.ReadAtMost`: reads no more than that.
    static func lastBytes(of path: String, maxBytes: Int) -> String {
        guard maxBytes > 0, let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size > 0 else { return "" }
        let start = size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0
        guard (try? handle.seek(toOffset: start)) != nil,
              let data = try? handle.read(upToCount: maxBytes) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
