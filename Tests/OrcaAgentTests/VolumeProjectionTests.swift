import Foundation
import OrcaCore
import Testing
@testable import OrcaAgent

/// How configMap and secret data become a volume's payload: byte-exact base64 decoding and
/// the key-to-path projection with items, modes and optional sources.
struct VolumeProjectionTests {
    @Test func base64DecodesByteExactAndIgnoresLineBreaks() {
        #expect(EnvironmentResolver.base64Bytes("AP+ACmhp") == [0x00, 0xFF, 0x80, 0x0A, 0x68, 0x69])
        #expect(EnvironmentResolver.base64Bytes("AP+A\r\nCmhp\n") == [0x00, 0xFF, 0x80, 0x0A, 0x68, 0x69])
        #expect(EnvironmentResolver.base64Bytes("") == [])
        #expect(EnvironmentResolver.base64Bytes("not base64!") == nil)
    }

    @Test func everyKeyWithTheDefaultModeWithoutItems() throws {
        let payload = try VolumeManager.project(["a": [1], "b": [0, 255]], items: nil, defaultMode: 0o640, optional: false) { "missing \($0)" }
        let expected: VolumeManager.Payload = ["a": .init(data: [1], mode: 0o640), "b": .init(data: [0, 255], mode: 0o640)]
        #expect(payload == expected)
    }

    @Test func itemsChoosePathsAndModes() throws {
        let items = try JSONValue.parse(#"[{"key": "a", "path": "dir/a.txt", "mode": 256}, {"key": "b", "path": "b"}]"#).arrayValue
        let payload = try VolumeManager.project(["a": [1], "b": [2], "c": [3]], items: items, defaultMode: 0o644, optional: false) { "missing \($0)" }
        let expected: VolumeManager.Payload = ["dir/a.txt": .init(data: [1], mode: 0o400), "b": .init(data: [2], mode: 0o644)]
        #expect(payload == expected)
    }

    @Test func aMissingKeyIsAnErrorUnlessOptional() throws {
        let items = try JSONValue.parse(#"[{"key": "a", "path": "a"}, {"key": "gone", "path": "gone"}]"#).arrayValue
        #expect(throws: VolumeManager.VolumeError.self) {
            try VolumeManager.project(["a": [1]], items: items, defaultMode: 0o644, optional: false) { "references non-existent secret key: \($0)" }
        }
        let payload = try VolumeManager.project(["a": [1]], items: items, defaultMode: 0o644, optional: true) { "missing \($0)" }
        let expected: VolumeManager.Payload = ["a": .init(data: [1], mode: 0o644)]
        #expect(payload == expected)
    }

    @Test func modesOutOfRangeReachTheWriterAndAreRefusedThere() throws {
        let huge = try JSONValue.parse("9223372036854775807")
        #expect(VolumeManager.mode(huge, default: 0o644) == Int.max)
        #expect(VolumeManager.mode(nil, default: 0o644) == 0o644)
        #expect(throws: OrcaError.self) {
            try AtomicWriter.validate(["f": .init(data: [], mode: VolumeManager.mode(huge, default: 0o644))])
        }
    }
}
