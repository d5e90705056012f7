import Foundation
import Testing
@testable import OrcaAgent

/// The hand-written HTTP/2 and protobuf pieces of the grpc probe.
struct GRPCHealthCheckTests {
    /// RFC 7541 C.1: 10 and 1337 with a 5-bit prefix, 42 with an 8-bit one.
    @Test func hpackIntegers() {
        #expect(GRPCHealthCheck.integer(10, prefixBits: 5) == [0x0A])
        #expect(GRPCHealthCheck.integer(1337, prefixBits: 5) == [0x1F, 0x9A, 0x0A])
        #expect(GRPCHealthCheck.integer(126, prefixBits: 7) == [0x7E])
        #expect(GRPCHealthCheck.integer(127, prefixBits: 7) == [0x7F, 0x00])
        #expect(GRPCHealthCheck.integer(300, prefixBits: 8) == [0xAC, 0x02], "a protobuf varint")
        #expect(GRPCHealthCheck.string("te") == [0x02, 0x74, 0x65])
    }

    @Test func framesCarryLengthTypeFlagsAndStream() {
        #expect(GRPCHealthCheck.frame(type: 0x4, flags: 0x1, stream: 0, []) == [0, 0, 0, 4, 1, 0, 0, 0, 0])
        #expect(GRPCHealthCheck.frame(type: 0x0, flags: 0x1, stream: 1, [7, 8]) == [0, 0, 2, 0, 1, 0, 0, 0, 1, 7, 8])
    }

    @Test(arguments: [([UInt8]([0x08, 0x01]), 1), ([0x08, 0x02], 2), ([], 0), ([0x12, 0x02, 0x61, 0x62, 0x08, 0x03], 3)])
    func healthStatusIsField1(_ bytes: [UInt8], _ status: Int) {
        #expect(GRPCHealthCheck.statusField(bytes) == status)
    }
}
