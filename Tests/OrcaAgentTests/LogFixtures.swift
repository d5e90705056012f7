import Foundation
import Synchronization

/// A uniquely named directory for log files, removed by `remove()`.
struct LogDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("orca-logs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// CRI log lines as conmon writes them.
enum CRILog {
    /// `<time> stdout F <text>\n` for each text, one second apart from `start`.
    static func lines(_ texts: [String], start: Int = 0, tag: String = "F") -> String {
        texts.enumerated().map { index, text in "\(time(start + index)) stdout \(tag) \(text)\n" }.joined()
    }

    /// `2024-01-01T<hh>:<mm>:<ss>.123456789Z`, `second` seconds after midnight (within the day).
    static func time(_ second: Int) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "2024-01-01T\(two(second / 3600 % 24)):\(two(second / 60 % 60)):\(two(second % 60)).123456789Z"
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        _ = try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }
}

/// A value that `@Sendable` closures in tests share.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    /// Changes the value; returns what `body` returns.
    @discardableResult
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R {
        mutex.withLock { body(&$0) }
    }
}
