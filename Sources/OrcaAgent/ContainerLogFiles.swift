import Foundation
import Glibc

/// The files of one container instance's CRI log, as the kubelet's container log manager
/// keeps them: the current `<attempt>.log` that conmon writes, and rotated copies
/// `<attempt>.log.<YYYYMMDD-hhmmss>` (oldest first by name).
///
/// Everything here reads in bounded chunks: a log is never loaded whole.
enum ContainerLogFiles {
    /// The read size (and the step of backward scans).
    static let chunkSize = 64 * 1024

    /// The rotated files of the log at `path`, oldest first.
    ///
    /// Only `<name>.<timestamp>` files count: conmon's `<name>.tmp` (made while it reopens
    /// the log) and anything else in the directory are ignored.
    static func rotated(of path: String) -> [String] {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { isRotated($0, of: name) }.sorted().map { "\(directory)/\($0)" }
    }

    /// Whether `candidate` is a rotated copy of the log file named `name`:
    /// `<name>.` followed by digits and dashes (the timestamp and a collision counter).
    static func isRotated(_ candidate: String, of name: String) -> Bool {
        guard candidate.hasPrefix(name + ".") else { return false }
        let suffix = candidate.utf8.dropFirst(name.utf8.count + 1)
        guard let first = suffix.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return suffix.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") }
    }

    /// Where the last `lines` lines of a file begin, found by reading backwards from its end
    /// in chunks (memory: one chunk), and how many lines that is (fewer than `lines` when
    /// the file is shorter).
    ///
    /// A line is counted by its "\n". An unterminated last line is counted only when
    /// `countUnterminated` (a rotated file, which will not grow): in the live file it is
    /// still being written, as the kubelet's `FindTailLineStartIndex` treats it.
    static func tailStart(_ handle: FileHandle, lines: Int, countUnterminated: Bool) throws -> (offset: UInt64, lines: Int) {
        let size = try handle.seekToEnd()
        guard lines > 0, size > 0 else { return (size, 0) }
        try handle.seek(toOffset: size - 1)
        let last = try handle.read(upToCount: 1)?.first
        let unterminated = countUnterminated && last != 10 ? 1 : 0
        // The start is just after the newline that precedes the wanted lines: the
        // (lines - unterminated + 1)-th newline from the end, the final "\n" included.
        var wanted = lines - unterminated + 1
        var end = size
        while end > 0 {
            let start = end >= UInt64(chunkSize) ? end - UInt64(chunkSize) : 0
            try handle.seek(toOffset: start)
            let block = try handle.read(upToCount: Int(end - start)) ?? Data()
            var index = block.endIndex
            while index > block.startIndex {
                index -= 1
                if block[index] == 10 {
                    wanted -= 1
                    if wanted == 0 {
                        return (start + UInt64(index - block.startIndex) + 1, lines)
                    }
                }
            }
            end = start
        }
        // The whole file: every newline counted was a line's end.
        let newlines = lines - unterminated + 1 - wanted
        return (0, newlines + unterminated)
    }

    /// Whether `path` names a different file than `handle` has open (the log was rotated
    /// and conmon has reopened it). False while `path` does not exist.
    static func wasReplaced(_ path: String, openAs handle: FileHandle) -> Bool {
        var opened = stat()
        var named = stat()
        guard fstat(handle.fileDescriptor, &opened) == 0, stat(path, &named) == 0 else { return false }
        return opened.st_ino != named.st_ino || opened.st_dev != named.st_dev
    }
}

/// Splits a file read forward in chunks into lines (without their "\n").
///
/// An unterminated line is carried to the next chunk; one longer than `maxLineLength`
/// (never written by conmon, which splits long output into partial entries) is cut there
/// so a corrupt file cannot grow the carry without bound.
struct LogLineSplitter {
    static let maxLineLength = 1 << 20
    private var carry: [UInt8] = []

    /// Whether an unterminated line is waiting for its end.
    var hasUnterminated: Bool { !carry.isEmpty }

    /// The lines `chunk` completes.
    mutating func lines(in chunk: Data) -> [ArraySlice<UInt8>] {
        var buffer = carry
        buffer.append(contentsOf: chunk)
        var lines: [ArraySlice<UInt8>] = []
        var start = buffer.startIndex
        while let newline = buffer[start...].firstIndex(of: 10) {
            lines.append(buffer[start..<newline])
            start = newline + 1
        }
        if buffer.endIndex - start > Self.maxLineLength {
            lines.append(buffer[start...])
            start = buffer.endIndex
        }
        carry = Array(buffer[start...])
        return lines
    }

    /// The unterminated rest, as a last line (for a file that will not grow).
    mutating func flush() -> ArraySlice<UInt8>? {
        guard !carry.isEmpty else { return nil }
        defer { carry = [] }
        return carry[...]
    }
}
