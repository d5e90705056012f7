import Foundation

/// One read of a container instance's CRI log for `kubectl logs`: the rotated files that
/// the request reaches (oldest first), then the live file, streamed in chunks.
///
/// Memory stays bounded whatever the log's size: files are read in 64 KiB chunks, and
/// `tailLines=N` finds its start by reading backwards from the end until N lines are
/// found (across rotated files when the live one is shorter), then reads forward.
/// `sinceTime`, `timestamps` and `limitBytes` apply as the lines go by. When following,
/// a rotation (conmon reopening the log under the same name) is noticed and the new
/// file is read after what was left in the old one.
///
/// Sans-IO about time: ``step()`` never waits; the caller sleeps on ``Step/waiting``.
/// Not thread-safe: one consumer reads it. `@unchecked Sendable` so that the consumer's task can
/// own it: the log stream calls `step()` from one task, one call after another.
final class ContainerLogReader: @unchecked Sendable {
    struct Options: Sendable {
        var follow = false
        var timestamps = false
        var tailLines: Int?
        var limitBytes: Int?
        var since: Date?
    }

    /// What one step produced.
    enum Step: Equatable {
        /// Log text to send.
        case output([UInt8])
        /// Following: nothing new yet.
        case waiting
        /// Everything asked for was sent.
        case end
    }

    /// One open file to read, from where its handle stands.
    private struct Source {
        var handle: FileHandle
        /// A rotated file (it does not grow): its unterminated last line is still a line.
        var final: Bool
    }

    /// The live log file (`<attempt>.log`).
    let path: String
    let options: Options
    /// Files still to read; the first is being read.
    private var sources: [Source]
    private var splitter = LogLineSplitter()
    private var sent = 0
    private var done = false
    private let formatter = ISO8601DateFormatter()

    /// Opens the files the request needs and finds where reading starts.
    init(path: String, options: Options) {
        self.path = path
        self.options = options
        let files = ContainerLogFiles.rotated(of: path) + [path]
        var sources: [Source] = []
        if let tailLines = options.tailLines {
            // Newest first, until enough lines are found.
            var needed = max(tailLines, 0)
            for (index, file) in files.enumerated().reversed() {
                let live = index == files.count - 1
                guard live || needed > 0 else { break }
                guard let handle = FileHandle(forReadingAtPath: file),
                      let start = try? ContainerLogFiles.tailStart(handle, lines: needed, countUnterminated: !live),
                      (try? handle.seek(toOffset: start.offset)) != nil else { continue }
                sources.insert(Source(handle: handle, final: !live), at: 0)
                needed -= start.lines
            }
        } else {
            for (index, file) in files.enumerated() {
                guard let handle = FileHandle(forReadingAtPath: file) else { continue }
                sources.append(Source(handle: handle, final: index < files.count - 1))
            }
        }
        self.sources = sources
    }

    /// Reads on until there is output, nothing new (following), or the end.
    func step() throws -> Step {
        while !done {
            if let limit = options.limitBytes, sent >= limit {
                done = true
                break
            }
            guard let source = sources.first else {
                // Following a log whose live file did not exist yet (or vanished): pick it up.
                if options.follow {
                    guard let handle = FileHandle(forReadingAtPath: path) else { return .waiting }
                    sources.append(Source(handle: handle, final: false))
                    continue
                }
                done = true
                break
            }
            let chunk = try source.handle.read(upToCount: ContainerLogFiles.chunkSize) ?? Data()
            if !chunk.isEmpty {
                let out = render(splitter.lines(in: chunk))
                if !out.isEmpty { return .output(clip(out)) }
                continue
            }
            // The end of this file.
            if source.final || !options.follow {
                // A live file's unterminated line is still being written: not shown, as before.
                let rest = source.final ? splitter.flush() : nil
                splitter = LogLineSplitter()
                sources.removeFirst()
                if let rest {
                    let out = render([rest])
                    if !out.isEmpty { return .output(clip(out)) }
                }
                continue
            }
            // Following the live file at its end. Once conmon has reopened the log (a new file
            // under the name), the old one gets no more writes: finish it, then read the new one.
            if ContainerLogFiles.wasReplaced(path, openAs: source.handle) {
                sources[0].final = true
                if let handle = FileHandle(forReadingAtPath: path) {
                    sources.append(Source(handle: handle, final: false))
                }
                continue
            }
            return .waiting
        }
        sources = []
        return .end
    }

    /// The text of `lines` as `kubectl logs` shows it.
    private func render(_ lines: [ArraySlice<UInt8>]) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines {
            guard let entry = PodLogReader.parse(bytes: line) else { continue }
            if let since = options.since,
               let date = PodLogReader.date(String(decoding: entry.timestamp, as: UTF8.self), formatter: formatter),
               date < since { continue }
            if options.timestamps {
                out.append(contentsOf: entry.timestamp)
                out.append(UInt8(ascii: " "))
            }
            out.append(contentsOf: entry.text)
            if !entry.partial { out.append(10) }
        }
        return out
    }

    /// `bytes`, cut at `limitBytes`; counts what is sent.
    private func clip(_ bytes: [UInt8]) -> [UInt8] {
        guard let limit = options.limitBytes, bytes.count > limit - sent else {
            sent += bytes.count
            return bytes
        }
        let out = Array(bytes.prefix(limit - sent))
        sent = limit
        return out
    }
}
