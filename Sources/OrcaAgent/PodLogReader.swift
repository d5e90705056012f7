import Foundation
import OrcaClient
import Synchronization

/// Reads container logs in the CRI format (`<RFC3339Nano> <stream> <P|F> <text>`) for
/// `kubectl logs`: `container`, `follow`, `tailLines`, `sinceSeconds`/`sinceTime`,
/// `timestamps`, `previous`, `limitBytes` — streamed in chunks, across rotated files
/// (see `ContainerLogReader`), never loaded whole.
struct PodLogReader: PodStreamProvider {
    let paths: AgentPaths
    let clock: @Sendable () -> Date
    /// Whether the container instance with this runtime ID has exited (or is gone): a followed
    /// log ends then, as the kubelet's does.
    var hasExited: @Sendable (String) async -> Bool = { _ in false }
    /// How often a followed log is checked for new lines.
    var pollInterval: Duration = .milliseconds(200)

    struct Entry {
        var timestamp: String
        var text: String
        var partial: Bool
    }

    static func parse(_ line: Substring) -> Entry? {
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return nil }
        return Entry(timestamp: String(parts[0]), text: parts.count > 3 ? String(parts[3]) : "", partial: parts[2] == "P")
    }

    /// One CRI log line as bytes: `<timestamp> <stream> <P|F> <text>`.
    struct RawEntry {
        var timestamp: ArraySlice<UInt8>
        var text: ArraySlice<UInt8>
        var partial: Bool
    }

    /// Parses a CRI log line (without its "\n") as ``parse(_:)`` does, without decoding it.
    static func parse(bytes line: ArraySlice<UInt8>) -> RawEntry? {
        let space = UInt8(ascii: " ")
        guard let afterTimestamp = line.firstIndex(of: space),
              let afterStream = line[(afterTimestamp + 1)...].firstIndex(of: space) else { return nil }
        let tagAndText = line[(afterStream + 1)...]
        let afterTag = tagAndText.firstIndex(of: space)
        let tag = tagAndText[..<(afterTag ?? tagAndText.endIndex)]
        let text = afterTag.map { line[($0 + 1)...] } ?? line[line.endIndex...]
        return RawEntry(timestamp: line[..<afterTimestamp], text: text, partial: tag.elementsEqual(CollectionOfOne(UInt8(ascii: "P"))))
    }

    /// Parses an RFC 3339 time with any number of fraction digits (conmon writes nanoseconds;
    /// `ISO8601DateFormatter` takes at most milliseconds, so the fraction is added separately).
    static func date(_ timestamp: String, formatter: ISO8601DateFormatter = ISO8601DateFormatter()) -> Date? {
        guard let dot = timestamp.firstIndex(of: ".") else { return formatter.date(from: timestamp) }
        let digits = timestamp[timestamp.index(after: dot)...]
        let digitsEnd = digits.firstIndex { !($0.isASCII && $0.isWholeNumber) } ?? timestamp.endIndex
        let fraction = Double("0" + timestamp[dot..<digitsEnd]) ?? 0
        return formatter.date(from: String(timestamp[..<dot]) + String(timestamp[digitsEnd...]))?.addingTimeInterval(fraction)
    }

    /// The last `lines` lines of a container instance's CRI log (rotated files included) as
    /// plain text, cut to the last `maxBytes` bytes — what the kubelet reports for
    /// `FallbackToLogsOnError` (80 lines, 2048 bytes). Reads only the end of the log.
    static func tail(path: String, lines: Int, maxBytes: Int) -> String {
        var options = ContainerLogReader.Options()
        options.tailLines = lines
        let reader = ContainerLogReader(path: path, options: options)
        var out: [UInt8] = []
        while case .output(let bytes) = (try? reader.step()) ?? .end {
            out.append(contentsOf: bytes)
            if out.count > 2 * maxBytes { out.removeFirst(out.count - maxBytes) }
        }
        return String(decoding: out.suffix(maxBytes), as: UTF8.self)
    }

    func logs(pod: JSONValue, query: [String: String]) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        let containers = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let name: String
        if let c = query["container"], !c.isEmpty {
            guard containers.contains(c) || (pod[path: ["spec", "initContainers"]]?.arrayValue ?? []).contains(where: { $0["name"]?.stringValue == c }) else {
                throw APIError.badRequest("container \(c) is not valid for pod \(pod.metadataName ?? "")")
            }
            name = c
        } else if containers.count == 1 {
            name = containers[0]
        } else {
            throw APIError.badRequest("a container name must be specified for pod \(pod.metadataName ?? ""), choose one of: [\(containers.joined(separator: " "))]")
        }
        let statuses = pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []
        let restarts = Int(statuses.first { $0["name"]?.stringValue == name }?["restartCount"]?.intValue ?? 0)
        let previous = query["previous"] == "true"
        if previous && restarts == 0 {
            throw APIError.badRequest("previous terminated container \"\(name)\" in pod \"\(pod.metadataName ?? "")\" not found")
        }
        let dir = (paths.containerLogPath(pod, container: name, attempt: 0) as NSString).deletingLastPathComponent
        // Attempts by their live `<n>.log` or a rotated `<n>.log.<time>` (between a rotation and
        // conmon reopening the log, or after the container exited then, only those exist).
        let attempts = Set(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap { entry -> Int? in
            guard let dot = entry.range(of: ".log") else { return nil }
            let attempt = entry[..<dot.lowerBound]
            guard let n = Int(attempt), entry == "\(attempt).log" || ContainerLogFiles.isRotated(entry, of: "\(attempt).log") else { return nil }
            return n
        }).sorted()
        guard let latest = attempts.last else {
            throw APIError.badRequest("container \"\(name)\" in pod \"\(pod.metadataName ?? "")\" is waiting to start: ContainerCreating")
        }
        let attempt = previous ? (attempts.dropLast().last ?? latest) : latest
        var options = ContainerLogReader.Options()
        options.follow = query["follow"] == "true" && !previous
        options.timestamps = query["timestamps"] == "true"
        options.tailLines = query["tailLines"].flatMap { Int($0) }.map { max($0, 0) }
        options.limitBytes = query["limitBytes"].flatMap { Int($0) }.map { max($0, 1) }
        if let s = query["sinceSeconds"].flatMap({ Double($0) }) { options.since = clock().addingTimeInterval(-s) }
        if let t = query["sinceTime"] { options.since = Self.date(t) }
        let reader = ContainerLogReader(path: "\(dir)/\(attempt).log", options: options)
        let podDirectory = paths.podDirectory(pod.metadataUID ?? "")
        let pollInterval = self.pollInterval
        let containerID = "\((pod.metadataUID ?? "").prefix(13))-\(name)-\(attempt)"
        let hasExited = self.hasExited
        let nextAttempt = "\(dir)/\(attempt + 1).log"
        let drained = Mutex(false)
        // Pulled: the next chunk is read when the client has taken the last one, so a slow
        // client never makes the log pile up in memory.
        return AsyncThrowingStream(unfolding: {
            while true {
                switch try reader.step() {
                case .output(let bytes):
                    return bytes
                case .end:
                    return nil
                case .waiting:
                    // Following: the log ends with its pod, or once its container instance
                    // exited (a newer instance or the exit file) and what it wrote was read.
                    if !FileManager.default.fileExists(atPath: podDirectory) { return nil }
                    if drained.withLock({ $0 }) { return nil }
                    var exited = FileManager.default.fileExists(atPath: nextAttempt)
                    if !exited { exited = await hasExited(containerID) }
                    if exited {
                        drained.withLock { $0 = true }
                        continue
                    }
                    do { try await Task.sleep(for: pollInterval) } catch { return nil }
                }
            }
        })
    }
}
