import Foundation
import Glibc
import OrcaCore
import Testing
@testable import OrcaAgent

/// The content-volume writer: the `..data` swap, no-op rewrites, byte-exact files, modes and
/// refused paths — each test in its own temporary directory.
struct AtomicWriterTests {
    typealias File = AtomicWriter.FileProjection

    /// A fresh directory (remove `root` afterwards) and a volume path in it, not yet created.
    func temporaryVolume() throws -> (root: String, volume: String) {
        let root = "\(FileManager.default.temporaryDirectory.path)/orca-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return (root, root + "/volume")
    }

    func link(_ path: String) -> String? { AtomicWriter.readLink(path) }
    func bytes(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { Array($0) } }
    func entries(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }
    func text(_ s: String, mode: Int = 0o644) -> File { File(data: Array(s.utf8), mode: mode) }

    @Test func firstWriteCreatesTheDataLinkAndTopLevelLinks() throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = AtomicWriter(targetDirectory: dir, now: { Date(timeIntervalSince1970: 1_700_000_000) })
        #expect(try writer.write(["key": text("value"), "nested/deep/file": text("inner")]))
        let data = try #require(link("\(dir)/..data"))
        #expect(data.hasPrefix("..2023_11_14_22_13_20."), "\(data)")
        #expect(data.count > "..2023_11_14_22_13_20.".count, "a random part follows the time")
        #expect(link("\(dir)/key") == "..data/key")
        #expect(link("\(dir)/nested") == "..data/nested")
        #expect(bytes("\(dir)/key") == Array("value".utf8))
        #expect(bytes("\(dir)/nested/deep/file") == Array("inner".utf8))
        #expect(entries(dir) == ["..data", data, "key", "nested"].sorted(), "no temporary names are left")
    }

    @Test func theSamePayloadAgainChangesNothing() throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = AtomicWriter(targetDirectory: dir)
        let payload = ["a": text("1"), "b/c": text("2", mode: 0o600)]
        #expect(try writer.write(payload))
        let data = link("\(dir)/..data")
        #expect(try !writer.write(payload))
        #expect(try !writer.write(payload))
        #expect(link("\(dir)/..data") == data, "the same timestamped directory stays")
        // A top-level link lost in an interrupted write is repaired without a new directory.
        unlink("\(dir)/a")
        #expect(try writer.write(payload))
        #expect(link("\(dir)/a") == "..data/a")
        #expect(link("\(dir)/..data") == data)
    }

    @Test func aChangedPayloadSwapsAndRemovesTheOldDirectoryAndStaleLinks() throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = AtomicWriter(targetDirectory: dir)
        #expect(try writer.write(["keep": text("old"), "gone": text("x"), "sub/gone": text("y")]))
        let old = try #require(link("\(dir)/..data"))
        #expect(try writer.write(["keep": text("new"), "added": text("z")]))
        let new = try #require(link("\(dir)/..data"))
        #expect(new != old)
        #expect(AtomicWriter.lstat("\(dir)/\(old)") == nil, "the previous data directory is removed")
        #expect(AtomicWriter.lstat("\(dir)/gone") == nil)
        #expect(AtomicWriter.lstat("\(dir)/sub") == nil)
        #expect(bytes("\(dir)/keep") == Array("new".utf8))
        #expect(bytes("\(dir)/added") == Array("z".utf8))
        #expect(entries(dir) == ["..data", new, "added", "keep"].sorted())
    }

    @Test func aModeChangeAloneIsAChange() throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = AtomicWriter(targetDirectory: dir)
        #expect(try writer.write(["f": text("same", mode: 0o644)]))
        #expect(try writer.write(["f": text("same", mode: 0o400)]))
        #expect(try !writer.write(["f": text("same", mode: 0o400)]))
    }

    @Test func binaryBytesRoundTripExactly() throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let blob: [UInt8] = [0x00, 0xFF, 0x80, 0x0A, 0x68, 0x69, 0x00, 0xC3, 0x28, 0xFE]
        let large = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let writer = AtomicWriter(targetDirectory: dir)
        #expect(try writer.write(["blob": File(data: blob, mode: 0o644), "large": File(data: large, mode: 0o644),
                                  "empty": File(data: [], mode: 0o644)]))
        #expect(bytes("\(dir)/blob") == blob)
        #expect(bytes("\(dir)/large") == large)
        #expect(bytes("\(dir)/empty") == [UInt8]())
        #expect(try !writer.write(["blob": File(data: blob, mode: 0o644), "large": File(data: large, mode: 0o644),
                                   "empty": File(data: [], mode: 0o644)]))
        var changed = blob
        changed[1] = 0xFE
        #expect(try writer.write(["blob": File(data: changed, mode: 0o644)]))
        #expect(bytes("\(dir)/blob") == changed)
    }

    /// Modes are set exactly, whatever the umask takes away (0o777 survives a 022 umask).
    @Test func modesAreApplied() throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = AtomicWriter(targetDirectory: dir)
        #expect(try writer.write(["private": text("p", mode: 0o400), "shared": text("s", mode: 0o644),
                                  "tool/run": text("#!/bin/sh", mode: 0o755), "none": text("", mode: 0),
                                  "wide": text("w", mode: 0o777)]))
        func mode(_ path: String) -> Int? { AtomicWriter.lstat("\(dir)/..data/\(path)").map { Int($0.st_mode & 0o7777) } }
        #expect(mode("private") == 0o400)
        #expect(mode("shared") == 0o644)
        #expect(mode("tool/run") == 0o755)
        #expect(mode("none") == 0)
        #expect(mode("wide") == 0o777)
        #expect(mode("tool") == 0o755)
    }

    @Test(arguments: ["", "/etc/passwd", "..", "../escape", "a/../../b", "a/..", "..data", "..data/x", "..hidden",
                      "./..data", "a\u{0}b", "/\u{301}etc", "../\u{301}x", ".", "./", String(repeating: "n", count: 256)])
    func badPathsAreRefused(_ path: String) throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = AtomicWriter(targetDirectory: dir)
        #expect(throws: OrcaError.self) { try writer.write(["ok": text("fine"), path: text("bad")]) }
        #expect(link("\(dir)/..data") == nil, "nothing was written")
    }

    @Test(arguments: [-1, 0o1000, 0o4755, Int.max, Int.min])
    func badModesAreRefused(_ mode: Int) throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: OrcaError.self) { try AtomicWriter(targetDirectory: dir).write(["f": text("x", mode: mode)]) }
    }

    @Test func aFileThatIsAlsoADirectoryOrADuplicateIsRefused() throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = AtomicWriter(targetDirectory: dir)
        #expect(throws: OrcaError.self) { try writer.write(["a": text("1"), "a/b": text("2")]) }
        #expect(throws: OrcaError.self) { try writer.write(["a/b": text("1"), "./a//b": text("2")]) }
        #expect(try writer.write(["a/b": text("1"), "a/c": text("2")]))
    }

    @Test func leftoversOfAnEarlierWriterAreRemoved() throws {
        let (root, dir) = try temporaryVolume()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(dir)/..1712345678901234", withIntermediateDirectories: true)
        symlink("..1712345678901234", "\(dir)/..data_tmp")
        #expect(try AtomicWriter(targetDirectory: dir).write(["k": text("v")]))
        let data = try #require(link("\(dir)/..data"))
        #expect(entries(dir) == ["..data", data, "k"].sorted())
    }
}
