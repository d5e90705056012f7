import NIOCore

/// Splits a DNS-over-TCP byte stream into messages: each is preceded by its length in two
/// bytes (RFC 1035 §4.2.2, RFC 7766), so a frame is at most 65535 bytes and the buffer never
/// holds more than one partial frame.
struct DNSTCPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A partial frame at the end of the stream is dropped.
        return .needMoreData
    }

    /// `message` with its 2-byte length prefix; nil when longer than 65535 bytes.
    static func frame(_ message: [UInt8]) -> ByteBuffer? {
        guard message.count <= Int(UInt16.max) else { return nil }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.count + 2)
        buffer.writeInteger(UInt16(message.count))
        buffer.writeBytes(message)
        return buffer
    }
}
