import Foundation
@testable import OrcaAgent
import Testing

/// The kubelet's `/logs/`: a directory as Go's file server lists it, a file as its bytes, and
/// nothing outside the root.
struct NodeLogFilesTests {
    func root() throws -> String {
        let dir = NSTemporaryDirectory() + "orca-nodelogs-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/logs/apt", withIntermediateDirectories: true)
        try Data("booted\n".utf8).write(to: URL(fileURLWithPath: dir + "/logs/syslog"))
        try Data("<b>\n".utf8).write(to: URL(fileURLWithPath: dir + "/logs/a<b>.log"))
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: dir + "/outside"))
        try fm.createSymbolicLink(atPath: dir + "/logs/escape", withDestinationPath: dir + "/outside")
        return dir
    }

    @Test func directoriesAreListedAndFilesServed() throws {
        let dir = try root()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = NodeLogFiles(root: dir + "/logs")
        guard case .listing(let html) = try files.answer([]) else { Issue.record("no listing"); return }
        #expect(html.hasPrefix("<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n"))
        #expect(html.contains("<a href=\"apt/\">apt/</a>\n<a href=\"escape\">escape</a>\n<a href=\"syslog\">syslog</a>\n</pre>\n"))
        #expect(html.contains("<a href=\"a%3Cb%3E.log\">a&lt;b&gt;.log</a>"))
        #expect(try files.answer(["syslog"]) == .file(URL(fileURLWithPath: dir + "/logs/syslog").resolvingSymlinksInPath().path))
        #expect(try files.answer(["apt"]) == .listing("<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n</pre>\n"))
    }

    @Test func nothingOutsideTheRoot() throws {
        let dir = try root()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = NodeLogFiles(root: dir + "/logs")
        for segments in [["..", "outside"], ["escape"], ["apt", "..", "..", "outside"], ["apt/../../outside"], ["apt/../../logs/../outside"], ["missing"]] {
            #expect(throws: (any Error).self, "\(segments)") { try files.answer(segments) }
        }
    }
}
