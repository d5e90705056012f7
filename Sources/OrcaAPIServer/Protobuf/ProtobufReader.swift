import OrcaAPI
/// Reads protobuf wire format: one field (number and raw value) at a time, bounds-checked.
struct ProtobufReader {
    /// A field's value as it lies on the wire; its meaning comes from the schema.
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case lengthDelimited(ArraySlice<UInt8>)
        case fixed32(UInt32)

        var wireTypeName: String {
            switch self {
            case .varint: return "varint"
            case .fixed64: return "fixed64"
            case .lengthDelimited: return "length-delimited"
            case .fixed32: return "fixed32"
            }
        }
    }

    private let bytes: ArraySlice<UInt8>
    private var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var isAtEnd: Bool { index >= bytes.endIndex }

    /// The next field, or nil at the end of the message.
    mutating func next() throws -> (number: Int, value: Value)? {
        if isAtEnd { return nil }
        let key = try readVarint()
        let number = key >> 3
        guard number > 0, number <= 536_870_911 else { throw Self.invalid("field number \(number) out of range") }
        switch key & 7 {
        case 0: return (Int(number), .varint(try readVarint()))
        case 1: return (Int(number), .fixed64(try readFixed(8)))
        case 2:
            let length = try readVarint()
            guard length <= UInt64(bytes.endIndex - index) else {
                throw Self.invalid("field \(number) is \(length) bytes long, but only \(bytes.endIndex - index) remain")
            }
            let start = index
            index += Int(length)
            return (Int(number), .lengthDelimited(bytes[start..<index]))
        case 5: return (Int(number), .fixed32(UInt32(try readFixed(4))))
        case let wire:
            throw Self.invalid("field \(number) has unsupported wire type \(wire)")
        }
    }

    /// A base-128 varint of at most ten bytes.
    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.endIndex else { throw Self.invalid("truncated varint") }
            let byte = bytes[index]
            index += 1
            if shift == 63, byte > 1 { throw Self.invalid("varint overflows 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A little-endian 64-bit value (a packed `double`).
    mutating func readFixed64() throws -> UInt64 { try readFixed(8) }

    /// A little-endian fixed-width integer of `count` bytes.
    private mutating func readFixed(_ count: Int) throws -> UInt64 {
        guard bytes.endIndex - index >= count else { throw Self.invalid("truncated fixed\(count * 8) value") }
        var result: UInt64 = 0
        for i in 0..<count { result |= UInt64(bytes[index + i]) << UInt64(8 * i) }
        index += count
        return result
    }

    static func invalid(_ detail: String) -> APIError {
        APIError.badRequest("the protobuf request body is invalid: \(detail)")
    }
}
