import Foundation
import NIOCore
import OrcaAPI
import Testing
@testable import OrcaAPIServer
@testable import OrcaStreams

/// The sans-IO parts of the pod streams: SPDY framing and header compression (port-forward),
/// the exec query and the channel protocol's final status.
@Suite struct PodStreamProtocolTests {
    /// Two header blocks of one zlib stream with SPDY/3's dictionary and sync flushes, as
    /// kubectl's port-forward sends them (the second is byte for byte what kubectl 1.32 sent).
    static let errorStreamBlock: [UInt8] = [
        0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x02, 0x25, 0x3a, 0x70, 0x3a, 0x2b, 0x29, 0x4a, 0x4d, 0xcc, 0x85, 0x16,
        0x25, 0xac, 0xa9, 0xa0, 0x80, 0x86, 0x14, 0xcb, 0x45, 0xa0, 0x24, 0xcc, 0x64, 0x61, 0x00, 0x24, 0x39, 0x8b,
        0x20, 0x91, 0x98, 0x09, 0x4a, 0xdc, 0x8c, 0x06, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
    ]
    static let dataStreamBlock: [UInt8] = [0xc2, 0xaa, 0x15, 0x54, 0x0a, 0x25, 0x12, 0xd2, 0x09, 0x00, 0x00, 0x00, 0xff, 0xff]

    @Test func theOlderChannelProtocolsAreChosenAndFramed() {
        #expect(PodStreamSession.chooseProtocol("exec", offered: ["base64.channel.k8s.io"]) == "base64.channel.k8s.io")
        #expect(PodStreamSession.chooseProtocol("exec", offered: ["channel.k8s.io", "v4.channel.k8s.io"]) == "channel.k8s.io")
        #expect(PodStreamSession.chooseProtocol("attach", offered: ["v4.base64.channel.k8s.io"]) == "v4.base64.channel.k8s.io")
        #expect(PodStreamSession.chooseProtocol("exec", offered: ["binary.k8s.io"]) == nil)
        // Binary `[channel, data…]` and base64 text `"<digit><base64>"` read the same.
        let binary = RemoteCommandSession.frame(.binary(ByteBuffer(bytes: [0, 104, 105])))
        let text = RemoteCommandSession.frame(.text("0" + Data("hi".utf8).base64EncodedString()))
        #expect(binary?.0 == .stdin && binary?.1 == Array("hi".utf8))
        #expect(text?.0 == .stdin && text?.1 == Array("hi".utf8))
        #expect(RemoteCommandSession.frame(.text("4" + Data(#"{"Width":80,"Height":24}"#.utf8).base64EncodedString()))?.0 == .resize)
        #expect(RemoteCommandSession.frame(.text("x")) == nil && RemoteCommandSession.frame(.text("0!!")) == nil)
    }

    @Test func dictionaryHasTheSpecifiedID() {
        #expect(SPDYHeaderCodec.dictionary.count == 1423)
        #expect(Inflater.adler32(SPDYHeaderCodec.dictionary) == 0xe3c6_a7c2)
    }

    @Test func decodesHeaderBlocksOfOneStream() throws {
        var codec = SPDYHeaderCodec()
        #expect(try codec.decode(Self.errorStreamBlock) == ["streamtype": "error", "port": "80", "requestid": "0"])
        #expect(try codec.decode(Self.dataStreamBlock) == ["streamtype": "data", "port": "80", "requestid": "0"])
    }

    @Test func rejectsAnotherDictionary() {
        var inflater = Inflater(dictionary: Array("not the dictionary".utf8))
        #expect(throws: Inflater.Failure.wrongDictionary) { try inflater.inflate(Self.errorStreamBlock) }
    }

    @Test func encodedBlocksDecode() throws {
        var writer = SPDYHeaderCodec()
        var reader = SPDYHeaderCodec()
        #expect(try reader.decode(writer.encode([])) == [:])
        let long = String(repeating: "x", count: 70_000)
        #expect(try reader.decode(writer.encode([("Port", "8080"), ("big", long)])) == ["port": "8080", "big": long])
    }

    @Test func inflatesFixedAndStoredBlocks() throws {
        // zlib.compress(b"hello hello hello", 9) and a stored block.
        var fixed = Inflater()
        #expect(try fixed.inflate([0x78, 0xda, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40, 0x90, 0x00, 0x3a, 0x2e, 0x06, 0x7d])
                == Array("hello hello hello".utf8))
        var stored = Inflater()
        #expect(try stored.inflate([0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff, 0x68, 0x69]) == Array("hi".utf8))
    }

    @Test func framesRoundTripThroughTheParserInPieces() throws {
        let frames: [SPDYFrame] = [
            .synStream(streamID: 1, flags: 0, headerBlock: Self.errorStreamBlock),
            .synReply(streamID: 1, flags: 0, headerBlock: [1, 2, 3]),
            .data(streamID: 3, flags: SPDYFrame.flagFin, payload: Array(repeating: 7, count: 100_000)),
            .rstStream(streamID: 3, status: 5),
            .ping(id: 1),
            .goAway(lastStreamID: 3, status: 0),
            .other(type: 9),
        ]
        let wire = frames.flatMap(\.bytes)
        var parser = SPDYFrame.Parser()
        var parsed: [SPDYFrame] = []
        var offset = 0
        while offset < wire.count {
            let n = min(777, wire.count - offset)
            parser.append(Array(wire[offset..<(offset + n)]))
            offset += n
            while let f = try parser.next() { parsed.append(f) }
        }
        #expect(parsed == frames)
    }

    @Test func synReplyHasSPDY3Layout() {
        #expect(SPDYFrame.synReply(streamID: 3, flags: 0, headerBlock: [0xaa]).bytes == [0x80, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 3, 0xaa])
        #expect(SPDYFrame.data(streamID: 1, flags: 1, payload: []).bytes == [0, 0, 0, 1, 1, 0, 0, 0])
    }

    @Test(arguments: [
        ("command=sh&command=-c&command=echo+a%20b&container=web&stdout=true&stderr=true", PodExecOptions(container: "web", command: ["sh", "-c", "echo a b"])),
        ("command=cat&stdin=true&stdout=true&tty=true&stderr=true", PodExecOptions(command: ["cat"], stdin: true, stdout: true, stderr: false, tty: true)),
        ("container=&stdout=1", PodExecOptions(stderr: false)),
    ])
    func execQuery(query: String, expected: PodExecOptions) {
        #expect(PodExecOptions(rawQuery: query) == expected)
    }

    @Test func finalStatusCarriesTheExitCode() {
        #expect(RemoteCommandSession.status(exitCode: 0, command: ["true"]) == RemoteCommandSession.success)
        let failed = RemoteCommandSession.status(exitCode: 7, command: ["sh", "-c", "exit 7"])
        #expect(failed["status"] == "Failure")
        #expect(failed["reason"] == "NonZeroExitCode")
        #expect(failed[path: ["details", "causes"]] == [["reason": "ExitCode", "message": "7"]])
        #expect(RemoteCommandSession.terminalSize(Array(#"{"Width":120,"Height":40}"#.utf8)) == TerminalSize(width: 120, height: 40))
    }
}
