/// A zlib (RFC 1950) / DEFLATE (RFC 1951) decompressor for one continuous stream that arrives
/// in flushed pieces — SPDY's header blocks, each ending at a sync flush — with an optional
/// preset dictionary. Small and slow (bit by bit); meant for header blocks, not bulk data.
struct Inflater {
    enum Failure: Error, Equatable { case badHeader, wrongDictionary, badBlock, badCode, badDistance, truncated }

    private let dictionary: [UInt8]
    private var window: [UInt8]
    private var sawHeader = false
    private var finished = false

    init(dictionary: [UInt8] = []) {
        self.dictionary = dictionary
        self.window = dictionary
    }

    /// Decompresses one flushed piece: every complete block in `input`.
    mutating func inflate(_ input: [UInt8]) throws -> [UInt8] {
        var bits = BitReader(input)
        if !sawHeader {
            guard let cmf = bits.byte(), let flg = bits.byte(), cmf & 0x0f == 8, (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0 else {
                throw Failure.badHeader
            }
            if flg & 0x20 != 0 {
                var id: UInt32 = 0
                for _ in 0..<4 { guard let b = bits.byte() else { throw Failure.truncated }; id = id << 8 | UInt32(b) }
                guard id == Self.adler32(dictionary) else { throw Failure.wrongDictionary }
            }
            sawHeader = true
        }
        let start = window.count
        while !finished, bits.hasMoreThanPadding {
            guard let final = bits.bits(1), let type = bits.bits(2) else { throw Failure.truncated }
            switch type {
            case 0: try stored(&bits)
            case 1: try codes(&bits, Self.fixedLengths, Self.fixedDistances)
            case 2:
                let (lengths, distances) = try Self.dynamicTables(&bits)
                try codes(&bits, lengths, distances)
            default: throw Failure.badBlock
            }
            if final == 1 { finished = true }
        }
        let out = Array(window[start...])
        if window.count > 65536 { window.removeFirst(window.count - 32768) }
        return out
    }

    private mutating func stored(_ bits: inout BitReader) throws {
        bits.alignToByte()
        guard let l0 = bits.byte(), let l1 = bits.byte(), let n0 = bits.byte(), let n1 = bits.byte() else { throw Failure.truncated }
        let len = Int(l0) | Int(l1) << 8
        guard len == ~(Int(n0) | Int(n1) << 8) & 0xffff else { throw Failure.badBlock }
        for _ in 0..<len {
            guard let b = bits.byte() else { throw Failure.truncated }
            window.append(b)
        }
    }

    private mutating func codes(_ bits: inout BitReader, _ lengths: Huffman, _ distances: Huffman) throws {
        while true {
            let symbol = try lengths.decode(&bits)
            if symbol < 256 {
                window.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let i = symbol - 257
                guard i < 29, let extra = bits.bits(Self.lengthExtra[i]) else { throw Failure.badCode }
                let length = Self.lengthBase[i] + extra
                let d = try distances.decode(&bits)
                guard d < 30, let dextra = bits.bits(Self.distanceExtra[d]) else { throw Failure.badDistance }
                let distance = Self.distanceBase[d] + dextra
                guard distance <= window.count else { throw Failure.badDistance }
                let from = window.count - distance
                for k in 0..<length { window.append(window[from + k]) }
            }
        }
    }

    private static func dynamicTables(_ bits: inout BitReader) throws -> (Huffman, Huffman) {
        guard let hlit = bits.bits(5), let hdist = bits.bits(5), let hclen = bits.bits(4) else { throw Failure.truncated }
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var codeLengths = [Int](repeating: 0, count: 19)
        for i in 0..<(hclen + 4) {
            guard let l = bits.bits(3) else { throw Failure.truncated }
            codeLengths[order[i]] = l
        }
        let lencode = try Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        let total = hlit + 257 + hdist + 1
        while lengths.count < total {
            let symbol = try lencode.decode(&bits)
            switch symbol {
            case 0..<16: lengths.append(symbol)
            case 16:
                guard let last = lengths.last, let r = bits.bits(2) else { throw Failure.badCode }
                lengths += Array(repeating: last, count: 3 + r)
            case 17:
                guard let r = bits.bits(3) else { throw Failure.truncated }
                lengths += Array(repeating: 0, count: 3 + r)
            default:
                guard let r = bits.bits(7) else { throw Failure.truncated }
                lengths += Array(repeating: 0, count: 11 + r)
            }
        }
        guard lengths.count == total else { throw Failure.badCode }
        return (try Huffman(lengths: Array(lengths[0..<(hlit + 257)])), try Huffman(lengths: Array(lengths[(hlit + 257)...])))
    }

    /// A canonical Huffman code, decoded bit by bit (RFC 1951 §3.2.2).
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) throws {
            for l in lengths { counts[l] += 1 }
            var offsets = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, l) in lengths.enumerated() where l != 0 {
                symbols[offsets[l]] = symbol
                offsets[l] += 1
            }
        }

        func decode(_ bits: inout BitReader) throws -> Int {
            var code = 0, first = 0, index = 0
            for len in 1...15 {
                guard let b = bits.bits(1) else { throw Failure.truncated }
                code |= b
                let count = counts[len]
                if code - count < first { return symbols[index + (code - first)] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure.badCode
        }
    }

    static let fixedLengths = try! Huffman(lengths: Array(repeating: 8, count: 144) + Array(repeating: 9, count: 112)
                                           + Array(repeating: 7, count: 24) + Array(repeating: 8, count: 8))
    static let fixedDistances = try! Huffman(lengths: Array(repeating: 5, count: 30))
    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                               2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Adler-32 (RFC 1950), the dictionary's ID in a zlib header.
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }
}

/// Reads bits least-significant first, as DEFLATE packs them.
struct BitReader {
    private let bytes: [UInt8]
    private var position = 0
    private var bitBuffer = 0
    private var bitCount = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// More input than the padding bits of the current byte.
    var hasMoreThanPadding: Bool { position < bytes.count }

    mutating func bits(_ n: Int) -> Int? {
        while bitCount < n {
            guard position < bytes.count else { return nil }
            bitBuffer |= Int(bytes[position]) << bitCount
            position += 1
            bitCount += 8
        }
        let value = bitBuffer & ((1 << n) - 1)
        bitBuffer >>= n
        bitCount -= n
        return value
    }

    mutating func alignToByte() {
        bitBuffer = 0
        bitCount = 0
    }

    /// A whole byte (after `alignToByte`, or when no bits are pending).
    mutating func byte() -> UInt8? {
        if bitCount >= 8 { return bits(8).map(UInt8.init) }
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }
}
