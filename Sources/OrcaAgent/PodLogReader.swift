import Foundation
import OrcaClient

/// Reads container logs in the CRI format (`<RFC3339Nano> <stream> <P|F> <text>`) for
/// `kubectl logs`: `container`, `follow`, `tailLines`, `sinceSeconds`/`sinceTime`,
/// `timestamps`, `previous`, `limitBytes`.
struct PodLogReader: PodStreamProvider {
    let paths: AgentPaths
    let clock: @Sendable () -> Date

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

    /// The last `lines` lines of a CRI log as plain text (for FallbackToLogsOnError).
    static func tail(path: String, lines: Int, maxBytes: Int) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        let entries = text.split(separator: "\n").compactMap(parse)
        let out = entries.suffix(lines).map { $0.text + ($0.partial ? "" : "\n") }.joined()
        return String(out.suffix(maxBytes))
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
        let attempts = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap { Int($0.replacingOccurrences(of: ".log", with: "")) }.sorted()
        guard let latest = attempts.last else {
            throw APIError.badRequest("container \"\(name)\" in pod \"\(pod.metadataName ?? "")\" is waiting to start: ContainerCreating")
        }
        let attempt = previous ? (attempts.dropLast().last ?? latest) : latest
        let path = "\(dir)/\(attempt).log"
        let follow = query["follow"] == "true" && !previous
        let timestamps = query["timestamps"] == "true"
        let tailLines = query["tailLines"].flatMap { Int($0) }.map { max($0, 0) }
        let limitBytes = query["limitBytes"].flatMap { Int($0) }.map { max($0, 1) }
        var since: Date?
        if let s = query["sinceSeconds"].flatMap({ Double($0) }) { since = clock().addingTimeInterval(-s) }
        if let t = query["sinceTime"] { since = ISO8601DateFormatter().date(from: t) }
        let podUID = pod.metadataUID ?? ""
        let podsRoot = paths.podsRoot
        return AsyncThrowingStream { continuation in
            let task = Task {
                guard let handle = FileHandle(forReadingAtPath: path) else { continuation.finish(); return }
                defer { try? handle.close() }
                var buffer = Data()
                var sent = 0
                func render(_ entries: [Entry]) -> [UInt8] {
                    var out: [UInt8] = []
                    let f = ISO8601DateFormatter()
                    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                    for e in entries {
                        if let since, let d = f.date(from: e.timestamp) ?? ISO8601DateFormatter().date(from: e.timestamp), d < since { continue }
                        if timestamps { out += Array((e.timestamp + " ").utf8) }
                        out += Array(e.text.utf8)
                        if !e.partial { out.append(10) }
                    }
                    return out
                }
                func emit(_ bytes: [UInt8]) -> Bool {
                    var b = bytes
                    if let limitBytes {
                        if sent >= limitBytes { return false }
                        b = Array(b.prefix(limitBytes - sent))
                    }
                    sent += b.count
                    if !b.isEmpty { continuation.yield(b) }
                    return limitBytes.map { sent < $0 } ?? true
                }
                buffer = handle.readDataToEndOfFile()
                var text = String(decoding: buffer, as: UTF8.self)
                var entries: [Entry] = []
                if let nl = text.lastIndex(of: "\n") {
                    entries = text[..<nl].split(separator: "\n").compactMap(PodLogReader.parse)
                    text = String(text[text.index(after: nl)...])
                }
                if let tailLines { entries = Array(entries.suffix(tailLines)) }
                guard emit(render(entries)) else { continuation.finish(); return }
                while follow, !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    let more = handle.readDataToEndOfFile()
                    if more.isEmpty {
                        if !FileManager.default.fileExists(atPath: "\(podsRoot)/\(podUID)") { break }
                        continue
                    }
                    text += String(decoding: more, as: UTF8.self)
                    if let nl = text.lastIndex(of: "\n") {
                        let lines = text[..<nl].split(separator: "\n").compactMap(PodLogReader.parse)
                        text = String(text[text.index(after: nl)...])
                        guard emit(render(lines)) else { break }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
