import Foundation
import Testing
@testable import OrcaAgent

/// Termination messages are read as the kubelet reads them, never whole.
@Suite struct TerminationMessageTests {
    @Test func aLargeMessageIsCutToItsLast4096Bytes() throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("termination-log")
        let text = (0..<100_000).map { String($0 % 10) }.joined()
        try CRILog.write(text, to: path)

        let message = TerminationMessage.read(path: path, logPath: dir.file("0.log"), policy: "File", exitCode: 1)
        #expect(message.utf8.count == TerminationMessage.maxBytes)
        #expect(message == String(text.suffix(4096)))
    }

    @Test func aShortMessageIsReadWhole() throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("termination-log")
        try CRILog.write("done\n", to: path)
        #expect(TerminationMessage.read(path: path, logPath: dir.file("0.log"), policy: "File", exitCode: 0) == "done\n")
        #expect(TerminationMessage.read(path: dir.file("missing"), logPath: dir.file("0.log"), policy: "File", exitCode: 1) == "")
    }

    @Test func fallbackToLogsTakesTheLast80Lines() throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("termination-log")
        let log = dir.file("0.log")
        try CRILog.write("", to: path)
        try CRILog.write(CRILog.lines((1...200).map { "l\($0)" }), to: log)

        let message = TerminationMessage.read(path: path, logPath: log, policy: "FallbackToLogsOnError", exitCode: 1)
        #expect(message == (121...200).map { "l\($0)\n" }.joined())
        #expect(TerminationMessage.read(path: path, logPath: log, policy: "FallbackToLogsOnError", exitCode: 0) == "",
                "only a failed container falls back to its log")
        #expect(TerminationMessage.read(path: path, logPath: log, policy: "File", exitCode: 1) == "")
    }

    @Test func fallbackToLogsKeepsTheLast2048Bytes() throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("termination-log")
        let log = dir.file("0.log")
        try CRILog.write("", to: path)
        let lines = (1...200).map { "\($0) " + String(repeating: "y", count: 100) }
        try CRILog.write(CRILog.lines(lines), to: log)

        let message = TerminationMessage.read(path: path, logPath: log, policy: "FallbackToLogsOnError", exitCode: 2)
        #expect(message.utf8.count == TerminationMessage.maxLogBytes)
        #expect(message == String(lines.map { $0 + "\n" }.joined().suffix(2048)))
    }
}
