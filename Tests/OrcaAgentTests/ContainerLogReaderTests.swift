import Foundation
import OrcaCore
import Testing
@testable import OrcaAgent

/// `kubectl logs` from CRI log files: streamed in chunks, tails found from the end, and
/// rotated files read before the live one.
@Suite struct ContainerLogReaderTests {
    /// `line <n>\n` for each n.
    static func text(_ numbers: ClosedRange<Int>) -> String {
        numbers.map { "line \($0)\n" }.joined()
    }

    static func numbered(_ numbers: ClosedRange<Int>) -> [String] {
        numbers.map { "line \($0)" }
    }

    /// Everything a non-following reader of `path` produces.
    static func read(_ path: String, _ configure: (inout ContainerLogReader.Options) -> Void = { _ in }) throws -> String {
        var options = ContainerLogReader.Options()
        configure(&options)
        let reader = ContainerLogReader(path: path, options: options)
        var out: [UInt8] = []
        while case .output(let bytes) = try reader.step() { out += bytes }
        return String(decoding: out, as: UTF8.self)
    }

    static func collect(_ stream: AsyncThrowingStream<[UInt8], any Error>) async throws -> String {
        var out: [UInt8] = []
        for try await chunk in stream { out += chunk }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func tailSpansTheRotatedFileAndTheCurrentOne() async throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let paths = AgentPaths(podsRoot: dir.file("pods"), logRoot: dir.file("logs"))
        let pod: JSONValue = ["metadata": ["name": "web", "namespace": "default", "uid": "uid-1"],
                              "spec": ["containers": [["name": "c"]]]]
        let live = paths.containerLogPath(pod, container: "c", attempt: 0)
        try FileManager.default.createDirectory(atPath: (live as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try CRILog.write(CRILog.lines(Self.numbered(1...5)), to: live + ".20240101-000000")
        try CRILog.write(CRILog.lines(Self.numbered(6...7), start: 5), to: live)
        let reader = PodLogReader(paths: paths, clock: { Date() })

        #expect(try await Self.collect(reader.logs(pod: pod, query: ["tailLines": "4"])) == Self.text(4...7))
        #expect(try await Self.collect(reader.logs(pod: pod, query: ["tailLines": "2"])) == Self.text(6...7))
        #expect(try await Self.collect(reader.logs(pod: pod, query: ["tailLines": "100"])) == Self.text(1...7))
        #expect(try await Self.collect(reader.logs(pod: pod, query: [:])) == Self.text(1...7))
        #expect(try await Self.collect(reader.logs(pod: pod, query: ["tailLines": "0"])) == "")
    }

    @Test func rotatedFilesAreReadOldestFirstAndOthersIgnored() throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let live = dir.file("0.log")
        try CRILog.write(CRILog.lines(Self.numbered(1...3)), to: live + ".20240101-000000")
        // A rotated file whose last line lost its "\n" still counts that line.
        try CRILog.write(String(CRILog.lines(Self.numbered(4...6), start: 3).dropLast()), to: live + ".20240101-000010")
        try CRILog.write(CRILog.lines(["not a rotated file"]), to: live + ".tmp")
        try CRILog.write(CRILog.lines(["another attempt"]), to: dir.file("1.log"))
        try CRILog.write(CRILog.lines(Self.numbered(7...8), start: 6), to: live)

        #expect(ContainerLogFiles.rotated(of: live).map { ($0 as NSString).lastPathComponent }
            == ["0.log.20240101-000000", "0.log.20240101-000010"])
        let all = try Self.read(live)
        let last3 = try Self.read(live) { $0.tailLines = 3 }
        let last6 = try Self.read(live) { $0.tailLines = 6 }
        #expect(all == Self.text(1...8))
        #expect(last3 == Self.text(6...8))
        #expect(last6 == Self.text(3...8))
    }

    @Test func tailOfALargeFileReturnsItsLastLines() throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("0.log")
        let padding = String(repeating: "x", count: 60)
        let count = 50_000  // about 5 MB: many chunks
        try CRILog.write(CRILog.lines((1...count).map { "line \($0) \(padding)" }), to: path)

        let last3 = try Self.read(path) { $0.tailLines = 3 }
        let last1 = try Self.read(path) { $0.tailLines = 1 }
        let expected3 = ((count - 2)...count).map { "line \($0) \(padding)\n" }.joined()
        #expect(last3 == expected3)
        #expect(last1 == "line \(count) \(padding)\n")
        let all = try Self.read(path)
        #expect(all.utf8.count == (1...count).reduce(0) { $0 + "line \($1) \(padding)\n".utf8.count })
    }

    @Test func partialEntriesJoinAndAnUnterminatedLastLineWaits() throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("0.log")
        let t = CRILog.time(0)
        try CRILog.write("\(t) stdout P hel\n\(t) stdout F lo\n\(t) stderr F oops\n\(t) stdout F still being writ", to: path)

        let all = try Self.read(path)
        let last = try Self.read(path) { $0.tailLines = 1 }
        #expect(all == "hello\noops\n")
        #expect(last == "oops\n")
    }

    @Test func timestampsSinceAndLimitBytes() throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("0.log")
        try CRILog.write(CRILog.lines(Self.numbered(1...5)), to: path)

        let stamped = try Self.read(path) { $0.timestamps = true; $0.tailLines = 1 }
        let since = try Self.read(path) { $0.since = PodLogReader.date(CRILog.time(3)) }
        let limited = try Self.read(path) { $0.limitBytes = 9 }
        let limitedTail = try Self.read(path) { $0.limitBytes = 9; $0.tailLines = 2 }
        #expect(stamped == "\(CRILog.time(4)) line 5\n")
        #expect(since == Self.text(4...5))
        #expect(limited == "line 1\nli")
        #expect(limitedTail == "line 4\nli")
    }

    @Test func rfc3339TimesWithNanosecondsParse() {
        let date = PodLogReader.date("2024-01-01T00:00:01.500000000Z")
        #expect(date == Date(timeIntervalSince1970: 1_704_067_201.5))
        #expect(PodLogReader.date("2024-01-01T00:00:01Z") == Date(timeIntervalSince1970: 1_704_067_201))
        #expect(PodLogReader.date("not a time") == nil)
    }

    @Test func followingContinuesInTheReopenedFileAfterARotation() throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("0.log")
        let rotated = path + ".20240101-000000"
        try CRILog.write(CRILog.lines(["one"]), to: path)
        let reader = ContainerLogReader(path: path, options: .init(follow: true))

        #expect(try reader.step() == .output(Array("one\n".utf8)))
        #expect(try reader.step() == .waiting)
        try FileManager.default.moveItem(atPath: path, toPath: rotated)
        #expect(try reader.step() == .waiting, "conmon has not reopened the log yet")
        try CRILog.append(CRILog.lines(["two"], start: 1), to: rotated)  // written before the reopen
        try CRILog.write(CRILog.lines(["three"], start: 2), to: path)    // the reopened log

        var out: [UInt8] = []
        while case .output(let bytes) = try reader.step() { out += bytes }
        #expect(String(decoding: out, as: UTF8.self) == "two\nthree\n")
        try CRILog.append(CRILog.lines(["four"], start: 3), to: path)
        #expect(try reader.step() == .output(Array("four\n".utf8)))
        #expect(try reader.step() == .waiting)
    }
}
